"""Souk's local stack: the whole marketplace on one machine, no Kubernetes needed.

``souk-dev up`` provisions a database and role per service and the streams with their
consumer groups (the same provisioning code the operator runs), applies each service's
migrations, starts every installed service as its own process on its port, seeds demo data and
stops everything cleanly on Ctrl-C. Services join by declaring a ``souk.services`` entry point.
"""

from souk_devstack.config import StackConfig
from souk_devstack.stack import LocalStack, RunningService

__all__ = ["LocalStack", "RunningService", "StackConfig"]
