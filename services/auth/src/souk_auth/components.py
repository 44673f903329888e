"""Auth's context: the per-process parts, built once in the app's lifespan.

:func:`build_components` is the ``context`` of the service definition: it builds the
:class:`~souk_auth.keystore.KeyStore` (auth verifies its own tokens with it, see
:func:`signing_key_source`) and tries to load the keys at once. When the database is not
migrated yet it only logs and defers, so the process still starts and ``/readyz`` can say
what is missing; the keys load on first use. It also assembles the password hasher, token
issuer and throttle. Routes receive the result through ``souk_auth.api.deps``.
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
from souk_common.events.outbox import Outbox
from souk_common.logging import get_logger
from souk_common.security import KeySource

if TYPE_CHECKING:  # souk_common.app pulls in the whole web stack; only its type is needed
    from souk_common.app import ServiceRuntime

log = get_logger(__name__)


@dataclass(frozen=True)
class AuthComponents:
    """Everything the auth use cases need besides a session."""

    settings: AuthSettings
    outbox: Outbox
    passwords: Passwords
    keys: KeyStore
    issuer: TokenIssuer
    throttle: LoginThrottle


def _describe(error: BaseException) -> str:
    """Name a start-up failure without SQL parameters (which could hold key material)."""
    original = getattr(error, "orig", None) or error
    first_line = (str(original).splitlines() or [""])[0]
    return f"{type(original).__name__}: {first_line}"[:200]


async def build_components(runtime: ServiceRuntime[AuthSettings]) -> AuthComponents:
    """Build auth's context (``ServiceDefinition.context``), loading the keys if possible."""
    settings = runtime.settings
    keys = KeyStore.from_pem(
        runtime.database.sessions,
        settings.signing_key_pem(),
        settings.access_token_ttl_seconds,
    )
    try:
        await keys.initialise()
    except ServiceUnavailableError as error:
        log.warning("signing_keys_deferred", reason=_describe(error.__cause__ or error))
    return AuthComponents(
        settings=settings,
        outbox=runtime.outbox,
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


def signing_key_source(parts: AuthComponents) -> KeySource:
    """Auth verifies its own tokens with its key store (``ServiceDefinition.key_source``)."""
    return parts.keys
