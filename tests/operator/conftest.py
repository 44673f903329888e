"""Fixtures for the operator's envtests: the chart's RBAC, the operator as a real process.

The operator runs as a subprocess (``python -m souk_operator``), as it would in its pod: with
a kubeconfig holding a TokenRequest token of the ServiceAccount the chart creates, bound to
the chart's ClusterRole and Role. So a missing permission fails a test, and a test can kill
it mid-reconcile. Each test gets its own namespace and marketplace name; databases and
streams are dropped afterwards.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s

from souk_common.provisioning import database_name, drop_service_database, drop_streams
from souk_common.testing import PG_ADMIN_URL, REDIS_URL, wait_until
from souk_contracts.topology import SERVICES
from tests.envtest.apiserver import ApiServer, free_port
from tests.envtest.conftest import apiserver, helm, kube_admin, kube_namespace, kubectl  # noqa: F401

ROOT = Path(__file__).parents[2]
CHART = ROOT / "charts/souk-operator"
EXAMPLES = ROOT / "k8s/examples"
SYSTEM_NAMESPACE = "souk-system"
RELEASE = "souk-operator"
GROUP, VERSION, PLURAL = "souk.dev", "v1alpha1", "marketplaces"


@pytest.fixture(scope="session")
def operator_kubeconfig(apiserver: ApiServer, helm: Path) -> Path:  # noqa: F811
    """Install the chart (CRD, RBAC, ServiceAccount) once; return the SA's kubeconfig."""
    subprocess.run(
        [str(helm), "install", RELEASE, str(CHART), "-n", SYSTEM_NAMESPACE, "--create-namespace",
         "--kubeconfig", str(apiserver.admin_kubeconfig), "--wait=false"],
        check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    with apiserver.api_client() as api:
        crds = k8s.ApiextensionsV1Api(api)

        def established() -> bool:
            crd = crds.read_custom_resource_definition(f"{PLURAL}.{GROUP}")
            return any(
                c.type == "Established" and c.status == "True" for c in crd.status.conditions
            )

        wait_until(established)
    return apiserver.kubeconfig_for(RELEASE, SYSTEM_NAMESPACE)


class OperatorProcess:
    """One ``python -m souk_operator`` watching one namespace, with its log file."""

    def __init__(self, kubeconfig: Path, namespace: str, log: Path, lease: str) -> None:
        self.health_port, self.metrics_port = free_port(), free_port()
        self.log = log
        self.env = {
            **os.environ,
            "KUBECONFIG": str(kubeconfig),
            "SOUK_OPERATOR_NAMESPACES": namespace,
            "SOUK_OPERATOR_CHECK_INTERVAL": "2",
            "SOUK_OPERATOR_MAX_BACKOFF": "3",
            "SOUK_OPERATOR_DELETE_ATTEMPTS": "3",
            "SOUK_OPERATOR_HEALTH_PORT": str(self.health_port),
            "SOUK_OPERATOR_METRICS_PORT": str(self.metrics_port),
            "SOUK_OPERATOR_LEASE_NAME": lease,
            "SOUK_OPERATOR_LEASE_NAMESPACE": SYSTEM_NAMESPACE,
            "SOUK_OPERATOR_LEASE_DURATION": "6",
            "LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> OperatorProcess:
        handle = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "souk_operator"], env=self.env, stdout=handle,
            stderr=subprocess.STDOUT, cwd=ROOT,
        )  # fmt: skip
        handle.close()
        return self

    def wait_live(self, timeout: float = 120.0) -> OperatorProcess:
        """Wait for kopf's liveness endpoint: imports done, Lease held, watching.

        Generous, because a loaded CI machine can take long to start a Python process.
        """
        assert self.proc is not None
        wait_until(
            lambda: self.proc is not None and (
                self.proc.poll() is not None or self.get(self.health_port, "/healthz")
            ),
            within=timeout,
        )  # fmt: skip
        assert self.proc.poll() is None, self.log.read_text(errors="replace")[-4000:]
        return self

    def stop(self, kill: bool = False) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        if kill:
            self.proc.kill()
        else:
            self.proc.terminate()
        self.proc.wait(timeout=20)

    def get(self, port: int, path: str) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as response:
            return response.read().decode()

    def rss_kib(self) -> int:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def log_lines(self) -> list[dict[str, Any]]:
        lines = []
        for raw in self.log.read_text(errors="replace").splitlines():
            try:
                lines.append(json.loads(raw))
            except ValueError:
                continue
        return lines


@pytest.fixture
def start_operator(operator_kubeconfig: Path, kube_namespace: str, tmp_path: Path, request):  # noqa: F811
    """Return a function starting an operator for this test's namespace; all stop after."""
    started: list[OperatorProcess] = []
    lease = f"op-{kube_namespace}"

    def start(wait: bool = True) -> OperatorProcess:
        process = OperatorProcess(
            operator_kubeconfig, kube_namespace, tmp_path / f"operator-{len(started)}.log", lease
        ).start()
        started.append(process)
        return process.wait_live() if wait else process

    yield start
    for process in started:
        process.stop()
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        for process in started:
            print(process.log.read_text(errors="replace")[-6000:])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


@pytest.fixture
def marketplace_name(start_operator) -> Iterator[str]:
    """A unique marketplace name; its databases, roles and streams are dropped afterwards.

    It depends on ``start_operator`` so that its clean-up runs after the test's operators
    stopped: one still running would reconcile the streams back into existence.
    """
    name = f"m{uuid.uuid4().hex[:8]}"
    yield name

    async def clean() -> None:
        from redis.asyncio import Redis

        for service in SERVICES:
            await drop_service_database(PG_ADMIN_URL, database_name(name, service))
        redis = Redis.from_url(REDIS_URL)
        await drop_streams(redis, f"{name}:", SERVICES)
        await redis.aclose()

    asyncio.run(clean())


def example(file: str, name: str) -> dict[str, Any]:
    """Return an example Marketplace from k8s/examples with another name."""
    body = yaml.safe_load((EXAMPLES / file).read_text())
    body["metadata"]["name"] = name
    return body


def url_secrets(core: k8s.CoreV1Api, namespace: str, pg_url: str = PG_ADMIN_URL) -> None:
    """Create the Secrets the examples reference: ``pg-admin`` and ``redis`` (key ``url``)."""
    for name, url in (("pg-admin", pg_url), ("redis", REDIS_URL)):
        core.create_namespaced_secret(
            namespace, k8s.V1Secret(metadata=k8s.V1ObjectMeta(name=name), string_data={"url": url})
        )
