"""Redis adapter: the event streams, consumer groups and dead-letter streams of a marketplace.

Start id of a new group: ``0``, not ``$``. On a new stream the two are the same (it is empty);
they differ only when a producer published before the group existed, which happens whenever
services start in any order or a consumer service is added later. With ``$`` those events
would be skipped silently; with ``0`` the group reads the retained history (bounded by the
streams' ``MAXLEN``), which consumers tolerate because the inbox makes redelivery a no-op.
The consumer loop in :mod:`souk_common.events.consumer` creates groups the same way.

Dead-letter streams are created empty with ``XGROUP CREATE ... MKSTREAM`` of a throwaway group
destroyed in the same ``MULTI``: no entry is written, so no reader or ``XLEN`` ever sees a
fake dead letter, the stream's last id stays ``0-0``, and no group is left behind. (``XADD``
then ``XDEL`` would leave a bumped last id and briefly show a bogus entry.) They exist so that
dashboards and status checks find every stream of a marketplace before the first failure.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

from redis.asyncio import Redis
from redis.exceptions import (
    AuthenticationError,
    AuthorizationError,
    ConnectionError,
    NoPermissionError,
    ReadOnlyError,
    RedisError,
    ResponseError,
    TimeoutError,
)

from souk_common.provisioning.plan import (
    PermanentProvisioningError,
    ProvisionResult,
    StreamGroup,
    TemporaryProvisioningError,
    dead_letter_streams,
    desired_streams,
    marketplace_stream_keys,
)
from souk_common.streams import service_key_prefixes

PROBE_GROUP = "souk-provisioning-probe"
# Server replies that clear up on their own: out of memory, failed snapshot, loading, cluster.
_TEMPORARY_REPLIES = ("OOM", "MISCONF", "LOADING", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN")


def _text(value: bytes | str) -> str:
    """Return a Redis reply as text, whatever the client's ``decode_responses``."""
    return value.decode() if isinstance(value, bytes) else value


@contextmanager
def _translated() -> Iterator[None]:
    """Turn Redis errors into temporary or permanent provisioning errors."""
    try:
        yield
    except (AuthenticationError, AuthorizationError, NoPermissionError) as error:
        raise PermanentProvisioningError(
            f"Redis refused the provisioning client ({error}): check its password and ACL"
            " (it needs XGROUP, XINFO, TYPE, UNLINK, MULTI and EXEC on the marketplace's keys)"
        ) from error
    except (ConnectionError, TimeoutError, ReadOnlyError, OSError) as error:
        raise TemporaryProvisioningError(f"Redis is unreachable or read-only: {error}") from error
    except RedisError as error:
        if str(error).startswith(_TEMPORARY_REPLIES):
            raise TemporaryProvisioningError(f"Redis failed temporarily: {error}") from error
        raise PermanentProvisioningError(f"Redis failed: {error}") from error


def _wrong_type(key: str, error: ResponseError) -> PermanentProvisioningError:
    """Explain a key that exists with another type than stream."""
    return PermanentProvisioningError(
        f"Redis key {key!r} exists but is not a stream ({error}); delete or rename it"
    )


async def _ensure_group(redis: Redis, wanted: StreamGroup, start_id: str) -> list[str]:
    """Create one consumer group (and its stream if missing); an existing group is kept."""
    try:
        await redis.xgroup_create(wanted.stream, wanted.group, id=start_id, mkstream=True)
    except ResponseError as error:
        if str(error).startswith("BUSYGROUP"):
            return []
        if str(error).startswith("WRONGTYPE"):
            raise _wrong_type(wanted.stream, error) from error
        raise
    return [f"created consumer group {wanted.group} on {wanted.stream} from id {start_id}"]


async def _ensure_empty_stream(redis: Redis, key: str) -> list[str]:
    """Create ``key`` as an empty stream unless it exists (see the module docstring)."""
    kind = _text(await redis.type(key))
    if kind == "stream":
        return []
    if kind != "none":
        raise PermanentProvisioningError(f"Redis key {key!r} holds a {kind}, not a stream")
    async with redis.pipeline(transaction=True) as pipe:
        pipe.xgroup_create(key, PROBE_GROUP, id="$", mkstream=True)
        pipe.xgroup_destroy(key, PROBE_GROUP)
        await pipe.execute()
    return [f"created dead-letter stream {key}"]


async def ensure_streams(
    redis: Redis,
    prefix: str,
    subscriptions: Mapping[str, Iterable[str]],
    *,
    start_id: str = "0",
) -> ProvisionResult:
    """Create every producer stream, consumer group and dead-letter stream; idempotent.

    ``subscriptions`` maps a consumer group to the producer services it reads, as
    :func:`souk_contracts.topology.subscriptions` returns it.
    """
    actions: list[str] = []
    with _translated():
        for wanted in desired_streams(prefix, subscriptions):
            actions += await _ensure_group(redis, wanted, start_id)
        for key in dead_letter_streams(prefix, subscriptions).values():
            actions += await _ensure_empty_stream(redis, key)
    return ProvisionResult.from_actions(actions)


async def missing_groups(
    redis: Redis, prefix: str, subscriptions: Mapping[str, Iterable[str]]
) -> list[StreamGroup]:
    """Return the desired consumer groups that do not exist (a missing stream has none)."""
    missing: list[StreamGroup] = []
    existing: dict[str, set[str]] = {}
    with _translated():
        for wanted in desired_streams(prefix, subscriptions):
            if wanted.stream not in existing:
                existing[wanted.stream] = await _group_names(redis, wanted.stream)
            if wanted.group not in existing[wanted.stream]:
                missing.append(wanted)
    return missing


async def _group_names(redis: Redis, stream: str) -> set[str]:
    """Return the names of a stream's consumer groups (none when the stream is missing)."""
    try:
        groups = await redis.xinfo_groups(stream)
    except ResponseError as error:
        if "no such key" in str(error).lower():
            return set()
        if str(error).startswith("WRONGTYPE"):
            raise _wrong_type(stream, error) from error
        raise
    return {_text(group["name"]) for group in groups}


async def drop_streams(
    redis: Redis, prefix: str, services: Iterable[str], *, whole_prefix: bool = False
) -> ProvisionResult:
    """Delete the services' streams, dead-letter streams and key families.

    The key families (``souk_common.streams``, e.g. the payments provider's idempotency
    memory) are deleted by name, so the local stack's empty prefix loses them as well. With
    ``whole_prefix`` (the whole marketplace goes) every other key under a non-empty prefix is
    deleted too, so a deleted marketplace leaves nothing in Redis; removing one service must
    not pass it, or the other services' streams would go with it. An empty prefix never
    deletes other keys: they are not ours to tell.

    ``UNLINK`` frees a long stream in the background instead of blocking Redis.
    """
    actions: list[str] = []
    services = list(services)
    with _translated():
        for key in marketplace_stream_keys(prefix, services):
            if await redis.unlink(key):
                actions.append(f"deleted stream {key}")
        for family in service_key_prefixes(prefix, services):
            if deleted := await _unlink_matching(redis, family):
                actions.append(f"deleted {deleted} keys under {family}")
        if whole_prefix and prefix and (others := await _unlink_matching(redis, prefix)):
            actions.append(f"deleted {others} other keys under {prefix}")
    return ProvisionResult.from_actions(actions)


async def _unlink_matching(redis: Redis, prefix: str) -> int:
    """Unlink every key that starts with ``prefix``, in batches; return how many."""
    deleted = 0
    batch: list[bytes | str] = []
    async for key in redis.scan_iter(match=f"{_glob_escape(prefix)}*", count=500):
        batch.append(key)
        if len(batch) >= 500:
            deleted += await redis.unlink(*batch)
            batch = []
    if batch:
        deleted += await redis.unlink(*batch)
    return deleted


def _glob_escape(prefix: str) -> str:
    """Escape Redis glob characters so ``prefix`` matches only itself."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in prefix)
