"""Data access for users and refresh tokens; use cases never write SQL themselves.

Every method works inside the caller's session and transaction, so a use case decides what
commits together.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from souk_auth.exceptions import EmailTakenError
from souk_auth.models import RefreshToken, User
from souk_common.errors import ConflictError


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class UserRepository:
    """Users of the auth database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID) -> User | None:
        """Return the user with ``user_id``, if any."""
        return await self.session.get(User, user_id)

    async def get_by_email(self, email: str) -> User | None:
        """Return the user with ``email`` (case-insensitive), if any."""
        return (
            await self.session.scalars(select(User).where(func.lower(User.email) == email.lower()))
        ).one_or_none()

    async def add(self, user: User) -> User:
        """Insert ``user``; raises :class:`EmailTakenError` when the email exists already."""
        try:
            async with self.session.begin_nested():
                self.session.add(user)
        except IntegrityError as error:
            if "ux_users_email_lower" in str(error.orig):
                raise EmailTakenError("An account with this email already exists.") from None
            # Not chained: the original's message carries the row's parameters (the hash).
            raise ConflictError("The account could not be stored.") from None
        await self.session.refresh(user)
        return user

    async def page(
        self, *, role: str | None, email: str | None, limit: int, offset: int
    ) -> tuple[Sequence[User], int]:
        """Return one page of users (newest first) matching the filters, and the total."""
        query = select(User)
        if role is not None:
            query = query.where(User.role == role)
        if email:
            pattern = f"%{_escape_like(email.lower())}%"
            query = query.where(func.lower(User.email).like(pattern, escape="\\"))
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = await self.session.scalars(
            query.order_by(User.created_at.desc(), User.id).limit(limit).offset(offset)
        )
        return rows.all(), int(total or 0)


class RefreshTokenRepository:
    """Refresh tokens, stored by hash."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        *,
        user_id: uuid.UUID,
        family_id: uuid.UUID,
        token_hash: str,
        issued_at: datetime,
        expires_at: datetime,
    ) -> RefreshToken:
        """Insert a refresh token and return its row."""
        row = RefreshToken(
            id=uuid.uuid4(),
            user_id=user_id,
            family_id=family_id,
            token_hash=token_hash,
            issued_at=issued_at,
            expires_at=expires_at,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def get_for_update(self, token_hash: str) -> RefreshToken | None:
        """Return the token with ``token_hash``, locking its row until the transaction ends.

        Two refreshes racing with the same token serialise here: the second sees the first
        one's ``used_at`` and is treated as reuse.
        """
        return (
            await self.session.scalars(
                select(RefreshToken)
                .where(RefreshToken.token_hash == token_hash)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).one_or_none()

    async def get(self, token_hash: str) -> RefreshToken | None:
        """Return the token with ``token_hash`` without locking it."""
        return (
            await self.session.scalars(
                select(RefreshToken).where(RefreshToken.token_hash == token_hash)
            )
        ).one_or_none()

    async def revoke_family(self, family_id: uuid.UUID, now: datetime) -> int:
        """Revoke every live token of a family; returns how many were revoked."""
        result = await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def delete_expired_for_user(self, user_id: uuid.UUID, now: datetime) -> None:
        """Delete a user's expired tokens (they can no longer be used nor reused)."""
        await self.session.execute(
            delete(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.expires_at < now)
            .execution_options(synchronize_session=False)
        )

    async def revoke_for_user(self, user_id: uuid.UUID, now: datetime) -> int:
        """Revoke every live token of a user (deactivation)."""
        result = await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)
