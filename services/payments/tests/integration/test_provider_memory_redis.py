"""The simulated provider's memory in Redis: one answer per key for every replica, for a day."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from redis.asyncio import Redis

from souk_common.streams import service_key_prefix
from souk_payments.provider import RedisMemory, SimulatedProvider, TemporaryProviderError

FIVE = Decimal("5.00")


async def test_replicas_sharing_redis_charge_and_refund_a_key_once(
    redis_client: Redis, redis_prefix: str
):
    prefix = service_key_prefix(redis_prefix, "payments", "provider")
    first, second = (SimulatedProvider(RedisMemory(redis_client, prefix)) for _ in range(2))
    charge = await first.charge("order-1", FIVE, "EUR", "pm_card_visa")
    assert await second.charge("order-1", FIVE, "EUR", "pm_card_visa") == charge
    assert (first.charges_made, second.charges_made) == (1, 0)
    assert charge.charge_ref is not None
    refund = await second.refund("refund:order-1", charge.charge_ref, FIVE, "EUR")
    assert await first.refund("refund:order-1", charge.charge_ref, FIVE, "EUR") == refund
    ttl = await redis_client.ttl(f"{prefix}charge:order-1")
    assert 86_000 < ttl <= 86_400


async def test_concurrent_charges_of_one_key_agree(redis_client: Redis, redis_prefix: str):
    prefix = service_key_prefix(redis_prefix, "payments", "provider")
    replicas = [SimulatedProvider(RedisMemory(redis_client, prefix)) for _ in range(8)]
    results = await asyncio.gather(
        *(replica.charge("order-2", FIVE, "EUR", "pm_card_visa") for replica in replicas)
    )
    assert len({result.charge_ref for result in results}) == 1
    assert sum(replica.charges_made for replica in replicas) == 1


async def test_a_retry_token_fails_once_across_replicas(redis_client: Redis, redis_prefix: str):
    prefix = service_key_prefix(redis_prefix, "payments", "provider")
    first, second = (SimulatedProvider(RedisMemory(redis_client, prefix)) for _ in range(2))
    with pytest.raises(TemporaryProviderError):
        await first.charge("order-3", FIVE, "EUR", "pm_card_retry")
    assert (await second.charge("order-3", FIVE, "EUR", "pm_card_retry")).succeeded
