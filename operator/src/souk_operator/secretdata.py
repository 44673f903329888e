"""The Secrets a Marketplace owns, as manifests built by pure functions.

Secrets keep what was generated before: a service's password and the auth signing key are
read back from the existing Secret and only generated when it is missing (or lacks the key),
so reconciling again changes nothing and a Secret deleted by hand comes back with a new
password that the next database "ensure" applies to the role.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from souk_common.provisioning import ServiceCredentials
from souk_operator import naming

DB_SECRET_KEYS = ("DATABASE_URL", "PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD")
REDIS_SECRET_KEYS = ("REDIS_URL", "STREAM_PREFIX", "STREAM_MAX_LENGTH", "STREAM_MAX_DELIVERIES")
AUTH_KEYS = ("private.pem", "public.pem")


def secret_manifest(
    name: str,
    data: Mapping[str, str],
    labels: Mapping[str, str],
    owner: Mapping[str, Any],
) -> dict[str, Any]:
    """Return an Opaque Secret (``stringData`` style, as plain strings) owned by ``owner``."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": name, "labels": dict(labels), "ownerReferences": [dict(owner)]},
        "data": dict(data),
    }


def db_secret(
    marketplace: str, service: str, credentials: ServiceCredentials, owner: Mapping[str, Any]
) -> dict[str, Any]:
    """Return Secret ``<marketplace>-<service>-db``: ``DATABASE_URL`` and the libpq variables."""
    return secret_manifest(
        naming.db_secret_name(marketplace, service),
        credentials.environment(),
        naming.labels(marketplace, "database-credentials", service, service),
        owner,
    )


def redis_secret(
    marketplace: str,
    redis_url: str,
    owner: Mapping[str, Any],
    stream_settings: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return Secret ``<marketplace>-redis``: ``REDIS_URL``, ``STREAM_PREFIX`` (and limits)."""
    data = {"REDIS_URL": redis_url, "STREAM_PREFIX": naming.stream_prefix(marketplace)}
    return secret_manifest(
        naming.redis_secret_name(marketplace),
        {**data, **(stream_settings or {})},
        naming.labels(marketplace, "stream-credentials", "redis"),
        owner,
    )


def generate_key_pair() -> dict[str, str]:
    """Return a new EC P-256 signing key pair as PEM: ``private.pem`` (PKCS#8), ``public.pem``."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {"private.pem": private.decode(), "public.pem": public.decode()}


def auth_keys_secret(
    marketplace: str, existing: Mapping[str, str] | None, owner: Mapping[str, Any]
) -> dict[str, Any]:
    """Return Secret ``<marketplace>-auth-keys``, keeping an existing complete key pair."""
    if existing and all(existing.get(key) for key in AUTH_KEYS):
        data = {key: existing[key] for key in AUTH_KEYS}
    else:
        data = generate_key_pair()
    return secret_manifest(
        naming.auth_keys_secret_name(marketplace),
        data,
        naming.labels(marketplace, "signing-keys", "auth", "auth"),
        owner,
    )


def kept_password(existing: Mapping[str, str] | None, generate: Any) -> str:
    """Return the password stored in an existing Secret, or a newly generated one."""
    if existing and existing.get("PGPASSWORD"):
        return existing["PGPASSWORD"]
    password: str = generate()
    return password
