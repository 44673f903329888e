"""The per-process parts of auth, built in the app's lifespan and kept on the runtime.

:func:`signing_key_source` is the ``key_source`` of the service definition: it builds the
:class:`~souk_auth.keystore.KeyStore` (auth verifies its own tokens with it) and tries to load
the keys at once. When the database is not migrated yet it only logs and defers, so the
process still starts and ``/readyz`` can say what is missing; the keys load on first use.
:func:`attach_components` then assembles the password hasher, token issuer and throttle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from souk_auth.config import AuthSettings
from souk_auth.keystore import KeyStore
from souk_auth.passwords import Passwords
from souk_auth.throttling import LoginThrottle, ThrottleLimit
from souk_auth.tokens import TokenIssuer
from souk_common.errors import ServiceUnavailableError
from souk_common.logging import get_logger
from souk_common.security import KeySource

if TYPE_CHECKING:  # souk_common.app pulls in the whole web stack; only its type is needed
    from souk_common.app import ServiceRuntime

log = get_logger(__name__)
KEYSTORE_EXTRA = "auth.keystore"
COMPONENTS_EXTRA = "auth.components"


@dataclass(frozen=True)
class AuthComponents:
    """Everything the auth use cases need besides a session and the outbox."""

    settings: AuthSettings
    passwords: Passwords
    keys: KeyStore
    issuer: TokenIssuer
    throttle: LoginThrottle


def _describe(error: BaseException) -> str:
    """Name a start-up failure without SQL parameters (which could hold key material)."""
    original = getattr(error, "orig", None) or error
    first_line = (str(original).splitlines() or [""])[0]
    return f"{type(original).__name__}: {first_line}"[:200]


def auth_settings(runtime: ServiceRuntime) -> AuthSettings:
    """Return the runtime's settings, which must be :class:`AuthSettings`."""
    settings = runtime.settings
    if not isinstance(settings, AuthSettings):
        raise TypeError("the auth app must be created with AuthSettings")
    return settings


async def signing_key_source(runtime: ServiceRuntime) -> KeySource:
    """Build the key store (``ServiceDefinition.key_source``) and load it if possible."""
    settings = auth_settings(runtime)
    store = KeyStore.from_pem(
        runtime.database.sessions,
        settings.signing_key_pem(),
        settings.access_token_ttl_seconds,
    )
    try:
        await store.initialise()
    except ServiceUnavailableError as error:
        log.warning("signing_keys_deferred", reason=_describe(error.__cause__ or error))
    runtime.extras[KEYSTORE_EXTRA] = store
    return store


async def attach_components(runtime: ServiceRuntime) -> None:
    """Start-up hook: assemble :class:`AuthComponents` on ``runtime.extras``."""
    settings = auth_settings(runtime)
    keys: KeyStore = runtime.extras[KEYSTORE_EXTRA]
    runtime.extras[COMPONENTS_EXTRA] = AuthComponents(
        settings=settings,
        passwords=Passwords.from_settings(settings),
        keys=keys,
        issuer=TokenIssuer(
            keys,
            access_ttl_seconds=settings.access_token_ttl_seconds,
            refresh_ttl_seconds=settings.refresh_token_ttl_seconds,
        ),
        throttle=LoginThrottle(
            runtime.redis,
            settings.stream_prefix,
            account=ThrottleLimit(
                settings.login_max_failures_per_account, settings.login_account_window_seconds
            ),
            address=ThrottleLimit(
                settings.login_max_failures_per_address, settings.login_address_window_seconds
            ),
        ),
    )


def components(runtime: ServiceRuntime) -> AuthComponents:
    """Return the :class:`AuthComponents` attached at start-up."""
    parts: AuthComponents = runtime.extras[COMPONENTS_EXTRA]
    return parts
