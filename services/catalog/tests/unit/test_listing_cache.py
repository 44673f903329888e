"""ListingCache on its own: expiry, bound, one load per key, and what a failed load leaves."""

from __future__ import annotations

import asyncio

import pytest

from souk_catalog.listing_cache import ListingCache


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Loader:
    """Counts its calls; each returns ``b"<key>:<call number>"``, optionally after a gate."""

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.calls = 0
        self.gate = gate

    def for_key(self, key: str):
        async def load() -> bytes:
            self.calls += 1
            number = self.calls
            if self.gate is not None:
                await self.gate.wait()
            return f"{key}:{number}".encode()

        return load


async def test_an_entry_lives_for_the_ttl():
    clock = Clock()
    cache = ListingCache(1.0, 10, clock=clock)
    loader = Loader()
    assert await cache.get_or_load("a", loader.for_key("a")) == b"a:1"
    clock.now += 0.99
    assert await cache.get_or_load("a", loader.for_key("a")) == b"a:1"
    clock.now += 0.02
    assert await cache.get_or_load("a", loader.for_key("a")) == b"a:2"
    assert loader.calls == 2


async def test_the_least_recently_used_entry_goes_first():
    cache = ListingCache(60.0, 2, clock=Clock())
    loader = Loader()
    for key in ("a", "b"):
        await cache.get_or_load(key, loader.for_key(key))
    await cache.get_or_load("a", loader.for_key("a"))  # a is now the most recent
    await cache.get_or_load("c", loader.for_key("c"))  # evicts b
    assert len(cache) == 2
    calls = loader.calls
    assert await cache.get_or_load("a", loader.for_key("a")) == b"a:1"
    assert await cache.get_or_load("b", loader.for_key("b")) == f"b:{calls + 1}".encode()


async def test_concurrent_requests_for_a_key_share_one_load():
    gate = asyncio.Event()
    loader = Loader(gate)
    cache = ListingCache(60.0, 10, clock=Clock())
    waiting = [asyncio.create_task(cache.get_or_load("a", loader.for_key("a"))) for _ in range(20)]
    other = asyncio.create_task(cache.get_or_load("b", loader.for_key("b")))
    await asyncio.sleep(0)
    gate.set()
    assert set(await asyncio.gather(*waiting)) == {b"a:1"}
    assert await other == b"b:2"
    assert loader.calls == 2


async def test_clear_drops_entries_and_what_a_running_load_read():
    gate = asyncio.Event()
    loader = Loader(gate)
    cache = ListingCache(60.0, 10, clock=Clock())
    running = asyncio.create_task(cache.get_or_load("a", loader.for_key("a")))
    await asyncio.sleep(0)
    cache.clear()  # a write committed while the load was reading
    gate.set()
    assert await running == b"a:1"  # this request still gets what it read ...
    assert len(cache) == 0  # ... but nobody else will
    loader.gate = None
    assert await cache.get_or_load("a", loader.for_key("a")) == b"a:2"


async def test_a_failed_load_fails_its_waiters_and_is_not_kept():
    gate = asyncio.Event()
    cache = ListingCache(60.0, 10, clock=Clock())

    async def broken() -> bytes:
        await gate.wait()
        raise ConnectionError("database down")

    first = asyncio.create_task(cache.get_or_load("a", broken))
    second = asyncio.create_task(cache.get_or_load("a", broken))
    await asyncio.sleep(0)
    gate.set()
    for task in (first, second):
        with pytest.raises(ConnectionError):
            await task
    assert len(cache) == 0
    assert await cache.get_or_load("a", Loader().for_key("a")) == b"a:1"


async def leader_and_follower(loader: Loader) -> tuple[asyncio.Task[bytes], asyncio.Task[bytes]]:
    """Start a request that loads key ``a`` and a second one that waits for that load."""
    cache = ListingCache(60.0, 10, clock=Clock())
    leader = asyncio.create_task(cache.get_or_load("a", loader.for_key("a")))
    await asyncio.sleep(0)
    follower = asyncio.create_task(cache.get_or_load("a", loader.for_key("a")))
    await asyncio.sleep(0)
    return leader, follower


async def test_a_waiter_loads_itself_when_the_loading_request_is_cancelled():
    gate = asyncio.Event()
    loader = Loader(gate)
    leader, follower = await leader_and_follower(loader)
    leader.cancel()  # its client went away
    await asyncio.sleep(0)
    gate.set()
    assert await follower == b"a:2"
    assert leader.cancelled()


async def test_a_cancelled_waiter_leaves_the_load_running():
    gate = asyncio.Event()
    loader = Loader(gate)
    leader, follower = await leader_and_follower(loader)
    follower.cancel()
    gate.set()
    assert await leader == b"a:1"
    assert follower.cancelled()
    assert loader.calls == 1


@pytest.mark.parametrize(("ttl", "entries"), [(0.0, 10), (1.0, 0)])
async def test_a_disabled_cache_always_loads(ttl: float, entries: int):
    cache = ListingCache(ttl, entries, clock=Clock())
    loader = Loader()
    assert not cache.enabled
    for _ in range(3):
        await cache.get_or_load("a", loader.for_key("a"))
    assert loader.calls == 3
    assert len(cache) == 0
