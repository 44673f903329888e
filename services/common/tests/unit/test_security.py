"""Token verification against a JWKS that is cached and refetched on an unknown key id."""

import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from souk_common.errors import UnauthorizedError
from souk_common.security import JwksKeySource, TokenVerifier


def make_key(kid: str):
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update(kid=kid, use="sig", alg="ES256")
    return private, jwk


def sign(private, kid: str, **overrides) -> str:
    now = int(time.time())
    claims = {
        "iss": "souk-auth",
        "aud": "souk",
        "sub": str(uuid.uuid4()),
        "role": "buyer",
        "typ": "access",
        "iat": now,
        "exp": now + 60,
        **overrides,
    }
    return jwt.encode(claims, private, algorithm="ES256", headers={"kid": kid})


class Jwks:
    def __init__(self, *keys):
        self.keys = list(keys)
        self.fetches = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        return httpx.Response(200, json={"keys": self.keys})


@pytest.fixture
def first_key():
    return make_key("k1")


async def test_valid_token_is_accepted_and_jwks_is_cached(first_key):
    private, jwk = first_key
    jwks = Jwks(jwk)
    async with httpx.AsyncClient(transport=httpx.MockTransport(jwks.handler)) as http:
        verifier = TokenVerifier(JwksKeySource("http://auth/jwks", http))
        user_id = uuid.uuid4()
        principal = await verifier.verify(sign(private, "k1", sub=str(user_id), role="seller"))
        await verifier.verify(sign(private, "k1"))
    assert principal.user_id == user_id
    assert principal.role == "seller"
    assert jwks.fetches == 1


async def test_unknown_kid_triggers_one_refetch(first_key):
    private, jwk = first_key
    jwks = Jwks(jwk)
    async with httpx.AsyncClient(transport=httpx.MockTransport(jwks.handler)) as http:
        verifier = TokenVerifier(JwksKeySource("http://auth/jwks", http, min_refetch_interval=0))
        await verifier.verify(sign(private, "k1"))
        rotated, rotated_jwk = make_key("k2")
        jwks.keys.append(rotated_jwk)
        await verifier.verify(sign(rotated, "k2"))
    assert jwks.fetches == 2


async def test_refetches_are_rate_limited(first_key):
    private, jwk = first_key
    jwks = Jwks(jwk)
    async with httpx.AsyncClient(transport=httpx.MockTransport(jwks.handler)) as http:
        verifier = TokenVerifier(JwksKeySource("http://auth/jwks", http, min_refetch_interval=60))
        await verifier.verify(sign(private, "k1"))
        stranger, _ = make_key("nobody")
        for _ in range(5):
            with pytest.raises(UnauthorizedError):
                await verifier.verify(sign(stranger, "nobody"))
    assert jwks.fetches == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": int(time.time()) - 10},
        {"aud": "other"},
        {"iss": "someone-else"},
        {"typ": "refresh"},
        {"role": "superuser"},
    ],
)
async def test_bad_claims_are_refused(first_key, overrides):
    private, jwk = first_key
    async with httpx.AsyncClient(transport=httpx.MockTransport(Jwks(jwk).handler)) as http:
        verifier = TokenVerifier(JwksKeySource("http://auth/jwks", http))
        with pytest.raises(UnauthorizedError):
            await verifier.verify(sign(private, "k1", **overrides))


async def test_tampered_and_unsigned_tokens_are_refused(first_key):
    private, jwk = first_key
    async with httpx.AsyncClient(transport=httpx.MockTransport(Jwks(jwk).handler)) as http:
        verifier = TokenVerifier(JwksKeySource("http://auth/jwks", http))
        token = sign(private, "k1")
        header, payload, signature = token.split(".")
        forged = jwt.encode({"sub": str(uuid.uuid4()), "role": "admin"}, key="", algorithm="none")
        tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
        for bad in (tampered, forged, "not-a-jwt"):
            with pytest.raises(UnauthorizedError):
                await verifier.verify(bad)
