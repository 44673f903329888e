"""Starting an isolated local stack for a test: its own databases, stream prefix and ports."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from redis.asyncio import Redis

from souk_common.service import discover_services
from souk_common.testing import PG_ADMIN_URL, REDIS_URL, delete_prefixed_keys
from souk_devstack import LocalStack, StackConfig

# Fast event polling, and small pools: five services share PostgreSQL's connections with
# whatever else runs on the machine (at most 2 + 1 request and 2 worker connections each).
TEST_STACK_ENV = {
    "STREAM_BLOCK_MS": "100",
    "OUTBOX_POLL_INTERVAL_MS": "50",
    "DB_POOL_SIZE": "2",
    "DB_WORKER_POOL_SIZE": "2",
}


def _ports_free(ports: list[int]) -> bool:
    for port in ports:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return False
    return True


def free_port_offset(base_ports: list[int]) -> int:
    """Return an offset that puts every service on a free port (10000-19999 range)."""
    for attempt in range(200):
        offset = 10_000 + (uuid.uuid4().int % 1000) * 10 + attempt % 10
        if _ports_free([p + offset for p in base_ports]):
            return offset
    raise RuntimeError("no free port range for a test stack")


@asynccontextmanager
async def isolated_stack(
    state_dir: Path, extra_env: dict[str, str] | None = None, seed: bool = True
) -> AsyncIterator[LocalStack]:
    """Run every installed service in an isolated marketplace, then drop what it created."""
    name = f"t{uuid.uuid4().hex[:10]}"
    ports = [m.port for m in discover_services().values()]
    config = StackConfig(
        marketplace=name,
        pg_admin_url=PG_ADMIN_URL,
        redis_url=REDIS_URL,
        stream_prefix=f"{name}:",
        port_offset=free_port_offset(ports),
        log_format="json",
        state_dir=state_dir,
        seed=seed,
        extra_env={**TEST_STACK_ENV, **(extra_env or {})},
    )
    stack = LocalStack(config, echo=False)
    try:
        async with stack:
            yield stack
    finally:
        await stack.deprovision()
        # Keys the services made besides their streams (throttles, the simulated provider's
        # idempotency memory, ...) go too: the prefix is this stack's alone.
        redis = Redis.from_url(REDIS_URL)
        try:
            await delete_prefixed_keys(redis, config.stream_prefix)
        finally:
            await redis.aclose()
