"""Process and machine figures read straight from ``/proc`` (no psutil).

CPU time is ``utime + stime`` from ``/proc/<pid>/stat`` (clock ticks), summed over a process
and its live descendants, plus the ``cutime + cstime`` of children it already waited for.
Peak memory is ``VmHWM`` from ``/proc/<pid>/status``; :func:`reset_peak_memory` resets it
(``echo 5 > /proc/<pid>/clear_refs``, Linux >= 4.0, needs the right to write there) so a
phase's peak can be read on its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuTimes:
    """CPU seconds of a process: its own (user + system) and its reaped children's."""

    own: float
    children: float

    @property
    def total(self) -> float:
        """Own plus reaped children's CPU seconds."""
        return self.own + self.children


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may contain spaces and parentheses: split after its ')'.
    return text[text.rindex(")") + 2 :].split()


def cpu_times(pid: int) -> CpuTimes | None:
    """Return the process's CPU times, or None when it is gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    # After the name: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
    utime, stime, cutime, cstime = (int(fields[i]) for i in range(11, 15))
    return CpuTimes((utime + stime) / TICKS, (cutime + cstime) / TICKS)


def parent_of(pid: int) -> int | None:
    """Return the parent pid, or None when the process is gone."""
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None


def command_name(pid: int) -> str | None:
    """Return the process's command name (``comm``), or None when it is gone."""
    try:
        return (PROC / str(pid) / "comm").read_text().strip()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def all_pids() -> list[int]:
    """Return every visible process id."""
    return [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]


def descendants(pid: int) -> list[int]:
    """Return the live descendants of ``pid`` (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for candidate in all_pids():
        parent = parent_of(candidate)
        if parent is not None:
            children.setdefault(parent, []).append(candidate)
    found: list[int] = []
    queue = list(children.get(pid, []))
    while queue:
        current = queue.pop()
        found.append(current)
        queue.extend(children.get(current, []))
    return found


def tree_cpu_seconds(pid: int) -> float:
    """Return CPU seconds of ``pid``, its live descendants and the children it reaped."""
    total = 0.0
    for member in [pid, *descendants(pid)]:
        times = cpu_times(member)
        if times is not None:
            total += times.own + (times.children if member == pid else 0.0)
    return total


def status_kib(pid: int, key: str) -> int | None:
    """Return a ``kB`` value of ``/proc/<pid>/status`` (``VmRSS``, ``VmHWM``), or None."""
    try:
        lines = (PROC / str(pid) / "status").read_text().splitlines()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    for line in lines:
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    return None


def rss_mib(pid: int) -> float | None:
    """Return the resident set size in MiB."""
    kib = status_kib(pid, "VmRSS")
    return None if kib is None else kib / 1024


def peak_rss_mib(pid: int) -> float | None:
    """Return the peak resident set size (``VmHWM``) in MiB."""
    kib = status_kib(pid, "VmHWM")
    return None if kib is None else kib / 1024


def reset_peak_memory(pid: int) -> bool:
    """Reset ``VmHWM`` to the current RSS; return False when the kernel refuses."""
    try:
        (PROC / str(pid) / "clear_refs").write_text("5")
    except OSError:
        return False
    return True


def named_processes_cpu_seconds(name: str) -> float:
    """Return CPU seconds of every process called ``name`` (e.g. ``postgres``).

    The oldest such process (the server's supervisor, e.g. the postmaster) contributes its
    reaped children too, so short-lived backends that ended are counted.
    """
    pids = sorted(p for p in all_pids() if command_name(p) == name)
    total = 0.0
    for index, pid in enumerate(pids):
        times = cpu_times(pid)
        if times is not None:
            total += times.own + (times.children if index == 0 else 0.0)
    return total


def machine_busy_seconds() -> tuple[float, float]:
    """Return (busy, total) CPU seconds of the whole machine since boot, all cores."""
    first = (PROC / "stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in first[:8]]  # user nice system idle iowait irq softirq steal
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICKS, sum(values) / TICKS
