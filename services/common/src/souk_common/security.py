"""Access-token verification: JWTs signed with an asymmetric key, verified with a cached JWKS.

Services other than auth fetch ``AUTH_JWKS_URL`` once and keep the keys; a token whose ``kid``
is unknown triggers one refetch (rate-limited), which is how key rotation reaches them. The
token is read from ``Authorization: Bearer`` or the ``access_token`` httpOnly cookie.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Protocol
from uuid import UUID

import httpx
import jwt
from fastapi import Depends, Request
from jwt.algorithms import ECAlgorithm

from souk_common.errors import ForbiddenError, ServiceUnavailableError, UnauthorizedError

ACCESS_TOKEN_COOKIE = "access_token"  # noqa: S105 - a cookie name, not a secret
TOKEN_ALGORITHM = "ES256"  # noqa: S105
TOKEN_ISSUER = "souk-auth"  # noqa: S105
TOKEN_AUDIENCE = "souk"  # noqa: S105
ROLES = ("buyer", "seller", "admin")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, as the access token describes them."""

    user_id: UUID
    role: str

    @property
    def is_admin(self) -> bool:
        """Whether the caller is an admin."""
        return self.role == "admin"


class KeySource(Protocol):
    """Gives the public key for a ``kid``."""

    async def public_key(self, kid: str) -> Any:
        """Return the verification key for ``kid`` or raise :class:`UnauthorizedError`."""
        ...


class JwksKeySource:
    """Public keys from a JWKS URL, cached; refetched on an unknown ``kid`` at most every N s."""

    def __init__(
        self, url: str, client: httpx.AsyncClient, *, min_refetch_interval: float = 10.0
    ) -> None:
        self.url = url
        self.client = client
        self.min_refetch_interval = min_refetch_interval
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def _refresh(self) -> None:
        try:
            response = await self.client.get(self.url, timeout=5.0)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise ServiceUnavailableError("signing keys could not be fetched") from error
        finally:
            self._fetched_at = time.monotonic()
        self._keys = keys_from_jwks(document)

    async def public_key(self, kid: str) -> Any:
        """Return the key for ``kid``, refetching the JWKS once when it is unknown."""
        if kid not in self._keys:
            async with self._lock:
                stale = time.monotonic() - self._fetched_at >= self.min_refetch_interval
                if kid not in self._keys and stale:
                    await self._refresh()
        try:
            return self._keys[kid]
        except KeyError:
            raise UnauthorizedError("token signed with an unknown key") from None


class StaticKeySource:
    """A fixed set of public keys (tests, or a service given its keys by configuration)."""

    def __init__(self, keys: Mapping[str, Any]) -> None:
        self._keys = dict(keys)

    async def public_key(self, kid: str) -> Any:
        """Return the key for ``kid`` or raise :class:`UnauthorizedError`."""
        try:
            return self._keys[kid]
        except KeyError:
            raise UnauthorizedError("token signed with an unknown key") from None


def keys_from_jwks(document: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``{kid: public key}`` for every EC key in a JWKS document."""
    keys = {}
    for jwk in document.get("keys", []):
        if jwk.get("kty") == "EC" and "kid" in jwk:
            keys[jwk["kid"]] = ECAlgorithm.from_jwk(jwk)
    return keys


class TokenVerifier:
    """Verifies access tokens against a :class:`KeySource`."""

    def __init__(self, keys: KeySource) -> None:
        self.keys = keys

    async def verify(self, token: str) -> Principal:
        """Return the token's principal or raise :class:`UnauthorizedError`."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise UnauthorizedError("malformed access token") from None
        if header.get("alg") != TOKEN_ALGORITHM or not isinstance(header.get("kid"), str):
            raise UnauthorizedError("access token has an unexpected algorithm or no key id")
        key = await self.keys.public_key(header["kid"])
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[TOKEN_ALGORITHM],
                audience=TOKEN_AUDIENCE,
                issuer=TOKEN_ISSUER,
                options={"require": ["exp", "iat", "sub", "role"]},
            )
        except jwt.ExpiredSignatureError:
            raise UnauthorizedError("access token expired", reason="token_expired") from None
        except jwt.PyJWTError:
            raise UnauthorizedError("invalid access token", reason="token_invalid") from None
        if claims.get("typ") != "access" or claims["role"] not in ROLES:
            raise UnauthorizedError("invalid access token", reason="token_invalid")
        try:
            return Principal(user_id=UUID(claims["sub"]), role=claims["role"])
        except ValueError:
            raise UnauthorizedError("invalid access token", reason="token_invalid") from None


def bearer_token(request: Request) -> str | None:
    """Return the access token from the Authorization header or the cookie, if present."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        raise UnauthorizedError("Authorization header must be 'Bearer <token>'")
    return request.cookies.get(ACCESS_TOKEN_COOKIE)


async def current_principal(request: Request) -> Principal:
    """Dependency: the authenticated caller; 401 when there is no valid token."""
    token = bearer_token(request)
    if token is None:
        raise UnauthorizedError("authentication required")
    verifier: TokenVerifier = request.app.state.token_verifier
    return await verifier.verify(token)


async def optional_principal(request: Request) -> Principal | None:
    """Dependency: the caller when a token is presented, else ``None``."""
    if bearer_token(request) is None:
        return None
    return await current_principal(request)


CurrentUser = Annotated[Principal, Depends(current_principal)]
OptionalUser = Annotated[Principal | None, Depends(optional_principal)]


def require_role(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """Dependency factory: the caller, who must hold one of ``roles`` (403 otherwise)."""

    async def dependency(principal: CurrentUser) -> Principal:
        if principal.role not in roles:
            raise ForbiddenError(f"requires role {' or '.join(roles)}")
        return principal

    return dependency


AdminUser = Annotated[Principal, Depends(require_role("admin"))]
SellerUser = Annotated[Principal, Depends(require_role("seller", "admin"))]
