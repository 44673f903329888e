"""Turning a run's results into figures, ratios to limits, goal verdicts and a text table.

``figures`` is a flat ``{name: number}`` map of every measured figure (what two runs are
compared by, and what the smoke test checks); ``ratios`` divides each platform figure by the
limit of the part it stands on; ``goals`` judges the performance goals: ``pass``, ``miss``
(with by how much) or ``not run``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

# The performance goals (docs/performance.md), on a 2-core machine that runs everything: the
# saga, catalog's listing, order placement and a consumer group against the limits below.
SAGA_MIN_ORDERS_PER_S = 300.0
SAGA_MAX_CONFIRM_P99_MS = 250.0
CATALOG_MIN_SHARE_OF_TRIVIAL = 0.40
ORDERS_POST_RATE = 200.0
ORDERS_MAX_P99_MS = 30.0
CONSUMER_MIN_SHARE_OF_RAW = 0.25
_COST_KEYS = {
    "postgresql (server)": "postgresql",
    "redis (server)": "redis",
    "bench harness + wrk": "harness",
}


@dataclass(frozen=True)
class Goal:
    """One goal: what was measured against what was asked."""

    name: str
    measured: float | None
    target: float
    unit: str
    at_least: bool  # True: measured >= target passes; False: measured < target passes
    note: str = ""
    precondition_met: bool = True  # e.g. the open loop really sent at the asked rate

    @property
    def status(self) -> str:
        """``pass``, ``miss`` or ``not run``."""
        if self.measured is None or math.isnan(self.measured):
            return "not run"
        ok = self.measured >= self.target if self.at_least else self.measured < self.target
        return "pass" if ok and self.precondition_met else "miss"

    @property
    def margin(self) -> str:
        """How far from the goal, in words (``missed by 40%``, ``3.1x over``)."""
        if self.status == "not run" or self.measured is None:
            return ""
        if not self.precondition_met:
            return f"missed: {self.note}"
        if self.at_least:
            if self.measured >= self.target:
                return f"{self.measured / self.target:.2f}x the goal"
            return f"missed by {(1 - self.measured / self.target) * 100:.0f}%"
        if self.measured < self.target:
            return f"{self.measured / self.target * 100:.0f}% of the limit"
        return f"missed: {self.measured / self.target:.2f}x the limit"

    def as_dict(self) -> dict[str, Any]:
        """Return the goal with its verdict as plain JSON values."""
        return {**asdict(self), "status": self.status, "margin": self.margin}


def _ratio(value: float | None, limit: float | None) -> float | None:
    if value is None or not limit:
        return None
    return round(value / limit, 4)


def figures(doc: dict[str, Any]) -> dict[str, float]:
    """Return every measured figure of a run as ``{name: number}``."""
    out: dict[str, float] = {}
    events, pg = doc["limits"]["events"], doc["limits"]["postgres"]
    for key in (
        "xadd_pipelined_per_s",
        "xadd_single_per_s",
        "xreadgroup_xack_per_s",
        "outbox_relay_per_s",
        "consumer_runner_per_s",
        "consumer_batch_handler_per_s",
    ):
        out[f"limits.{key}"] = events[key]
    out["limits.postgres_tx_per_s"] = pg["transactions_per_s"]

    def wrk_figures(prefix: str, result: dict[str, Any]) -> None:
        out[f"{prefix}.requests_per_s"] = result["requests_per_s"]
        for p in ("p50_ms", "p95_ms", "p99_ms"):
            out[f"{prefix}.{p}"] = result[p]

    wrk_figures("limits.trivial", doc["limits"]["trivial"])
    platform = doc["platform"]
    wrk_figures("catalog.no_q", platform["catalog"]["no_q"])
    wrk_figures("catalog.q", platform["catalog"]["q"])
    wrk_figures("login", platform["login"])
    post = platform["orders_post"]
    out["orders_post.achieved_per_s"] = post["achieved_per_s"]
    for p in ("p50_ms", "p95_ms", "p99_ms"):
        out[f"orders_post.{p}"] = post[p]
    saturation = platform["saga"]["saturation"]
    wrk_figures("orders_post.closed_loop", saturation["post"])
    out["saga.orders_per_s"] = saturation["orders_per_s"]
    half = platform["saga"]["half_rate"]
    out["saga.half_rate.rate"] = half["rate"]
    for p in ("p50_ms", "p95_ms", "p99_ms"):
        out[f"saga.half_rate.confirm_{p}"] = half[f"confirm_{p}"]
    for group, rates in saturation["consumer_groups"].items():
        out[f"groups.{group}.handled_per_s"] = rates["handled_per_s"]
    cost = saturation["cost"]
    for name, entry in cost["processes"].items():
        key = _COST_KEYS.get(name, name)
        out[f"cost.{key}.cpu_s_per_1000_orders"] = entry["cpu_s_per_1000_orders"]
        if entry.get("peak_rss_mib") is not None:
            out[f"cost.{key}.peak_rss_mib"] = entry["peak_rss_mib"]
    out["cost.machine.cpu_s_per_1000_orders"] = cost["machine_cpu_s_per_1000_orders"]
    soak = doc.get("soak")
    if soak:
        for name, entry in soak["processes"].items():
            out[f"soak.{name}.max_mib"] = entry["max_mib"]
    return out


def ratios(doc: dict[str, Any]) -> dict[str, float | None]:
    """Return each platform figure as a share of the limit it stands on."""
    limits, platform = doc["limits"], doc["platform"]
    trivial = limits["trivial"]["requests_per_s"]
    raw_read = limits["events"]["xreadgroup_xack_per_s"]
    saturation = platform["saga"]["saturation"]
    out: dict[str, float | None] = {
        "catalog.no_q / trivial": _ratio(platform["catalog"]["no_q"]["requests_per_s"], trivial),
        "catalog.q / trivial": _ratio(platform["catalog"]["q"]["requests_per_s"], trivial),
        "login / trivial": _ratio(platform["login"]["requests_per_s"], trivial),
        "orders_post.closed_loop / trivial": _ratio(saturation["post"]["requests_per_s"], trivial),
        "consumer_runner / raw xreadgroup+xack": _ratio(
            limits["events"]["consumer_runner_per_s"], raw_read
        ),
        "consumer_batch_handler / raw xreadgroup+xack": _ratio(
            limits["events"]["consumer_batch_handler_per_s"], raw_read
        ),
        "outbox_relay / raw xadd pipelined": _ratio(
            limits["events"]["outbox_relay_per_s"], limits["events"]["xadd_pipelined_per_s"]
        ),
        "saga orders/s / postgres tx/s": _ratio(
            saturation["orders_per_s"], limits["postgres"]["transactions_per_s"]
        ),
    }
    for group, rates in saturation["consumer_groups"].items():
        out[f"group {group} / raw xreadgroup+xack"] = _ratio(rates["handled_per_s"], raw_read)
    return out


def goals(doc: dict[str, Any]) -> list[Goal]:
    """Return the performance goals judged against this run."""
    limits, platform = doc["limits"], doc["platform"]
    trivial = limits["trivial"]["requests_per_s"]
    saga = platform["saga"]
    post = platform["orders_post"]
    sustained = post["achieved_per_s"] >= 0.95 * post["target_rate"]
    found = [
        Goal(
            "saga: completed orders/s at saturation",
            saga["saturation"]["orders_per_s"],
            SAGA_MIN_ORDERS_PER_S,
            "orders/s",
            at_least=True,
        ),
        Goal(
            "saga: p99 POST -> CONFIRMED at half rate",
            saga["half_rate"]["confirm_p99_ms"],
            SAGA_MAX_CONFIRM_P99_MS,
            "ms",
            at_least=False,
        ),
        Goal(
            "catalog (no q): share of trivial endpoint rate",
            _ratio(platform["catalog"]["no_q"]["requests_per_s"], trivial),
            CATALOG_MIN_SHARE_OF_TRIVIAL,
            "ratio",
            at_least=True,
        ),
        Goal(
            "catalog (q): share of trivial endpoint rate",
            _ratio(platform["catalog"]["q"]["requests_per_s"], trivial),
            CATALOG_MIN_SHARE_OF_TRIVIAL,
            "ratio",
            at_least=True,
        ),
        Goal(
            f"POST /api/orders p99 at {post['target_rate']:.0f} req/s (open loop)",
            post["p99_ms"],
            ORDERS_MAX_P99_MS,
            "ms",
            at_least=False,
            note=f"achieved {post['achieved_per_s']} req/s",
            precondition_met=sustained,
        ),
        Goal(
            "consumer group: share of raw XREADGROUP+XACK",
            _ratio(
                limits["events"]["consumer_batch_handler_per_s"],
                limits["events"]["xreadgroup_xack_per_s"],
            ),
            CONSUMER_MIN_SHARE_OF_RAW,
            "ratio",
            at_least=True,
            note=(
                "consumer runner alone, one database transaction per read of "
                f"{limits['events']['consumer_batch_handler_read']}: a BatchEventHandler "
                "inserting the read's rows in one statement (bench_events)"
            ),
        ),
    ]
    soak = doc.get("soak")
    growing = None
    if soak:
        growing = [name for name, p in soak["processes"].items() if p["grows"]]
    found.append(
        Goal(
            "soak: processes growing in memory",
            None if soak is None else len(growing or []),
            1,
            "processes",
            at_least=False,
            note=", ".join(growing or []) or ("" if soak else "run with --soak 600"),
        )
    )
    return found


def problems(doc: dict[str, Any]) -> list[str]:
    """Return what went wrong in the run (errors, failed requests, stalled drains)."""
    found: list[str] = []
    platform = doc["platform"]
    saturation = platform["saga"]["saturation"]
    wrk_runs = {
        "trivial endpoint": doc["limits"]["trivial"],
        "catalog (no q)": platform["catalog"]["no_q"],
        "catalog (q)": platform["catalog"]["q"],
        "login": platform["login"],
        "orders (closed loop)": saturation["post"],
    }
    for name, result in wrk_runs.items():
        errors = {kind: n for kind, n in result["errors"].items() if n}
        if errors:
            found.append(f"{name}: wrk counted errors {errors}")
        if not result["requests"]:
            found.append(f"{name}: no request completed")
    open_loops = {
        "orders open loop": platform["orders_post"],
        "saga half rate": platform["saga"]["half_rate"]["post"],
    }
    drains = {
        "saturation": saturation["drained"],
        "half rate": platform["saga"]["half_rate"]["drained"],
    }
    if doc.get("soak"):
        open_loops["soak"] = doc["soak"]["post"]
        drains["soak"] = doc["soak"]["drained"]
    for name, result in open_loops.items():
        if result["failed"]:
            found.append(
                f"{name}: {result['failed']} of {result['scheduled']} requests failed "
                f"({result['dropped']} of them dropped: too many in flight)"
            )
        if result["sent_per_s"] < 0.95 * result["target_rate"]:
            found.append(
                f"{name}: the driver fell behind, sent {result['sent_per_s']}/s of "
                f"{result['target_rate']}/s (dispatch lag p99 {result['dispatch_lag_p99_ms']} ms;"
                " latencies count from due times, so they include it)"
            )
    for name, drained in drains.items():
        if drained.get("stalled"):
            found.append(f"{name}: the saga stalled before draining: {drained}")
    if saturation["confirmed"] < saturation["orders"]:
        found.append(
            f"saturation: {saturation['orders'] - saturation['confirmed']} orders ended "
            "otherwise than CONFIRMED"
        )
    for service, events in platform.get("service_log_warnings", {}).items():
        for key, entry in list(events.items())[:4]:
            example = f" ({entry['example']})" if entry["example"] else ""
            found.append(f"{service} logged {entry['count']} x {key}{example}")
    for name, result in (saturation.get("profiles") or {}).items():
        if "error" in result:
            found.append(f"profile of {name}: {result['error'].strip()[:200]}")
    return found
