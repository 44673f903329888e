"""Two result files side by side: every figure, its change, and the goals of each run."""

from __future__ import annotations

from typing import Any

# Figures where a larger value is worse (latencies, cost, memory).
_LOWER_IS_BETTER = ("_ms", "cpu_s_per_1000_orders", "_mib")


def compare(before: dict[str, Any], after: dict[str, Any]) -> str:
    """Return a text table of ``before`` and ``after`` figures with the change in percent."""
    names = list(dict.fromkeys([*before["figures"], *after["figures"]]))
    width = max(len(name) for name in names) + 2
    lines = [
        f"before: {before['started_at']} {before['mode']} commit "
        f"{str(before['machine']['git']['commit'])[:10]} load {before['load_average']['start']}",
        f"after:  {after['started_at']} {after['mode']} commit "
        f"{str(after['machine']['git']['commit'])[:10]} load {after['load_average']['start']}",
        "",
        f"{'figure':<{width}}{'before':>12}{'after':>12}{'change':>10}",
    ]
    for name in names:
        old, new = before["figures"].get(name), after["figures"].get(name)
        change = ""
        if old and new is not None:
            delta = (new - old) / old * 100
            better = (delta < 0) == name.endswith(_LOWER_IS_BETTER)
            change = f"{delta:+.0f}%" + (" " if abs(delta) < 5 else (" +" if better else " -"))
        lines.append(f"{name:<{width}}{_fmt(old):>12}{_fmt(new):>12}{change:>10}")
    lines += ["", f"{'goal':<52}{'before':>10}{'after':>10}"]
    old_goals = {g["name"]: g["status"] for g in before.get("goals", [])}
    for goal in after.get("goals", []):
        old = old_goals.get(goal["name"], "-")
        lines.append(f"{goal['name']:<52}{old:>10}{goal['status']:>10}")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.2f}"
