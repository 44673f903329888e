"""Dropping a marketplace's Redis state: streams, key families, and the whole prefix."""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis

from souk_common.provisioning import drop_streams, ensure_streams
from souk_common.streams import service_key_prefix, stream_key
from souk_common.testing import REDIS_URL
from souk_contracts.topology import SERVICES, subscriptions

pytestmark = pytest.mark.integration


async def test_drop_streams_removes_every_stream_of_the_marketplace(redis_client, redis_prefix):
    await ensure_streams(redis_client, redis_prefix, subscriptions())
    await redis_client.xadd(f"{redis_prefix}dlq.orders", {"error": "boom"})
    result = await drop_streams(redis_client, redis_prefix, SERVICES)
    assert result.changed
    assert [key async for key in redis_client.scan_iter(match=f"{redis_prefix}*")] == []
    again = await drop_streams(redis_client, redis_prefix, SERVICES)
    assert (again.changed, again.actions) == (False, [])


async def test_drop_streams_removes_every_other_key_of_the_prefix_and_only_those(
    redis_client, redis_prefix
):
    await ensure_streams(redis_client, redis_prefix, subscriptions())
    await redis_client.set(f"{redis_prefix}payments:provider:charge:abc", "1")
    await redis_client.set(f"{redis_prefix}something:else", "1")
    neighbour = f"{redis_prefix.rstrip(':')}2:payments:provider:charge:abc"
    await redis_client.set(neighbour, "1")
    try:
        result = await drop_streams(redis_client, redis_prefix, SERVICES, whole_prefix=True)
        assert f"deleted 1 keys under {redis_prefix}payments:provider:" in result.actions
        assert f"deleted 1 other keys under {redis_prefix}" in result.actions
        assert [key async for key in redis_client.scan_iter(match=f"{redis_prefix}*")] == []
        assert await redis_client.exists(neighbour) == 1  # another marketplace's key stays
    finally:
        await redis_client.delete(neighbour)


async def test_dropping_one_service_keeps_the_other_services_streams(redis_client, redis_prefix):
    await ensure_streams(redis_client, redis_prefix, subscriptions())
    await redis_client.set(f"{redis_prefix}something:else", "1")
    await drop_streams(redis_client, redis_prefix, ["notifications"])
    assert await redis_client.exists(f"{redis_prefix}orders.events") == 1
    assert await redis_client.exists(f"{redis_prefix}something:else") == 1
    assert await redis_client.exists(f"{redis_prefix}dlq.notifications") == 0


async def test_drop_streams_under_the_empty_prefix_deletes_the_key_families_and_only_those():
    """The local stack's empty prefix: ``souk-dev reset`` must not leave the provider's keys.

    A Redis database of its own (``/9``) keeps this away from other users of the server.
    """
    redis = Redis.from_url(REDIS_URL.rsplit("/", 1)[0] + "/9")
    family = service_key_prefix("", "payments", "provider")
    ours = [f"{family}charge:{uuid.uuid4().hex}" for _ in range(3)]
    unrelated = [f"payments:other:{uuid.uuid4().hex}", f"session:{uuid.uuid4().hex}"]
    try:
        await ensure_streams(redis, "", subscriptions())
        for key in ours + unrelated:
            await redis.set(key, "1")
        result = await drop_streams(redis, "", SERVICES)
        assert f"deleted 3 keys under {family}" in result.actions
        assert [key async for key in redis.scan_iter(match=f"{family}*")] == []
        assert await redis.exists(*unrelated) == len(unrelated)  # a shared Redis keeps the rest
        assert await redis.exists(*(stream_key("", s) for s in SERVICES)) == 0
    finally:
        await redis.delete(*ours, *unrelated)
        await redis.aclose()


def test_a_key_family_must_be_declared():
    assert service_key_prefix("m:", "payments", "provider") == "m:payments:provider:"
    with pytest.raises(ValueError, match="SERVICE_KEY_FAMILIES"):
        service_key_prefix("m:", "orders", "scratch")
