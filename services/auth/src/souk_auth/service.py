"""Use cases of the auth service: register, log in, refresh, log out, look up oneself.

Routes, the seed command and tests call these with a session whose transaction they own; a
use case raises a :mod:`souk_auth.exceptions` error or returns plain results. Admin user
management lives in :mod:`souk_auth.administration`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from souk_auth.exceptions import (
    AccountDisabledError,
    EmailTakenError,
    InvalidCredentialsError,
    InvalidRefreshTokenError,
    RefreshTokenReusedError,
)
from souk_auth.metrics import USERS_REGISTERED
from souk_auth.models import User
from souk_auth.passwords import Passwords
from souk_auth.repository import RefreshTokenRepository, UserRepository
from souk_auth.schemas import RegisterRequest
from souk_auth.throttling import LoginThrottle
from souk_auth.tokens import TokenIssuer, TokenPair, hash_refresh_token, new_refresh_token
from souk_common.db import on_commit
from souk_common.errors import ForbiddenError, UnauthorizedError
from souk_common.events.outbox import Outbox
from souk_common.logging import get_logger
from souk_common.security import Principal
from souk_common.telemetry import annotate
from souk_contracts import UserRegisteredV1

log = get_logger(__name__)


def utcnow() -> datetime:
    """Return the current time in UTC (one place to read the clock)."""
    return datetime.now(UTC)


async def register_user(
    session: AsyncSession,
    outbox: Outbox,
    passwords: Passwords,
    request: RegisterRequest,
    *,
    may_grant_admin: bool,
) -> User:
    """Create an account and stage ``user.registered`` in the same transaction."""
    if request.role == "admin" and not may_grant_admin:
        raise ForbiddenError("Only an admin can create an admin account.")
    users = UserRepository(session)
    if await users.get_by_email(request.email) is not None:
        raise EmailTakenError("An account with this email already exists.")
    password_hash = await passwords.hash(request.password.get_secret_value())
    user = await users.add(
        User(
            id=uuid.uuid4(),
            email=request.email,
            password_hash=password_hash,
            display_name=request.display_name,
            role=request.role,
            is_active=True,
        )
    )
    payload = UserRegisteredV1(
        user_id=user.id, email=user.email, display_name=user.display_name, role=request.role
    )
    await outbox.add(session, payload)
    on_commit(session, USERS_REGISTERED.labels(user.role).inc)
    annotate(user_id=user.id)
    log.info("user_registered", user_id=str(user.id), role=user.role)
    return user


@dataclass(frozen=True)
class IssuedPair:
    """A token pair and the id of its refresh token row."""

    pair: TokenPair
    refresh_id: uuid.UUID


async def _issue_pair(
    session: AsyncSession, issuer: TokenIssuer, user: User, family_id: uuid.UUID, now: datetime
) -> IssuedPair:
    refresh_token = new_refresh_token()
    row = await RefreshTokenRepository(session).add(
        user_id=user.id,
        family_id=family_id,
        token_hash=hash_refresh_token(refresh_token),
        issued_at=now,
        expires_at=now + timedelta(seconds=issuer.refresh_ttl_seconds),
    )
    access_token = await issuer.access_token(user.id, user.role, now)
    pair = TokenPair(
        access_token=access_token,
        refresh_token=refresh_token,
        expires_in=issuer.access_ttl_seconds,
        refresh_expires_in=issuer.refresh_ttl_seconds,
    )
    return IssuedPair(pair, row.id)


async def log_in(
    session: AsyncSession,
    passwords: Passwords,
    throttle: LoginThrottle,
    issuer: TokenIssuer,
    *,
    email: str,
    password: str,
    client_address: str,
) -> TokenPair:
    """Check credentials (throttled) and start a new refresh token family."""
    await throttle.check(email, client_address)
    user = await UserRepository(session).get_by_email(email)
    # Unknown email: verify against a dummy hash, so it costs as much as a wrong password.
    valid = await passwords.verify(user.password_hash if user else None, password)
    if user is None or not valid:
        await throttle.record_failure(email, client_address)
        log.info("login_failed", reason="invalid_credentials")
        raise InvalidCredentialsError()
    await throttle.clear_account(email)
    if not user.is_active:
        log.info("login_refused", user_id=str(user.id), reason="account_disabled")
        raise AccountDisabledError("This account is disabled.")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = await passwords.hash(password)
        log.info("password_rehashed", user_id=str(user.id))
    now = utcnow()
    # Housekeeping bounded by one user's rows: the table does not grow without limit.
    await RefreshTokenRepository(session).delete_expired_for_user(user.id, now)
    issued = await _issue_pair(session, issuer, user, uuid.uuid4(), now)
    annotate(user_id=user.id)
    log.info("login_succeeded", user_id=str(user.id))
    return issued.pair


async def refresh_session(session: AsyncSession, issuer: TokenIssuer, token: str) -> TokenPair:
    """Rotate a refresh token: mark it used and return a new pair in the same family.

    Presenting a token that was already used means it leaked (or a client misbehaves): the
    whole family is revoked, so the attacker's and the victim's newer tokens both stop
    working, and the user has to log in again.
    """
    now = utcnow()
    tokens = RefreshTokenRepository(session)
    row = await tokens.get_for_update(hash_refresh_token(token))
    if row is None:
        raise InvalidRefreshTokenError("The refresh token is not recognised.")
    if row.used_at is not None:
        revoked = await tokens.revoke_family(row.family_id, now)
        # Commit now: the error response below would otherwise roll the revocation back.
        await session.commit()
        log.warning(
            "refresh_token_reused",
            user_id=str(row.user_id),
            family_id=str(row.family_id),
            revoked=revoked,
        )
        raise RefreshTokenReusedError("This refresh token was already used; log in again.")
    if row.revoked_at is not None:
        raise InvalidRefreshTokenError("The refresh token has been revoked.")
    if row.expires_at <= now:
        raise InvalidRefreshTokenError("The refresh token has expired.")
    user = await UserRepository(session).get(row.user_id)
    if user is None or not user.is_active:
        raise InvalidRefreshTokenError("The account is disabled.")
    issued = await _issue_pair(session, issuer, user, row.family_id, now)
    row.used_at, row.replaced_by = now, issued.refresh_id
    return issued.pair


async def log_out(session: AsyncSession, token: str | None) -> None:
    """Revoke the family of ``token``; unknown or missing tokens are ignored (idempotent)."""
    if not token:
        return
    tokens = RefreshTokenRepository(session)
    row = await tokens.get(hash_refresh_token(token))
    if row is not None:
        await tokens.revoke_family(row.family_id, utcnow())
        log.info("logged_out", user_id=str(row.user_id))


async def current_user(session: AsyncSession, principal: Principal) -> User:
    """Return the caller's account; 401 when it was deleted or disabled since the token."""
    user = await UserRepository(session).get(principal.user_id)
    if user is None or not user.is_active:
        raise UnauthorizedError("This account no longer exists or is disabled.")
    return user
