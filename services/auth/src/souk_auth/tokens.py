"""Access tokens (ES256 JWTs) and opaque refresh tokens.

The claims match what :class:`souk_common.security.TokenVerifier` checks in every service:
header ``alg=ES256`` with ``kid``; ``iss=souk-auth``, ``aud=souk``, ``sub`` (user id),
``role``, ``typ=access``, ``iat``, ``exp`` and a unique ``jti``. Refresh tokens are 256 random
bits; only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import jwt

from souk_auth.keys import SigningKey
from souk_common.security import TOKEN_ALGORITHM, TOKEN_AUDIENCE, TOKEN_ISSUER

ACCESS_TOKEN_TYPE = "access"  # noqa: S105 - the `typ` claim value
REFRESH_TOKEN_BYTES = 32


class SigningKeyProvider(Protocol):
    """Gives the key that signs new tokens (see :class:`souk_auth.keystore.KeyStore`)."""

    async def signing_key(self) -> SigningKey:
        """Return the active signing key."""
        ...


def access_token_claims(
    *,
    user_id: uuid.UUID,
    role: str,
    issued_at: datetime,
    ttl_seconds: int,
    jti: str | None = None,
) -> dict[str, Any]:
    """Return the claims of an access token for ``user_id`` valid for ``ttl_seconds``."""
    iat = int(issued_at.timestamp())
    return {
        "iss": TOKEN_ISSUER,
        "aud": TOKEN_AUDIENCE,
        "sub": str(user_id),
        "role": role,
        "typ": ACCESS_TOKEN_TYPE,
        "iat": iat,
        "exp": iat + ttl_seconds,
        "jti": jti or uuid.uuid4().hex,
    }


def sign_access_token(claims: dict[str, Any], key: SigningKey) -> str:
    """Sign ``claims`` with ``key`` (ES256, ``kid`` in the header)."""
    return jwt.encode(claims, key.private_key, algorithm=TOKEN_ALGORITHM, headers={"kid": key.kid})


def new_refresh_token() -> str:
    """Return a fresh opaque refresh token (URL-safe, 256 bits of entropy)."""
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


def hash_refresh_token(token: str) -> str:
    """Return the SHA-256 hex digest stored for ``token`` (fast hash: the token is random)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TokenPair:
    """What a login or refresh returns."""

    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int


class TokenIssuer:
    """Signs access tokens with the active key; knows both token lifetimes."""

    def __init__(
        self, keys: SigningKeyProvider, *, access_ttl_seconds: int, refresh_ttl_seconds: int
    ) -> None:
        self.keys = keys
        self.access_ttl_seconds = access_ttl_seconds
        self.refresh_ttl_seconds = refresh_ttl_seconds

    async def access_token(self, user_id: uuid.UUID, role: str, now: datetime) -> str:
        """Return a signed access token for the user."""
        claims = access_token_claims(
            user_id=user_id, role=role, issued_at=now, ttl_seconds=self.access_ttl_seconds
        )
        return sign_access_token(claims, await self.keys.signing_key())
