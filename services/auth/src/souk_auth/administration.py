"""Admin use cases: list, inspect, change and deactivate accounts.

Accounts are deactivated rather than deleted: orders, products and payments in other
services keep pointing at the user id, and a deactivated account cannot log in or refresh
(its refresh tokens are revoked at once; access tokens already issued lapse within their
short lifetime). An admin cannot demote or deactivate themselves, so the last admin cannot
lock everybody out by mistake.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from souk_auth.exceptions import SelfLockoutError
from souk_auth.models import User
from souk_auth.repository import RefreshTokenRepository, UserRepository
from souk_auth.schemas import UserUpdate
from souk_auth.service import utcnow
from souk_common.errors import NotFoundError
from souk_common.logging import get_logger
from souk_common.security import Principal

log = get_logger(__name__)


async def list_users(
    session: AsyncSession, *, role: str | None, email: str | None, limit: int, offset: int
) -> tuple[Sequence[User], int]:
    """Return one page of users matching the filters and the total number of matches."""
    return await UserRepository(session).page(role=role, email=email, limit=limit, offset=offset)


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    """Return the user or raise 404."""
    user = await UserRepository(session).get(user_id)
    if user is None:
        raise NotFoundError("No user with this id.")
    return user


async def update_user(
    session: AsyncSession, actor: Principal, user_id: uuid.UUID, changes: UserUpdate
) -> User:
    """Apply an admin's changes to a user; deactivation revokes their refresh tokens."""
    user = await get_user(session, user_id)
    if user.id == actor.user_id and (
        (changes.role is not None and changes.role != "admin") or changes.is_active is False
    ):
        raise SelfLockoutError("You cannot remove your own admin role or deactivate yourself.")
    if changes.role is not None:
        user.role = changes.role
    if changes.display_name is not None:
        user.display_name = changes.display_name
    if changes.is_active is not None:
        user.is_active = changes.is_active
        if not changes.is_active:
            await RefreshTokenRepository(session).revoke_for_user(user.id, utcnow())
    await session.flush()
    await session.refresh(user)
    log.info(
        "user_updated",
        user_id=str(user.id),
        by=str(actor.user_id),
        fields=sorted(changes.model_dump(exclude_unset=True)),
    )
    return user


async def deactivate_user(session: AsyncSession, actor: Principal, user_id: uuid.UUID) -> None:
    """Deactivate a user (the ``DELETE`` of the API)."""
    await update_user(session, actor, user_id, UserUpdate(is_active=False))
