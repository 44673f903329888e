"""How the local stack and tools run the catalog service (entry point ``souk.services``)."""

from souk_common.service import ServiceManifest
from souk_contracts.topology import SERVICES

MANIFEST = ServiceManifest(
    name="catalog",
    port=SERVICES["catalog"].port,
    subscribes=SERVICES["catalog"].subscribes,
    app_factory="souk_catalog.main:create_app",
    migrations_package="souk_catalog",
    seed="souk_catalog.seed:seed_demo_catalog",
    # The demo products belong to auth's demo seller, who must exist first.
    seed_after=("auth",),
)
