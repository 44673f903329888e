"""Reading what services left behind: their JSON log lines, and waiting for a condition."""

from __future__ import annotations

import json
from typing import Any

from souk_devstack import LocalStack


def log_lines(stack: LocalStack, service: str) -> list[dict[str, Any]]:
    """Return every JSON log line the service's process wrote (other lines are skipped)."""
    path = stack.services[service].process.log_path
    lines = []
    for raw in path.read_text().splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict):
            lines.append(line)
    return lines


def lines_with(stack: LocalStack, service: str, correlation_id: str) -> list[dict[str, Any]]:
    """Return the service's log lines that carry ``correlation_id``."""
    return [
        line for line in log_lines(stack, service) if line.get("correlation_id") == correlation_id
    ]
