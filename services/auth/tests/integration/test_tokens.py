"""Access tokens: verification through the JWKS, expiry and tampering."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import jwt

from souk_auth.tokens import access_token_claims, sign_access_token
from souk_common.security import JwksKeySource, TokenVerifier


async def test_jwks_publishes_the_key_that_verifies_a_login_token(api):
    tokens = await api.user_tokens("jwks@souk.test", role="seller")
    response = await api.client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    document = response.json()
    assert len(document["keys"]) == 1
    key = document["keys"][0]
    assert set(key) == {"kid", "kty", "crv", "x", "y", "use", "alg"}
    assert (key["kty"], key["crv"], key["use"], key["alg"]) == ("EC", "P-256", "sig", "ES256")
    assert "d" not in key
    assert jwt.get_unverified_header(tokens["access_token"])["kid"] == key["kid"]

    # Exactly what another service does: verify through the published JWKS.
    source = JwksKeySource("http://test/.well-known/jwks.json", api.client)
    principal = await TokenVerifier(source).verify(tokens["access_token"])
    assert principal.role == "seller"
    me = await api.client.get("/api/auth/me", headers=api.bearer(tokens["access_token"]))
    assert str(principal.user_id) == me.json()["id"]

    same = await api.client.get("/api/auth/.well-known/jwks.json")
    assert same.json() == document


async def test_expired_token_is_401_token_expired(api, app):
    tokens = await api.user_tokens("late@souk.test")
    user_id = jwt.decode(tokens["access_token"], options={"verify_signature": False})["sub"]
    key = await app.state.context.keys.signing_key()
    claims = access_token_claims(
        user_id=uuid.UUID(user_id),
        role="buyer",
        issued_at=datetime.now(UTC) - timedelta(hours=1),
        ttl_seconds=60,
    )
    expired = sign_access_token(claims, key)  # the real key, only the time is wrong
    response = await api.client.get("/api/auth/me", headers=api.bearer(expired))
    body = api.problem(response, 401, "unauthorized")
    assert body["reason"] == "token_expired"


def _flip(segment: str) -> str:
    """Change one character in the middle of a base64url segment."""
    middle = len(segment) // 2
    replacement = "A" if segment[middle] != "A" else "B"
    return segment[:middle] + replacement + segment[middle + 1 :]


async def test_tampered_signature_or_payload_is_401(api):
    tokens = await api.user_tokens("tamper@souk.test")
    header, payload, signature = tokens["access_token"].split(".")

    bad_signature = f"{header}.{payload}.{_flip(signature)}"
    body = api.problem(
        await api.client.get("/api/auth/me", headers=api.bearer(bad_signature)), 401, "unauthorized"
    )
    assert body["reason"] == "token_invalid"

    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    claims["role"] = "admin"
    forged_payload = base64.urlsafe_b64encode(
        json.dumps(claims, separators=(",", ":")).encode()
    ).rstrip(b"=")
    escalated = f"{header}.{forged_payload.decode()}.{signature}"
    response = await api.client.get("/api/auth/users", headers=api.bearer(escalated))
    assert api.problem(response, 401, "unauthorized")["reason"] == "token_invalid"


async def test_token_signed_by_a_foreign_key_is_401(api):
    from souk_auth.keys import generate_signing_key

    foreign = generate_signing_key()
    claims = access_token_claims(
        user_id=uuid.uuid4(), role="admin", issued_at=datetime.now(UTC), ttl_seconds=60
    )
    response = await api.client.get(
        "/api/auth/users", headers=api.bearer(sign_access_token(claims, foreign))
    )
    api.problem(response, 401, "unauthorized")
