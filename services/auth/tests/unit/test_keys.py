"""Signing key helpers: kid as RFC 7638 thumbprint, PEM loading, public JWK."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm

from souk_auth.keys import (
    generate_signing_key,
    key_id,
    load_private_key_pem,
    private_key_pem,
    public_jwk,
)


def _pem(private_key) -> str:
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def test_pem_round_trip_keeps_the_kid():
    key = generate_signing_key()
    loaded = load_private_key_pem(private_key_pem(key))
    assert loaded.kid == key.kid == key_id(key.public_key)


def test_kid_is_the_rfc7638_thumbprint():
    import base64
    import hashlib
    import json

    key = generate_signing_key()
    jwk = public_jwk(key.public_key)
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    expected = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
    assert key.kid == expected == jwk["kid"]


def test_public_jwk_round_trips_through_pyjwt():
    key = generate_signing_key()
    jwk = public_jwk(key.public_key, key.kid)
    assert set(jwk) == {"kty", "crv", "x", "y", "use", "alg", "kid"}
    restored = ECAlgorithm.from_jwk(jwk)
    assert restored.public_numbers() == key.public_key.public_numbers()


@pytest.mark.parametrize(
    ("pem", "message"),
    [
        ("not a pem", "not an unencrypted PEM"),
        (_pem(ec.generate_private_key(ec.SECP384R1())), "P-256"),
        (_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)), "P-256"),
    ],
)
def test_wrong_keys_are_refused_with_a_clear_message(pem, message):
    with pytest.raises(ValueError, match=message):
        load_private_key_pem(pem)
