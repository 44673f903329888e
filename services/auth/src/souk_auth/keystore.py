"""The signing keys of this auth deployment, kept in its database and shared by all replicas.

On start-up (and lazily, should the database not be migrated yet) each replica takes a
transaction-scoped advisory lock and then either installs the configured key (``AUTH_SIGNING_KEY``
or ``AUTH_SIGNING_KEY_FILE``) as the active one, or loads the active key from the database, or
generates and stores one when there is none. The lock makes "generate if missing" race-free
when several replicas start at once; a partial unique index backs it up (one active key).

Rotation: when a different key becomes active, the previous one stays published (so tokens it
signed still verify) until ``retired_at`` = now + access token lifetime + one hour of grace for
replicas still signing with it during a rolling update. The store is also the
:class:`~souk_common.security.KeySource` auth verifies its own tokens with.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk_auth.keys import (
    SigningKey,
    generate_signing_key,
    jwks_document,
    load_private_key_pem,
    private_key_pem,
    public_jwk,
)
from souk_auth.models import SigningKeyRow
from souk_common.errors import ServiceUnavailableError, UnauthorizedError
from souk_common.logging import get_logger
from souk_common.security import keys_from_jwks

log = get_logger(__name__)
# Arbitrary constant naming "the signing key decision" among advisory locks of this database.
SIGNING_KEY_LOCK_ID = 0x50_55_4B_41  # "SUKA"
RETIREMENT_GRACE = timedelta(hours=1)
JWKS_MAX_AGE_SECONDS = 60.0
UNKNOWN_KID_RELOAD_INTERVAL_SECONDS = 5.0


class KeyStore:
    """Active signing key plus every published public key, cached from the database."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        configured: SigningKey | None,
        access_token_ttl_seconds: int,
    ) -> None:
        self.sessions = sessions
        self.configured = configured
        self.retire_after = timedelta(seconds=access_token_ttl_seconds) + RETIREMENT_GRACE
        self._active: SigningKey | None = None
        self._jwks: list[dict[str, Any]] = []
        self._public: dict[str, Any] = {}
        self._loaded_at = float("-inf")
        self._lock = asyncio.Lock()

    @classmethod
    def from_pem(
        cls, sessions: async_sessionmaker[AsyncSession], pem: str | None, ttl: int
    ) -> KeyStore:
        """Build a store using the configured PEM (``None``: the database's own key)."""
        configured = load_private_key_pem(pem) if pem is not None else None
        return cls(sessions, configured=configured, access_token_ttl_seconds=ttl)

    async def initialise(self) -> None:
        """Decide the active key (race-safe across replicas) and load the published keys."""
        async with self._lock:
            try:
                async with self.sessions() as session, session.begin():
                    await session.execute(select(func.pg_advisory_xact_lock(SIGNING_KEY_LOCK_ID)))
                    if self.configured is not None:
                        active = await self._install(session, self.configured, stored=False)
                    else:
                        active = await self._active_or_generate(session)
                    await self._load_published(session)
            except SQLAlchemyError as error:
                raise ServiceUnavailableError("signing keys are not available") from error
            self._active = active
            log.info("signing_key_ready", kid=active.kid, configured=self.configured is not None)

    async def signing_key(self) -> SigningKey:
        """Return the key that signs new access tokens."""
        if self._active is None:
            await self.initialise()
        assert self._active is not None
        return self._active

    async def public_key(self, kid: str) -> Any:
        """Return the verification key for ``kid`` (KeySource protocol); 401 when unknown."""
        if self._active is None:
            await self.initialise()
        stale = time.monotonic() - self._loaded_at >= UNKNOWN_KID_RELOAD_INTERVAL_SECONDS
        if kid not in self._public and stale:
            await self.reload()
        try:
            return self._public[kid]
        except KeyError:
            raise UnauthorizedError(
                "token signed with an unknown key", reason="token_invalid"
            ) from None

    async def jwks(self) -> dict[str, Any]:
        """Return the JWKS document of every non-retired key (cached for a minute)."""
        if self._active is None:
            await self.initialise()
        elif time.monotonic() - self._loaded_at >= JWKS_MAX_AGE_SECONDS:
            await self.reload()
        return jwks_document(list(self._jwks))

    async def reload(self) -> None:
        """Reload the published keys from the database (another replica may have rotated)."""
        async with self._lock:
            try:
                async with self.sessions() as session:
                    await self._load_published(session)
            except SQLAlchemyError as error:
                raise ServiceUnavailableError("signing keys are not available") from error

    async def _load_published(self, session: AsyncSession) -> None:
        now = datetime.now(UTC)
        rows = await session.scalars(
            select(SigningKeyRow)
            .where(or_(SigningKeyRow.retired_at.is_(None), SigningKeyRow.retired_at > now))
            .order_by(SigningKeyRow.active.desc(), SigningKeyRow.created_at.desc())
        )
        self._jwks = [dict(row.public_jwk) for row in rows]
        self._public = keys_from_jwks(jwks_document(self._jwks))
        self._loaded_at = time.monotonic()

    async def _active_or_generate(self, session: AsyncSession) -> SigningKey:
        row = await session.scalar(select(SigningKeyRow).where(SigningKeyRow.active))
        if row is not None and row.private_key_pem is not None:
            return load_private_key_pem(row.private_key_pem)
        # No key yet, or the active one came from configuration that is gone: make our own.
        key = generate_signing_key()
        log.info("signing_key_generated", kid=key.kid)
        return await self._install(session, key, stored=True)

    async def _install(self, session: AsyncSession, key: SigningKey, *, stored: bool) -> SigningKey:
        """Make ``key`` the active key, retiring (after a grace period) the previous one."""
        now = datetime.now(UTC)
        existing = await session.get(SigningKeyRow, key.kid)
        if existing is not None and existing.active:
            return key
        await session.execute(
            update(SigningKeyRow)
            .where(SigningKeyRow.active)
            .values(active=False, retired_at=now + self.retire_after)
        )
        if existing is None:
            session.add(
                SigningKeyRow(
                    kid=key.kid,
                    private_key_pem=private_key_pem(key) if stored else None,
                    public_jwk=public_jwk(key.public_key, key.kid),
                    active=True,
                )
            )
        else:
            existing.active, existing.retired_at = True, None
        await session.flush()
        return key
