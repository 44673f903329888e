"""An open-loop load driver: arrivals on a fixed schedule, whatever the replies do.

wrk (closed loop) finds a maximum rate; a latency *at a given rate* needs an open loop.
Request ``n`` is due at ``start + n / rate`` on the monotonic clock and is started then in its
own task, so a slow reply never delays the next arrival. Its latency is measured from the
time it was **due**, not from when the driver got round to sending it: if the driver (or the
machine) falls behind, that delay counts against the system instead of vanishing, which is
what "no coordinated omission" means. The driver reports how late it dispatched, so a
starved client shows up in the figures.

When the system falls far behind, requests in flight would pile up without bound and the
driver itself (one Python process) would starve; past ``max_in_flight`` an arrival is
**dropped** (not sent, counted as failed), as k6's arrival-rate executors drop iterations
when they run out of virtual users.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# send(n, due_wall_time) -> True when the reply counts as a success.
Send = Callable[[int, float], Awaitable[bool]]


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the ``fraction`` percentile (nearest rank) of ``values``; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def latency_summary(values_ms: Sequence[float]) -> dict[str, float]:
    """Return p50/p95/p99/max of latencies in milliseconds."""
    return {
        "p50_ms": round(percentile(values_ms, 0.50), 3),
        "p95_ms": round(percentile(values_ms, 0.95), 3),
        "p99_ms": round(percentile(values_ms, 0.99), 3),
        "max_ms": round(max(values_ms), 3) if values_ms else math.nan,
    }


@dataclass
class OpenLoopResult:
    """What an open-loop run offered, achieved and measured."""

    target_rate: float
    seconds: float
    scheduled: int = 0
    succeeded: int = 0
    failed: int = 0
    dropped: int = 0  # arrivals not sent because ``max_in_flight`` requests were in flight
    send_span_s: float = 0.0
    finish_span_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    dispatch_lag_ms: list[float] = field(default_factory=list)

    @property
    def achieved_rate(self) -> float:
        """Successful replies per second, from the first due time to the last reply."""
        return self.succeeded / self.finish_span_s if self.finish_span_s else 0.0

    @property
    def sent_rate(self) -> float:
        """Requests dispatched per second (equals the target when the driver kept up)."""
        return (self.scheduled - 1) / self.send_span_s if self.send_span_s else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Return the figures as plain JSON values."""
        return {
            "target_rate": round(self.target_rate, 1),
            "seconds": self.seconds,
            "scheduled": self.scheduled,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "dropped": self.dropped,
            "sent_per_s": round(self.sent_rate, 1),
            "achieved_per_s": round(self.achieved_rate, 1),
            **latency_summary(self.latencies_ms),
            "dispatch_lag_p99_ms": round(percentile(self.dispatch_lag_ms, 0.99), 3),
            "dispatch_lag_max_ms": round(max(self.dispatch_lag_ms, default=0.0), 3),
        }


async def open_loop(
    send: Send, rate: float, seconds: float, max_in_flight: int = 100
) -> OpenLoopResult:
    """Call ``send`` ``rate`` times a second for ``seconds``; measure from each due time."""
    result = OpenLoopResult(target_rate=rate, seconds=seconds)
    count = max(1, int(rate * seconds))
    interval = 1.0 / rate
    begin = time.monotonic()
    wall_offset = time.time() - begin  # maps a monotonic due time to the wall clock once
    last_finish = begin
    last_send = begin

    async def one(n: int, due: float) -> None:
        nonlocal last_finish
        try:
            ok = await send(n, due + wall_offset)
        except Exception:  # a refused connection or a timeout is a failed request
            ok = False
        finished = time.monotonic()
        last_finish = max(last_finish, finished)
        if ok:
            result.succeeded += 1
            result.latencies_ms.append((finished - due) * 1000)
        else:
            result.failed += 1

    in_flight: set[asyncio.Task[None]] = set()  # finished tasks leave it (long soaks)
    for n in range(count):
        due = begin + n * interval
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        last_send = time.monotonic()
        result.dispatch_lag_ms.append(max(0.0, last_send - due) * 1000)
        if len(in_flight) >= max_in_flight:
            result.dropped += 1
            result.failed += 1
            continue
        task = asyncio.create_task(one(n, due))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.gather(*in_flight)
    result.scheduled = count
    result.send_span_s = last_send - begin
    result.finish_span_s = last_finish - begin
    return result
