"""Event-handler throughput per consumer group, read from the services themselves.

Each service's ``/metrics`` counts the stream entries its consumer group handled
(``souk_stream_events_total{stream,group,outcome}``). Scraped before and after a phase, the
difference over the phase's length is the handled-events rate per group (every outcome
counts: ``ok``, ``duplicate``, ``ignored``; ``error`` and ``dead_letter`` are reported apart).
``XINFO GROUPS`` gives each group's backlog (lag + pending) at a moment, which shows which
group the saga waits for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from souk_common.events import stream_key
from souk_contracts.topology import subscriptions

HANDLED = frozenset({"ok", "duplicate", "ignored"})
Counts = dict[tuple[str, str, str], float]  # (group, stream, outcome) -> count


async def scrape_stream_counters(http: httpx.AsyncClient, urls: Mapping[str, str]) -> Counts:
    """Return every service's ``souk_stream_events_total`` samples."""
    counts: Counts = {}
    for url in urls.values():
        response = await http.get(f"{url}/metrics")
        response.raise_for_status()
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                if sample.name == "souk_stream_events_total":
                    labels = sample.labels
                    key = (labels["group"], labels["stream"], labels["outcome"])
                    counts[key] = counts.get(key, 0.0) + sample.value
    return counts


def group_rates(before: Counts, after: Counts, seconds: float) -> dict[str, dict[str, Any]]:
    """Return handled events and events/s per group (and per stream) between two scrapes."""
    groups: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"handled": 0, "failed": 0, "streams": defaultdict(float)}
    )
    for key, value in after.items():
        group, stream, outcome = key
        delta = value - before.get(key, 0.0)
        if outcome in HANDLED:
            groups[group]["handled"] += int(delta)
            groups[group]["streams"][stream] += delta
        else:
            groups[group]["failed"] += int(delta)
    return {
        group: {
            "handled": figures["handled"],
            "failed": figures["failed"],
            "handled_per_s": round(figures["handled"] / seconds, 1) if seconds else 0.0,
            "per_stream_per_s": {
                stream: round(count / seconds, 1) for stream, count in figures["streams"].items()
            },
        }
        for group, figures in sorted(groups.items())
    }


async def group_backlogs(redis: Redis, prefix: str, services: list[str]) -> dict[str, int]:
    """Return each group's backlog (entries not yet delivered plus delivered, not acked)."""
    backlog: dict[str, int] = {}
    for group, producers in subscriptions(services).items():
        total = 0
        for producer in producers:
            infos: list[dict[Any, Any]] = await redis.xinfo_groups(stream_key(prefix, producer))
            for info in infos:
                name = info.get("name", info.get(b"name"))
                name = name.decode() if isinstance(name, bytes) else name
                if name == group:
                    lag = info.get("lag", info.get(b"lag")) or 0
                    pending = info.get("pending", info.get(b"pending")) or 0
                    total += int(lag) + int(pending)
        backlog[group] = total
    return backlog
