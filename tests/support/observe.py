"""Reading what services left behind: their JSON log lines, and waiting for a condition."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from souk_devstack import LocalStack

T = TypeVar("T")


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


async def eventually(probe: Callable[[], Awaitable[T]], within: float = 15.0) -> T:
    """Await ``probe`` until it returns something truthy or ``within`` seconds pass."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await probe()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.1)
