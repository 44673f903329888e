"""Profiling every service process with py-spy while the saga runs at saturation.

py-spy samples each process from outside (``--nonblocking``: the process is never paused, so
the profile costs it almost nothing) and writes collapsed stacks (``--format raw``: one line
``frame;frame;...;leaf count`` per distinct stack). From that file the harness writes a
speedscope profile (open it at speedscope.app or with the ``speedscope`` CLI; it also reads
the raw file, as does ``flamegraph.pl``), a top list of self time (the leaf frames: where the
CPU went) and a top list of the project's own functions by inclusive time (what to look at).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


@dataclass
class Profiler:
    """A running ``py-spy record`` of one process."""

    name: str
    pid: int
    raw_path: Path
    process: asyncio.subprocess.Process


def py_spy_path() -> str | None:
    """Return py-spy (the project's dev dependency, beside this Python), or None."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


async def start(pids: dict[str, int], seconds: float, directory: Path) -> list[Profiler]:
    """Start one py-spy per process for ``seconds``; return the running profilers."""
    executable = py_spy_path()
    if executable is None:
        raise RuntimeError("py-spy is not installed (it is a dev dependency: uv sync)")
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    profilers = []
    for name, pid in pids.items():
        raw = directory / f"{name}.collapsed.txt"
        process = await asyncio.create_subprocess_exec(
            executable,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, round(seconds))),
            "--rate",
            "100",
            "--nonblocking",
            "--format",
            "raw",
            "--output",
            str(raw),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        profilers.append(Profiler(name, pid, raw, process))
    return profilers


async def finish(profilers: list[Profiler], top: int = 8) -> dict[str, Any]:
    """Wait for the profilers; write speedscope files; return paths and top self-time frames."""
    results: dict[str, Any] = {}
    for profiler in profilers:
        _, stderr = await profiler.process.communicate()
        if profiler.process.returncode != 0 or not profiler.raw_path.exists():
            results[profiler.name] = {"error": stderr.decode(errors="replace")[-500:]}
            continue
        stacks = read_collapsed(profiler.raw_path)
        speedscope = profiler.raw_path.with_name(f"{profiler.name}.speedscope.json")
        speedscope.write_text(json.dumps(to_speedscope(profiler.name, stacks)))
        samples = sum(stacks.values())
        results[profiler.name] = {
            "samples": samples,
            "collapsed": str(profiler.raw_path),
            "speedscope": str(speedscope),
            "top_self": [
                {"frame": frame, "share": round(count / samples, 4)}
                for frame, count in top_self(stacks, top)
            ],
            "top_souk_inclusive": [
                {"frame": frame, "share": round(count / samples, 4)}
                for frame, count in top_inclusive(stacks, top, "souk_")
            ],
        }
    return results


def read_collapsed(path: Path) -> Counter[tuple[str, ...]]:
    """Return {stack (root first): samples} from a collapsed-stack file."""
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[tuple(stack.split(";"))] += int(count)
    return stacks


def function_of(frame: str) -> str:
    """Return ``name (file)`` of a py-spy frame, without its line number."""
    match = _FRAME.match(frame)
    return f"{match['name']} ({match['file']})" if match else frame


def top_self(stacks: Counter[tuple[str, ...]], top: int) -> list[tuple[str, int]]:
    """Return the functions with the most self time (leaf samples), most first."""
    leaves: Counter[str] = Counter()
    for stack, count in stacks.items():
        if stack:
            leaves[function_of(stack[-1])] += count
    return leaves.most_common(top)


def top_inclusive(
    stacks: Counter[tuple[str, ...]], top: int, file_contains: str
) -> list[tuple[str, int]]:
    """Return the functions (in files containing ``file_contains``) on most stacks."""
    totals: Counter[str] = Counter()
    for stack, count in stacks.items():
        for function in {function_of(frame) for frame in stack}:
            if file_contains in function and "__main__" not in function:
                totals[function] += count
    return [
        (function, count)
        for function, count in totals.most_common(top + 4)
        if not function.startswith(("main (", "run_service_cli (", "serve (souk_common"))
    ][:top]


def to_speedscope(name: str, stacks: Counter[tuple[str, ...]]) -> dict[str, Any]:
    """Return a speedscope "sampled" profile of collapsed stacks."""
    frames: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    samples: list[list[int]] = []
    weights: list[int] = []
    for stack, count in stacks.items():
        indices = []
        for frame in stack:
            if frame not in index:
                index[frame] = len(frames)
                match = _FRAME.match(frame)
                entry: dict[str, Any] = {"name": match["name"] if match else frame}
                if match and match["file"]:
                    entry["file"] = match["file"]
                if match and match["line"]:
                    entry["line"] = int(match["line"])
                frames.append(entry)
            indices.append(index[frame])
        samples.append(indices)
        weights.append(count)
    return {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": frames},
        "profiles": [
            {
                "type": "sampled",
                "name": name,
                "unit": "none",
                "startValue": 0,
                "endValue": sum(weights),
                "samples": samples,
                "weights": weights,
            }
        ],
        "name": f"souk bench: {name}",
        "exporter": "tests/bench/profiling.py",
    }
