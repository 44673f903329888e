"""The local observability mode: a real Prometheus scraping the stack, loaded with Souk's rules.

``souk-dev up --prometheus`` (and the observability tests) start Debian's ``prometheus``
binary as one more child process, on a free loopback port, with a generated configuration:
every running service is a target with ``job=<service name>`` (the label the dashboards and
alerts use), the operator's metrics endpoint is the ``souk-operator`` job (down unless an
operator runs locally), ``rule_files`` are the project's rules, and the TSDB lives in the
stack's state directory. The system service the Debian package may install is never used.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from souk_devstack.processes import ServiceProcess

OPERATOR_JOB = "souk-operator"
INSTALL_HINT = "install it with observability/install-prometheus.sh (Debian's prometheus package)"
READY_TIMEOUT_SECONDS = 30.0


class PrometheusMissingError(RuntimeError):
    """The ``prometheus`` binary is not installed; the message says how to install it."""


def free_port() -> int:
    """Return a loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def default_rule_files(root: Path | None = None) -> list[Path]:
    """Return the project's rule files (``observability/prometheus/rules/*.yml``) under ``root``."""
    rules = (root or Path.cwd()) / "observability" / "prometheus" / "rules"
    return sorted(rules.glob("*.yml"))


@dataclass(frozen=True)
class PrometheusConfig:
    """What the local Prometheus scrapes and evaluates."""

    # ``{job: "host:port"}``: one job per service, named after it.
    targets: Mapping[str, str]
    rule_files: Sequence[Path] = ()
    # Where the operator's metrics would be served (``metrics_port``), if one runs here.
    operator_target: str | None = None
    scrape_interval: str = "5s"
    evaluation_interval: str = "15s"
    external_labels: Mapping[str, str] = field(default_factory=dict)

    def render(self) -> str:
        """Return the ``prometheus.yml`` text (JSON, which is valid YAML: no YAML dependency)."""
        jobs = [
            {"job_name": job, "static_configs": [{"targets": [address]}]}
            for job, address in self.targets.items()
        ]
        if self.operator_target:
            jobs.append(
                {"job_name": OPERATOR_JOB, "static_configs": [{"targets": [self.operator_target]}]}
            )
        document = {
            "global": {
                "scrape_interval": self.scrape_interval,
                "evaluation_interval": self.evaluation_interval,
                "external_labels": dict(self.external_labels),
            },
            "rule_files": [str(path.resolve()) for path in self.rule_files],
            "scrape_configs": jobs,
        }
        return json.dumps(document, indent=2) + "\n"


class LocalPrometheus:
    """A ``prometheus`` child process; use ``async with LocalPrometheus(config, state_dir):``."""

    def __init__(
        self,
        config: PrometheusConfig,
        state_dir: Path,
        *,
        port: int | None = None,
        echo: bool = False,
        binary: str = "prometheus",
    ) -> None:
        self.config = config
        self.state_dir = state_dir / "prometheus"
        self.port = port or free_port()
        self.echo = echo
        self.binary = binary
        self.process: ServiceProcess | None = None

    @property
    def url(self) -> str:
        """Base URL of the Prometheus HTTP API and UI."""
        return f"http://127.0.0.1:{self.port}"

    def command(self, config_path: Path) -> list[str]:
        """Return the command line (storage and config in the stack's state directory)."""
        executable = shutil.which(self.binary)
        if executable is None:
            raise PrometheusMissingError(f"{self.binary} is not installed; {INSTALL_HINT}")
        return [
            executable,
            f"--config.file={config_path}",
            f"--storage.tsdb.path={self.state_dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--web.enable-lifecycle",
            "--storage.tsdb.retention.time=2d",
        ]

    async def start(self) -> None:
        """Write the configuration, start Prometheus and wait until it is ready."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        config_path = self.state_dir / "prometheus.yml"
        config_path.write_text(self.config.render())
        argv = self.command(config_path)
        self.process = ServiceProcess(
            "prometheus", argv, {}, self.state_dir / "prometheus.log", self.echo
        )
        await self.process.start()
        await self._wait_ready()

    async def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        async with httpx.AsyncClient(timeout=2.0) as client:
            while True:
                if not self.process.running:
                    raise RuntimeError(f"prometheus exited:\n{self.process.tail()}")
                try:
                    if (await client.get(f"{self.url}/-/ready")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"prometheus not ready:\n{self.process.tail()}")
                await asyncio.sleep(0.2)

    async def stop(self) -> None:
        """Stop Prometheus gracefully."""
        if self.process is not None:
            await self.process.stop()

    async def __aenter__(self) -> LocalPrometheus:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()


def stack_targets(service_urls: Mapping[str, str]) -> dict[str, str]:
    """Return ``{job: "host:port"}`` from ``{service: base URL}``."""
    return {name: url.split("://", 1)[-1].rstrip("/") for name, url in service_urls.items()}
