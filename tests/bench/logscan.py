"""Warnings and errors the services logged during a run (a figure is only as good as that).

Each service of the stack writes JSON lines to its own log file; the harness counts the lines
at level warning, error or critical by event name, keeping one message as an example, so a
retrying consumer or a failing dependency shows up next to the figures it distorted.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

LEVELS = frozenset({"warning", "error", "critical"})


def scan(path: Path) -> dict[str, Any]:
    """Return ``{"level event": {"count": n, "example": "..."}}`` for one JSON-lines log."""
    counts: Counter[str] = Counter()
    examples: dict[str, str] = {}
    if not path.exists():
        return {}
    with path.open(errors="replace") as lines:
        for line in lines:
            if not line.startswith("{"):
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            level = str(record.get("level", "")).lower()
            if level not in LEVELS:
                continue
            key = f"{level} {record.get('event', '?')}"
            counts[key] += 1
            message = record.get("error") or record.get("exception") or ""
            examples.setdefault(key, str(message)[:200])
    return {key: {"count": n, "example": examples[key]} for key, n in counts.most_common()}


def scan_services(paths: dict[str, Path]) -> dict[str, dict[str, Any]]:
    """Return the warnings and errors of each service's log, services without any left out."""
    found = {name: scan(path) for name, path in paths.items()}
    return {name: events for name, events in found.items() if events}
