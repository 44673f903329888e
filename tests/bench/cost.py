"""What a phase costs: CPU seconds and peak memory of every service process, per 1,000 orders.

A :class:`CostMeter` takes CPU readings of each service process (with its descendants and
reaped children), of the PostgreSQL and Redis servers (every ``postgres`` / ``redis-server``
process: shared with anything else using them), of this harness process (with wrk and py-spy
once they exited) and of the whole machine, at the start and end of a phase. At the start it also
resets each service's peak resident set (``VmHWM``) so the peak read at the end is the
phase's own.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from tests.bench import procfs


@dataclass
class CostMeter:
    """CPU and memory of named processes over one phase."""

    pids: dict[str, int]
    started: float = 0.0
    cpu_start: dict[str, float] = field(default_factory=dict)
    machine_start: tuple[float, float] = (0.0, 0.0)
    peak_reset: bool = False

    def _readings(self) -> dict[str, float]:
        readings = {name: procfs.tree_cpu_seconds(pid) for name, pid in self.pids.items()}
        readings["postgresql (server)"] = procfs.named_processes_cpu_seconds("postgres")
        readings["redis (server)"] = procfs.named_processes_cpu_seconds("redis-server")
        # This process and the children it reaped (wrk, py-spy): not its live children, the
        # services, which are counted above.
        own = procfs.cpu_times(os.getpid())
        readings["bench harness + wrk"] = own.total if own else 0.0
        return readings

    def start(self) -> None:
        """Take the starting readings and reset the services' peak memory."""
        self.peak_reset = all(procfs.reset_peak_memory(pid) for pid in self.pids.values())
        self.started = time.monotonic()
        self.machine_start = procfs.machine_busy_seconds()
        self.cpu_start = self._readings()

    def stop(self, orders: int) -> dict[str, Any]:
        """Return CPU seconds, CPU seconds per 1,000 orders and peak MiB since :meth:`start`."""
        seconds = time.monotonic() - self.started
        end = self._readings()
        busy_end, total_end = procfs.machine_busy_seconds()
        busy = busy_end - self.machine_start[0]
        total = total_end - self.machine_start[1]
        processes: dict[str, dict[str, Any]] = {}
        for name, value in end.items():
            cpu = max(0.0, value - self.cpu_start.get(name, 0.0))
            entry: dict[str, Any] = {
                "cpu_s": round(cpu, 2),
                "cpu_s_per_1000_orders": round(cpu / orders * 1000, 3) if orders else None,
                "cpu_share": round(cpu / seconds, 3) if seconds else None,
            }
            if name in self.pids:
                peak = procfs.peak_rss_mib(self.pids[name])
                entry["peak_rss_mib"] = round(peak, 1) if peak is not None else None
            processes[name] = entry
        return {
            "window_s": round(seconds, 2),
            "orders": orders,
            "peak_is_phase_only": self.peak_reset,
            "machine_cpu_busy": round(busy / total, 3) if total else None,
            "machine_cpu_s_per_1000_orders": round(busy / orders * 1000, 3) if orders else None,
            "processes": processes,
        }
