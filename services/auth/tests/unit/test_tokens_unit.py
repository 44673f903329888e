"""Access token claims and signing, verified with souk_common's TokenVerifier."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from souk_auth.keys import SigningKey, generate_signing_key
from souk_auth.tokens import (
    TokenIssuer,
    access_token_claims,
    hash_refresh_token,
    new_refresh_token,
    sign_access_token,
)
from souk_common.errors import UnauthorizedError
from souk_common.security import TokenVerifier


class StaticKeys:
    """Key source and signing key provider over fixed keys."""

    def __init__(self, key: SigningKey) -> None:
        self.key = key

    async def signing_key(self) -> SigningKey:
        return self.key

    async def public_key(self, kid: str) -> Any:
        if kid != self.key.kid:
            raise UnauthorizedError("unknown key")
        return self.key.public_key


def test_claims_are_exactly_what_services_expect():
    user_id = uuid.uuid4()
    issued = datetime(2030, 1, 1, tzinfo=UTC)
    claims = access_token_claims(
        user_id=user_id, role="seller", issued_at=issued, ttl_seconds=900, jti="j1"
    )
    assert claims == {
        "iss": "souk-auth",
        "aud": "souk",
        "sub": str(user_id),
        "role": "seller",
        "typ": "access",
        "iat": int(issued.timestamp()),
        "exp": int(issued.timestamp()) + 900,
        "jti": "j1",
    }


def test_each_token_gets_a_fresh_jti():
    now = datetime.now(UTC)
    first = access_token_claims(user_id=uuid.uuid4(), role="buyer", issued_at=now, ttl_seconds=1)
    second = access_token_claims(user_id=uuid.uuid4(), role="buyer", issued_at=now, ttl_seconds=1)
    assert first["jti"] != second["jti"]


async def test_issued_token_verifies_with_the_shared_verifier():
    keys = StaticKeys(generate_signing_key())
    issuer = TokenIssuer(keys, access_ttl_seconds=60, refresh_ttl_seconds=3600)
    user_id = uuid.uuid4()
    token = await issuer.access_token(user_id, "admin", datetime.now(UTC))
    header = jwt.get_unverified_header(token)
    assert (header["alg"], header["kid"]) == ("ES256", keys.key.kid)
    principal = await TokenVerifier(keys).verify(token)
    assert (principal.user_id, principal.role, principal.is_admin) == (user_id, "admin", True)


async def test_expired_and_foreign_tokens_are_refused():
    keys = StaticKeys(generate_signing_key())
    past = datetime.now(UTC) - timedelta(hours=1)
    claims = access_token_claims(user_id=uuid.uuid4(), role="buyer", issued_at=past, ttl_seconds=60)
    with pytest.raises(UnauthorizedError) as expired:
        await TokenVerifier(keys).verify(sign_access_token(claims, keys.key))
    assert expired.value.extensions["reason"] == "token_expired"

    other = generate_signing_key()
    forged = SigningKey(kid=keys.key.kid, private_key=other.private_key)  # right kid, wrong key
    fresh = access_token_claims(
        user_id=uuid.uuid4(), role="admin", issued_at=datetime.now(UTC), ttl_seconds=60
    )
    with pytest.raises(UnauthorizedError) as invalid:
        await TokenVerifier(keys).verify(sign_access_token(fresh, forged))
    assert invalid.value.extensions["reason"] == "token_invalid"


def test_refresh_tokens_are_random_and_stored_as_sha256():
    token = new_refresh_token()
    assert len(token) >= 43
    assert token != new_refresh_token()
    digest = hash_refresh_token(token)
    assert len(digest) == 64
    assert token not in digest
    assert digest == hash_refresh_token(token)
