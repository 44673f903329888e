"""PostgreSQL and Redis adapters: thin seams over :mod:`souk_common.provisioning`.

The reconciler talks to databases and streams only through :class:`Backends`, so the operator
runs exactly the provisioning code the local stack runs; the envtest tier exercises it against
real PostgreSQL and Redis. Only what ``souk_common`` lacks lives here: removing one consumer
group.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from souk_common.provisioning import (
    ProvisionResult,
    TemporaryProvisioningError,
    drop_service_database,
    drop_streams,
    ensure_service_database,
    ensure_streams,
)
from souk_common.streams import stream_key

CONNECT_TIMEOUT = 10.0


class Backends:
    """Provisioning side effects on PostgreSQL and Redis (stateless; one per operator)."""

    async def ensure_database(self, admin_dsn: str, name: str, password: str) -> ProvisionResult:
        """Converge on role and database ``name`` with ``password``."""
        return await ensure_service_database(
            admin_dsn, name, password, command_timeout=CONNECT_TIMEOUT
        )

    async def drop_database(self, admin_dsn: str, name: str) -> ProvisionResult:
        """Drop database ``name`` (terminating its sessions) and its role."""
        return await drop_service_database(admin_dsn, name, command_timeout=CONNECT_TIMEOUT)

    @asynccontextmanager
    async def redis(self, url: str) -> AsyncIterator[Redis]:
        """Yield a Redis client for ``url`` with short timeouts, closed afterwards."""
        client = Redis.from_url(
            url, socket_timeout=CONNECT_TIMEOUT, socket_connect_timeout=CONNECT_TIMEOUT
        )
        try:
            yield client
        finally:
            await client.aclose()

    async def ensure_streams(
        self, url: str, prefix: str, subscriptions: Mapping[str, Iterable[str]]
    ) -> ProvisionResult:
        """Create the streams, consumer groups and dead-letter streams of the subscriptions."""
        async with self.redis(url) as client:
            return await ensure_streams(client, prefix, subscriptions)

    async def drop_service_streams(
        self, url: str, prefix: str, service: str, producers: Iterable[str]
    ) -> ProvisionResult:
        """Remove a service's consumer groups, its own event stream and its dead letters."""
        actions: list[str] = []
        async with self.redis(url) as client:
            for producer in producers:
                key = stream_key(prefix, producer)
                try:
                    if await client.exists(key) and await client.xgroup_destroy(key, service):
                        actions.append(f"destroyed consumer group {service} on {key}")
                except ResponseError as error:
                    raise TemporaryProvisioningError(f"Redis failed: {error}") from error
                except RedisError as error:
                    raise TemporaryProvisioningError(f"Redis is unreachable: {error}") from error
            dropped = await drop_streams(client, prefix, [service])
        return ProvisionResult.from_actions(actions + dropped.actions)

    async def drop_all_streams(
        self, url: str, prefix: str, services: Iterable[str]
    ) -> ProvisionResult:
        """Delete every stream of ``services`` and every other key under the prefix."""
        async with self.redis(url) as client:
            return await drop_streams(client, prefix, services, whole_prefix=True)
