"""How the local stack and tools find the auth service (entry point ``souk.services``)."""

from __future__ import annotations

from souk_common.service import ServiceManifest
from souk_contracts import SERVICES

MANIFEST = ServiceManifest(
    name="auth",
    port=SERVICES["auth"].port,
    subscribes=(),
    app_factory="souk_auth.main:create_app",
    migrations_package="souk_auth",
    seed="souk_auth.seed:seed_demo_data",
)
