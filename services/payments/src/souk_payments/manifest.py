"""How the local stack and tools run the payments service (entry point ``souk.services``)."""

from souk_common.service import ServiceManifest
from souk_contracts.topology import SERVICES

MANIFEST = ServiceManifest(
    name="payments",
    port=SERVICES["payments"].port,
    subscribes=SERVICES["payments"].subscribes,
    app_factory="souk_payments.main:create_app",
    migrations_package="souk_payments",
)
