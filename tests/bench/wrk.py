"""Running wrk (the load generator) and reading its figures.

Each run uses one of the Lua scripts in ``wrk/``; their shared ``done()`` prints a line
``SOUK_WRK_JSON {...}`` with requests/s, p50/p90/p95/p99 and error counts. When that line is
missing (an old wrk, a script error) the figures are read from the ``--latency`` text output
instead, so a run is never silently empty.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().parent / "wrk"
MARKER = "SOUK_WRK_JSON "
INSTALL_HINT = "wrk is not installed: run scripts/install-bench-tools.sh (Debian package wrk)"
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


class WrkError(RuntimeError):
    """wrk is missing, failed, or printed nothing the harness can read."""


@dataclass(frozen=True)
class WrkResult:
    """Figures of one wrk run (closed loop: ``connections`` requests in flight)."""

    requests: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int] = field(default_factory=dict)
    connections: int = 0
    threads: int = 0

    @property
    def error_count(self) -> int:
        """Socket errors plus non-2xx/3xx replies."""
        return sum(self.errors.values())

    def as_dict(self) -> dict[str, Any]:
        """Return the figures as plain JSON values."""
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "requests_per_s": round(self.requests_per_s, 1),
            "p50_ms": round(self.p50_ms, 3),
            "p90_ms": round(self.p90_ms, 3),
            "p95_ms": round(self.p95_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "max_ms": round(self.max_ms, 3),
            "errors": self.errors,
            "connections": self.connections,
            "threads": self.threads,
        }


def wrk_path() -> str | None:
    """Return the wrk executable, or None when it is not installed."""
    return shutil.which("wrk")


def wrk_version() -> str | None:
    """Return wrk's version line (``wrk 4.1.0 ...``), or None."""
    path = wrk_path()
    if path is None:
        return None
    done = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    first = (done.stdout or done.stderr).strip().splitlines()
    return first[0].split(" Copyright")[0] if first else None


def _duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise WrkError(f"unreadable wrk duration {text!r}")
    return float(match[1]) * _UNITS_MS[match[2]]


def parse_output(output: str, connections: int = 0, threads: int = 0) -> WrkResult:
    """Return the figures of one wrk run from its standard output."""
    for line in output.splitlines():
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER) :])
            return WrkResult(
                requests=int(data["requests"]),
                seconds=float(data["duration_s"]),
                requests_per_s=float(data["requests_per_s"]),
                p50_ms=float(data["p50_ms"]),
                p90_ms=float(data["p90_ms"]),
                p95_ms=float(data["p95_ms"]),
                p99_ms=float(data["p99_ms"]),
                max_ms=float(data["max_ms"]),
                errors={k: int(v) for k, v in data["errors"].items()},
                connections=connections,
                threads=threads,
            )
    return _parse_text(output, connections, threads)


def _parse_text(output: str, connections: int, threads: int) -> WrkResult:
    """Fallback: read wrk's own ``--latency`` report."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in ([\d.]+\w+),", output)
    found = re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", output, re.MULTILINE)
    percentiles: dict[str, str] = dict(found)
    if not (rate and total and "50" in percentiles and "99" in percentiles):
        raise WrkError(f"wrk printed no figures:\n{output[-2000:]}")
    latency_max = re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", output)
    errors: dict[str, int] = {}
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if socket:
        names = ("connect", "read", "write", "timeout")
        errors.update(zip(names, map(int, socket.groups()), strict=True))
    status = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors["status"] = int(status[1]) if status else 0
    p90 = _duration_ms(percentiles.get("90", percentiles["99"]))
    return WrkResult(
        requests=int(total[1]),
        seconds=_duration_ms(total[2]) / 1000,
        requests_per_s=float(rate[1]),
        p50_ms=_duration_ms(percentiles["50"]),
        p90_ms=p90,
        p95_ms=float("nan"),  # wrk's text report has no p95
        p99_ms=_duration_ms(percentiles["99"]),
        max_ms=_duration_ms(latency_max[1]) if latency_max else float("nan"),
        errors=errors,
        connections=connections,
        threads=threads,
    )


async def run_wrk(
    url: str,
    *,
    script: str = "get.lua",
    script_args: list[str] | None = None,
    seconds: float,
    connections: int,
    threads: int = 1,
    timeout_s: float = 10.0,
) -> WrkResult:
    """Run wrk against ``url`` for ``seconds`` and return its figures."""
    path = wrk_path()
    if path is None:
        raise WrkError(INSTALL_HINT)
    threads = max(1, min(threads, connections))
    argv = [
        path,
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        f"--timeout={max(1, round(timeout_s))}s",
        "--latency",
        f"--script={SCRIPTS / script}",
        url,
    ]
    if script_args:
        argv += ["--", *script_args]
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await process.communicate()
    output = stdout.decode(errors="replace")
    if process.returncode != 0:
        raise WrkError(
            f"wrk exited with {process.returncode}: {stderr.decode(errors='replace')[-2000:]}"
        )
    return parse_output(output, connections, threads)
