"""Login throttling in Redis: failed attempts per account and per client address.

Each failure increments two fixed-window counters (``{prefix}auth:throttle:account:<sha256 of
the email>`` and ``{prefix}auth:throttle:address:<ip>``) in one Lua script, so the increment and
the expiry are atomic and a counter can never be left without a TTL. Before a password is
checked, a counter at its limit answers 429 with ``Retry-After`` = the seconds left in its
window — even for the right password, otherwise the limit would not stop guessing. A
successful login clears the account counter (not the address one: a shared address keeps its
record of other accounts' failures).

The email is hashed in the key name so Redis holds no personal data. Attempts racing between
the check and the increment can exceed a limit by the number of concurrent requests; that is
accepted for a cheap, lock-free check.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from souk_common.errors import RateLimitedError, ServiceUnavailableError

_RECORD_FAILURE = """
for i, key in ipairs(KEYS) do
    local count = redis.call('INCR', key)
    if count == 1 or redis.call('TTL', key) < 0 then
        redis.call('EXPIRE', key, ARGV[i])
    end
end
return 1
"""


@dataclass(frozen=True)
class ThrottleLimit:
    """At most ``max_failures`` failures within ``window_seconds``."""

    max_failures: int
    window_seconds: int


class LoginThrottle:
    """Counts failed logins and refuses attempts over the limits."""

    def __init__(
        self, redis: Redis, prefix: str, *, account: ThrottleLimit, address: ThrottleLimit
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.account = account
        self.address = address
        self._record = redis.register_script(_RECORD_FAILURE)

    def account_key(self, email: str) -> str:
        """Redis key counting failures for ``email``."""
        digest = hashlib.sha256(email.lower().encode("utf-8")).hexdigest()
        return f"{self.prefix}auth:throttle:account:{digest}"

    def address_key(self, address: str) -> str:
        """Redis key counting failures from ``address``."""
        return f"{self.prefix}auth:throttle:address:{address}"

    async def check(self, email: str, address: str) -> None:
        """Raise :class:`RateLimitedError` when either counter has reached its limit."""
        keys = (self.account_key(email), self.address_key(address))
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.get(key)
                    pipe.ttl(key)
                account_count, account_ttl, address_count, address_ttl = await pipe.execute()
        except RedisError as error:
            raise ServiceUnavailableError("login is temporarily unavailable") from error
        waits = []
        if int(account_count or 0) >= self.account.max_failures:
            waits.append(account_ttl if account_ttl > 0 else self.account.window_seconds)
        if int(address_count or 0) >= self.address.max_failures:
            waits.append(address_ttl if address_ttl > 0 else self.address.window_seconds)
        if waits:
            raise RateLimitedError(max(waits), "Too many failed login attempts; try again later.")

    async def record_failure(self, email: str, address: str) -> None:
        """Count one failed attempt against the account and the address."""
        keys = [self.account_key(email), self.address_key(address)]
        windows = [self.account.window_seconds, self.address.window_seconds]
        try:
            await self._record(keys=keys, args=windows)
        except RedisError as error:
            raise ServiceUnavailableError("login is temporarily unavailable") from error

    async def clear_account(self, email: str) -> None:
        """Forget the account's failures after a successful login."""
        try:
            await self.redis.delete(self.account_key(email))
        except RedisError as error:
            raise ServiceUnavailableError("login is temporarily unavailable") from error


def client_address(peer: str | None, forwarded_for: str | None, trusted_hops: int) -> str:
    """Return the client address, honouring ``X-Forwarded-For`` behind ``trusted_hops`` proxies.

    Each trusted proxy appends the address it received from, so the N-th entry from the right
    is the one the outermost trusted proxy saw; entries further left are client-supplied and
    cannot be trusted.
    """
    if trusted_hops > 0 and forwarded_for:
        entries = [part.strip() for part in forwarded_for.split(",") if part.strip()]
        if entries:
            return entries[-min(trusted_hops, len(entries))]
    return peer or "unknown"
