"""Child processes of the local stack: start, stream their output, wait, stop gracefully."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

_COLOURS = ("36", "35", "33", "32", "34", "31")


class ServiceProcess:
    """One service process whose output goes to a log file and, optionally, the terminal."""

    def __init__(
        self, name: str, argv: Sequence[str], env: Mapping[str, str], log_path: Path, echo: bool
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.log_path = log_path
        self.echo = echo
        self.process: asyncio.subprocess.Process | None = None
        self._pump: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the process (in its own process group, so Ctrl-C is ours to forward)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.process = await asyncio.create_subprocess_exec(
            *self.argv,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        self._pump = asyncio.create_task(self._copy_output(), name=f"output-{self.name}")

    async def _copy_output(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        colour = _COLOURS[hash(self.name) % len(_COLOURS)]
        tty = sys.stdout.isatty()
        label = f"\x1b[{colour}m{self.name:>13}\x1b[0m |" if tty else f"{self.name:>13} |"
        with self.log_path.open("ab") as log_file:
            async for line in self.process.stdout:
                log_file.write(line)
                log_file.flush()
                if self.echo:
                    sys.stdout.write(f"{label} {line.decode(errors='replace')}")
                    sys.stdout.flush()

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.process is not None and self.process.returncode is None

    async def wait(self) -> int:
        """Wait for the process to exit and its output to be copied; return its exit code."""
        assert self.process is not None
        code = await self.process.wait()
        if self._pump is not None:
            await self._pump
        return code

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Send SIGTERM, wait up to ``grace_seconds``, then SIGKILL."""
        if self.process is None or self.process.returncode is not None:
            if self.process is not None:
                await self.wait()
            return
        self._signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.wait(), grace_seconds)
        except TimeoutError:
            self._signal(signal.SIGKILL)
            await self.wait()

    def kill(self) -> None:
        """Kill the process at once (SIGKILL), as a crash would."""
        self._signal(signal.SIGKILL)

    def _signal(self, signum: int) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def progress(self) -> tuple[int, int]:
        """A mark that moves while the process works: its CPU ticks and its log's size.

        CPU time comes from ``/proc/<pid>/stat`` (Linux; 0 elsewhere). A process that imports
        modules on a loaded machine is slow, but its CPU time still grows.
        """
        ticks = 0
        if self.process is not None:
            try:
                stat = Path(f"/proc/{self.process.pid}/stat").read_text()
                fields = stat.rsplit(")", 1)[1].split()  # after the command name: state, ...
                ticks = int(fields[11]) + int(fields[12])  # utime + stime
            except (OSError, IndexError, ValueError):
                ticks = 0
        size = self.log_path.stat().st_size if self.log_path.exists() else 0
        return ticks, size

    def tail(self, lines: int = 20) -> str:
        """Return the last ``lines`` lines of the process's log."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


async def run_to_completion(
    name: str, argv: Sequence[str], env: Mapping[str, str], log_path: Path, echo: bool
) -> None:
    """Run a one-off command (migrate, seed); raise with its output when it fails."""
    process = ServiceProcess(name, argv, env, log_path, echo)
    await process.start()
    code = await process.wait()
    if code != 0:
        raise RuntimeError(f"{name} failed with exit code {code}:\n{process.tail()}")
