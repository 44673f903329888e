"""How the local stack and tools run the orders service (entry point ``souk.services``)."""

from souk_common.service import ServiceManifest
from souk_contracts.topology import SERVICES

MANIFEST = ServiceManifest(
    name="orders",
    port=SERVICES["orders"].port,
    subscribes=SERVICES["orders"].subscribes,
    app_factory="souk_orders.main:create_app",
    migrations_package="souk_orders",
)
