"""Demo accounts for the local stack: ``souk-auth seed`` (idempotent).

The accounts go through the registration use case, so each new one emits ``user.registered``
like any other (notifications and the journeys see them); the admin is registered with the
admin grant that only an admin's request gets over HTTP. Existing accounts are left alone.
"""

from __future__ import annotations

from pydantic import SecretStr

from souk_auth.config import AuthSettings
from souk_auth.exceptions import EmailTakenError
from souk_auth.models import tables
from souk_auth.passwords import Passwords
from souk_auth.repository import UserRepository
from souk_auth.schemas import RegisterRequest, Role
from souk_auth.service import register_user
from souk_common.correlation import correlation_scope
from souk_common.db import Database
from souk_common.events.outbox import Outbox
from souk_common.logging import get_logger

log = get_logger(__name__)
DEMO_PASSWORD = "souk-demo-password"  # noqa: S105 - documented demo credential (DESIGN.md)
DEMO_USERS: tuple[tuple[str, str, Role], ...] = (
    ("buyer@souk.test", "Demo Buyer", "buyer"),
    ("seller@souk.test", "Demo Seller", "seller"),
    ("admin@souk.test", "Demo Admin", "admin"),
)


async def seed_demo_data(settings: AuthSettings) -> None:
    """Create the demo buyer, seller and admin unless they exist."""
    database = Database(settings.sqlalchemy_url, pool_size=1)
    passwords = Passwords.from_settings(settings)
    outbox = Outbox(tables, settings.service_name, settings.stream_prefix)
    try:
        with correlation_scope(None):
            for email, display_name, role in DEMO_USERS:
                request = RegisterRequest(
                    email=email,
                    password=SecretStr(DEMO_PASSWORD),
                    display_name=display_name,
                    role=role,
                )
                try:
                    async with database.sessions() as session, session.begin():
                        if await UserRepository(session).get_by_email(email) is not None:
                            continue
                        await register_user(
                            session, outbox, passwords, request, may_grant_admin=True
                        )
                except EmailTakenError:
                    continue  # created concurrently by another seeding process
                log.info("demo_user_created", role=role)
    finally:
        await database.dispose()
