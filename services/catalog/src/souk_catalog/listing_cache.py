"""A short-lived, bounded cache of encoded product listings, with one load per key at a time.

The public listing is the hottest read of a shop and the same for every caller who is not
the seller or an admin, so catalog keeps each page's JSON for ``LISTING_CACHE_SECONDS``
(default 1 s; ``0`` turns the cache off). What may be stale, and for how long:

* product writes through this process (create, change, delete) empty the cache at once;
* stock changed by orders, and writes through another replica, show after at most the TTL
  (a reservation checks the real stock, so a stale listing never oversells);
* sellers and admins (who also see inactive products) are never served from the cache.

When a key is missing, the first request loads it and concurrent requests for the same key
wait for that load instead of running the same query (no stampede when an entry expires).
At most ``max_entries`` keys are kept (least recently used go first), so arbitrary ``q``
values cannot grow the process.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable


class ListingCache:
    """Encoded listings by key, each kept for ``ttl_seconds``, at most ``max_entries``."""

    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, bytes]] = OrderedDict()
        self._loading: dict[Hashable, asyncio.Future[bytes]] = {}
        self._generation = 0

    @property
    def enabled(self) -> bool:
        """Return whether entries are kept at all."""
        return self.ttl_seconds > 0 and self.max_entries > 0

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget every entry; loads already running will not store what they read."""
        self._entries.clear()
        self._generation += 1

    def _fresh(self, key: Hashable) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, body = entry
        if expires <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return body

    def _store(self, key: Hashable, body: bytes) -> None:
        self._entries[key] = (self._clock() + self.ttl_seconds, body)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[bytes]]) -> bytes:
        """Return the cached body for ``key``, or await ``load`` (once per key) and keep it."""
        if not self.enabled:
            return await load()
        while True:
            body = self._fresh(key)
            if body is not None:
                return body
            pending = self._loading.get(key)
            if pending is None:
                return await self._load(key, load)
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this request was cancelled, not the load it waited for
                # The loading request went away (its client disconnected): load again.

    async def _load(self, key: Hashable, load: Callable[[], Awaitable[bytes]]) -> bytes:
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        generation = self._generation
        try:
            body = await load()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as error:
            # Waiters fail as the load did, and load again on their next request.
            future.set_exception(error)
            future.exception()  # marks it retrieved: nobody may be waiting
            raise
        finally:
            del self._loading[key]
        future.set_result(body)
        if generation == self._generation:
            self._store(key, body)
        return body
