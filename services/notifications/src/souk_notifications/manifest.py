"""How the local stack and tools run the notifications service."""

from souk_common.service import ServiceManifest
from souk_contracts.topology import SERVICES

MANIFEST = ServiceManifest(
    name="notifications",
    port=SERVICES["notifications"].port,
    subscribes=SERVICES["notifications"].subscribes,
    app_factory="souk_notifications.main:create_app",
    migrations_package="souk_notifications",
)
