"""Settings of the auth service, read from the environment and validated at start-up.

Signing key: in a cluster the operator creates Secret ``<marketplace>-auth-keys`` whose key
``private.pem`` holds a PKCS#8 (or SEC1) PEM of an EC P-256 private key; the chart mounts it
and sets ``AUTH_SIGNING_KEY_FILE=/var/run/secrets/souk/auth-keys/private.pem`` (a
``public.pem`` in the same Secret is ignored: the public half is derived). Locally the PEM
can be given inline as ``AUTH_SIGNING_KEY``. With neither set, auth generates a key once,
stores it in its database and every replica shares it (see :mod:`souk_auth.keystore`).
Setting both is refused so there is never doubt about which key signs.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from souk_auth.keys import load_private_key_pem
from souk_common.settings import ServiceSettings


class AuthSettings(ServiceSettings):
    """Settings of the auth service (environment variable = field name in upper case)."""

    # Name of the service in logs, metrics and the `source` of its events.
    service_name: str = Field(default="auth", min_length=1, pattern=r"^[a-z][a-z0-9-]*$")

    # Lifetime of an access token (JWT) in seconds: short, since it cannot be revoked.
    access_token_ttl_seconds: int = Field(default=15 * 60, ge=1, le=24 * 3600)
    # Lifetime of a refresh token in seconds (each rotation issues a fresh one).
    refresh_token_ttl_seconds: int = Field(default=14 * 24 * 3600, ge=60)

    # Signing key PEM given inline (EC P-256 private key); mutually exclusive with the file.
    auth_signing_key: SecretStr | None = None
    # Path of the signing key PEM, e.g. the `private.pem` key of Secret <marketplace>-auth-keys.
    auth_signing_key_file: Path | None = None

    # Failed logins allowed per account (email) within the window before answering 429.
    login_max_failures_per_account: int = Field(default=5, ge=1)
    # Window (seconds) over which failed logins per account are counted.
    login_account_window_seconds: int = Field(default=15 * 60, ge=1)
    # Failed logins allowed per client address within the window before answering 429.
    login_max_failures_per_address: int = Field(default=50, ge=1)
    # Window (seconds) over which failed logins per client address are counted.
    login_address_window_seconds: int = Field(default=15 * 60, ge=1)
    # Number of trusted reverse proxies in front of auth: 0 ignores X-Forwarded-For; N takes
    # the N-th address from the right of X-Forwarded-For (the one the outermost proxy saw).
    trusted_proxy_hops: int = Field(default=0, ge=0, le=10)

    # Mark the token cookies `Secure` (HTTPS only). The local stack over plain HTTP sets false.
    cookie_secure: bool = True

    # Argon2id cost parameters. The defaults are RFC 9106's second recommended profile
    # (t=3, 64 MiB, p=4); tests lower them to run fast. Existing hashes are upgraded on login.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_cost_kib: int = Field(default=64 * 1024, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)
    # Password hashes computed at once (each holds argon2_memory_cost_kib of memory).
    password_hash_concurrency: int = Field(default=4, ge=1)

    @model_validator(mode="after")
    def _check_signing_key(self) -> AuthSettings:
        if self.auth_signing_key is not None and self.auth_signing_key_file is not None:
            raise ValueError("set AUTH_SIGNING_KEY or AUTH_SIGNING_KEY_FILE, not both")
        pem = self.signing_key_pem()
        if pem is not None:
            load_private_key_pem(pem)  # raises ValueError naming the problem
        return self

    def signing_key_pem(self) -> str | None:
        """Return the configured signing key PEM, or ``None`` to use the database's key."""
        if self.auth_signing_key is not None:
            return self.auth_signing_key.get_secret_value()
        if self.auth_signing_key_file is not None:
            try:
                return self.auth_signing_key_file.read_text()
            except OSError as error:
                raise ValueError(
                    f"AUTH_SIGNING_KEY_FILE {self.auth_signing_key_file} unreadable: "
                    f"{error.strerror}"
                ) from None
        return None
