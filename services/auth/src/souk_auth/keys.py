"""ES256 signing keys as pure functions: generate, load, serialise, describe as JWK.

A key's ``kid`` is its RFC 7638 JWK thumbprint, so it is derived from the key itself: every
replica loading the same PEM agrees on the ``kid`` without coordination, and two different
keys can never share one.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from souk_common.security import TOKEN_ALGORITHM


@dataclass(frozen=True)
class SigningKey:
    """A private key that signs access tokens, with its key ID."""

    kid: str
    private_key: ec.EllipticCurvePrivateKey

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        """The public half, which verifies the tokens."""
        return self.private_key.public_key()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _coordinate(value: int) -> str:
    return _b64url(value.to_bytes(32, "big"))


def public_jwk(public_key: ec.EllipticCurvePublicKey, kid: str | None = None) -> dict[str, str]:
    """Return the public JWK (RFC 7517/7518) of a P-256 key, for the JWKS document."""
    numbers = public_key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _coordinate(numbers.x),
        "y": _coordinate(numbers.y),
        "use": "sig",
        "alg": TOKEN_ALGORITHM,
        "kid": kid if kid is not None else key_id(public_key),
    }


def key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """Return the RFC 7638 thumbprint of ``public_key`` (base64url SHA-256)."""
    numbers = public_key.public_numbers()
    members = {
        "crv": "P-256",
        "kty": "EC",
        "x": _coordinate(numbers.x),
        "y": _coordinate(numbers.y),
    }
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return _b64url(hashlib.sha256(canonical).digest())


def generate_signing_key() -> SigningKey:
    """Generate a fresh P-256 signing key."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    return SigningKey(kid=key_id(private_key.public_key()), private_key=private_key)


def load_private_key_pem(pem: str) -> SigningKey:
    """Load a P-256 private key from PEM; raises ``ValueError`` saying what is wrong."""
    try:
        private_key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as error:
        raise ValueError(f"signing key is not an unencrypted PEM private key ({error})") from None
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(
        private_key.curve, ec.SECP256R1
    ):
        raise ValueError("signing key must be an EC P-256 (secp256r1) private key for ES256")
    return SigningKey(kid=key_id(private_key.public_key()), private_key=private_key)


def private_key_pem(key: SigningKey) -> str:
    """Serialise the private key as unencrypted PKCS#8 PEM (to store or to mount)."""
    return key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def jwks_document(jwks: list[dict[str, Any]]) -> dict[str, Any]:
    """Wrap public JWKs in a JWKS document."""
    return {"keys": jwks}
