"""The terminal report of a run: figures beside their limits, goals, cost, profiles."""

from __future__ import annotations

from typing import Any

from tests.bench.report import Goal


def _n(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value != value:  # NaN
        return "-"
    if isinstance(value, int | float) and abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _pct(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 100:.1f}%" if value >= 0.01 else f"{value * 100:.2f}%"


def _latency(result: dict[str, Any], prefix: str = "") -> str:
    return " / ".join(_n(result[f"{prefix}{p}_ms"]) for p in ("p50", "p95", "p99"))


def render(doc: dict[str, Any], goal_list: list[Goal]) -> str:
    """Return the whole report as text."""
    limits, platform = doc["limits"], doc["platform"]
    events, trivial = limits["events"], limits["trivial"]
    ratios = doc["ratios"]
    saturation, half = platform["saga"]["saturation"], platform["saga"]["half_rate"]
    machine = doc["machine"]
    lines = [
        f"Souk benchmark ({doc['mode']}): {machine['cores']} cores, {machine['cpu_model']}, "
        f"{machine['memory_mib']:,} MiB; load average {doc['load_average']['start']} at start, "
        f"{doc['load_average']['end']} at end; commit {str(machine['git']['commit'])[:10]}"
        + (" (+ uncommitted changes)" if machine["git"]["uncommitted_changes"] else ""),
        "",
    ]
    rows: list[tuple[str, str, str, str]] = []

    def row(name: str, value: str, unit: str = "", vs: str = "") -> None:
        rows.append((name, value, unit, vs))

    row("LIMITS OF THE PARTS", "", "", "")
    row("Redis XADD, pipelined (Python)", _n(events["xadd_pipelined_per_s"]), "events/s")
    row("Redis XADD, one round trip each", _n(events["xadd_single_per_s"]), "events/s")
    row("Redis XREADGROUP+XACK, batched", _n(events["xreadgroup_xack_per_s"]), "events/s")
    row(
        "PostgreSQL insert+update transactions",
        _n(limits["postgres"]["transactions_per_s"]),
        "tx/s",
        f"{limits['postgres']['connections']} connections",
    )
    row(
        "trivial endpoint GET /ping (wrk)",
        _n(trivial["requests_per_s"]),
        "req/s",
        f"{trivial['connections']} connections",
    )
    row("  p50 / p95 / p99", _latency(trivial), "ms")
    row("THE PLATFORM", "", "", "")
    for key, label in (("no_q", "GET /api/catalog/products"), ("q", "  ... with q")):
        result = platform["catalog"][key]
        row(
            label,
            _n(result["requests_per_s"]),
            "req/s",
            f"{_pct(ratios[f'catalog.{key} / trivial'])} of trivial",
        )
        row("  p50 / p95 / p99", _latency(result), "ms")
    login = platform["login"]
    argon = login["argon2"]
    row(
        "POST /api/auth/login",
        _n(login["requests_per_s"]),
        "req/s",
        f"argon2id t={argon['time_cost']} m={argon['memory_cost_kib'] // 1024}MiB "
        f"p={argon['parallelism']}, {login['connections']} conns",
    )
    row("  p50 / p95 / p99", _latency(login), "ms")
    post = platform["orders_post"]
    row(
        f"POST /api/orders open loop @ {post['target_rate']:.0f}/s",
        _n(post["achieved_per_s"]),
        "req/s achieved",
        f"sent {_n(post['sent_per_s'])}/s (driver lag p99 {_n(post['dispatch_lag_p99_ms'])} ms), "
        f"{post['failed']} failed ({post['dropped']} dropped)",
    )
    row("  p50 / p95 / p99 (from due time)", _latency(post), "ms")
    closed = saturation["post"]
    row(
        "POST /api/orders closed loop (wrk, saga on)",
        _n(closed["requests_per_s"]),
        "req/s",
        f"{_pct(ratios['orders_post.closed_loop / trivial'])} of trivial",
    )
    row("  p50 / p95 / p99", _latency(closed), "ms")
    row(
        "saga: confirmed orders/s at saturation",
        _n(saturation["orders_per_s"]),
        "orders/s",
        f"{saturation['confirmed']}/{saturation['orders']} confirmed",
    )
    row(
        "  confirmed/s while the load ran",
        _n(saturation["confirmed_per_s_while_loading"]),
        "orders/s",
        f"drain {saturation['drain_seconds']} s after the load",
    )
    row(
        f"saga: POST -> CONFIRMED @ {half['rate']}/s (half)",
        _latency(half, "confirm_"),
        "ms",
        f"{half['confirmed']}/{half['orders']} confirmed",
    )
    for group, rates in saturation["consumer_groups"].items():
        backlog = saturation["backlog_at_load_end"].get(group, 0)
        row(
            f"consumer group {group}",
            _n(rates["handled_per_s"]),
            "events/s",
            f"{_pct(ratios[f'group {group} / raw xreadgroup+xack'])} of raw; "
            f"backlog {backlog} at load end",
        )
    row(
        "consumer runner alone (1 insert/event)",
        _n(events["consumer_runner_per_s"]),
        "events/s",
        f"{_pct(ratios['consumer_runner / raw xreadgroup+xack'])} of raw",
    )
    row(
        "consumer runner alone (batch handler)",
        _n(events["consumer_batch_handler_per_s"]),
        "events/s",
        f"{_pct(ratios['consumer_batch_handler / raw xreadgroup+xack'])} of raw; "
        f"1 tx per read of {events['consumer_batch_handler_read']}",
    )
    row(
        "outbox relay alone",
        _n(events["outbox_relay_per_s"]),
        "events/s",
        f"{_pct(ratios['outbox_relay / raw xadd pipelined'])} of raw XADD",
    )
    width = max(len(r[0]) for r in rows) + 2
    for name, value, unit, vs in rows:
        if not value and not unit:
            lines.append(name)
        else:
            lines.append(f"  {name:<{width}}{value:>18}  {unit:<15}{vs}")
    lines += ["", "GOALS"]
    for goal in goal_list:
        measured = "-" if goal.measured is None else _n(goal.measured, 3)
        target = f"{'>=' if goal.at_least else '<'} {_n(goal.target, 2)} {goal.unit}"
        lines.append(
            f"  {goal.status.upper():<8}{goal.name:<50}{measured:>10}  {target:<22}{goal.margin}"
            + (f" ({goal.note})" if goal.note and goal.precondition_met else "")
        )
    lines += _cost_lines(saturation["cost"])
    if doc.get("soak"):
        lines += _soak_lines(doc["soak"])
    if saturation.get("profiles"):
        lines += _profile_lines(saturation["profiles"])
    if doc.get("problems"):
        lines += ["", "PROBLEMS", *(f"  {problem}" for problem in doc["problems"])]
    return "\n".join(lines)


def _cost_lines(cost: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"COST during saturation ({cost['orders']} orders in {cost['window_s']} s, "
        f"machine {_pct(cost['machine_cpu_busy'])} busy, "
        f"{_n(cost['machine_cpu_s_per_1000_orders'], 2)} CPU-s per 1,000 orders in all)",
        f"  {'process':<22}{'CPU-s':>9}{'CPU-s/1000 orders':>19}{'cores used':>12}"
        f"{'peak RSS MiB':>14}",
    ]
    for name, entry in cost["processes"].items():
        lines.append(
            f"  {name:<22}{_n(entry['cpu_s'], 2):>9}{_n(entry['cpu_s_per_1000_orders'], 3):>19}"
            f"{_n(entry['cpu_share'], 2):>12}{_n(entry.get('peak_rss_mib')):>14}"
        )
    if not cost["peak_is_phase_only"]:
        lines.append("  (peak RSS since process start: the kernel refused to reset VmHWM)")
    return lines


def _soak_lines(soak: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"SOAK {soak['seconds']:.0f} s at {soak['rate']} orders/s "
        f"(achieved {soak['post']['achieved_per_s']}/s); growth = second-half slope > "
        f"{soak['max_slope_mib_per_min']} MiB/min",
        f"  {'process':<16}{'start':>9}{'end':>9}{'max':>9}{'MiB/min':>10}{'2nd half':>10}",
    ]
    for name, p in soak["processes"].items():
        lines.append(
            f"  {name:<16}{p['start_mib']:>9.1f}{p['end_mib']:>9.1f}{p['max_mib']:>9.1f}"
            f"{p['slope_mib_per_min']:>10.3f}{p['slope_second_half_mib_per_min']:>10.3f}"
            + ("  GROWS" if p["grows"] else "")
        )
    return lines


def _profile_lines(profiles: dict[str, Any]) -> list[str]:
    lines = ["", "PROFILES (py-spy during saturation; top self time)"]
    for name, result in profiles.items():
        if "error" in result:
            lines.append(f"  {name}: py-spy failed: {result['error'].strip()[:200]}")
            continue
        lines.append(f"  {name}: {result['speedscope']} ({result['samples']} samples)")
        lines.append("    self time:")
        for entry in result["top_self"][:5]:
            lines.append(f"      {entry['share'] * 100:5.1f}%  {entry['frame']}")
        lines.append("    souk functions, inclusive:")
        for entry in result["top_souk_inclusive"][:5]:
            lines.append(f"      {entry['share'] * 100:5.1f}%  {entry['frame']}")
    return lines
