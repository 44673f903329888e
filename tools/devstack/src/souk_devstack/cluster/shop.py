"""Installing the operator and the shop on the node, waiting for READY, writing endpoints.json.

The same charts a user installs, with the real-node differences in k8s/real-node/*.yaml
values files. Diagnostics on failure: pods, events, the Marketplace's status, every container's
log (:func:`write_diagnostics`).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from functools import partial
from pathlib import Path

import httpx

from souk_devstack.cluster.daemons import NodeError
from souk_devstack.cluster.layout import SHOP_SERVICES, NodeLayout
from souk_devstack.cluster.node import Steps, kubectl, wait_until

OPERATOR_RELEASE = "souk-operator"
OPERATOR_NAMESPACE = "souk-system"
SHOP_RELEASE = "shop"
SHOP_NAMESPACE = "shop"


def helm(layout: NodeLayout, *args: str) -> str:
    """Run helm with the host kubeconfig; return stdout or raise NodeError."""
    result = subprocess.run(  # noqa: S603 - fixed tool path
        [str(layout.tool("helm")), f"--kubeconfig={layout.host_kubeconfig}", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=layout.repo,
    )
    if result.returncode != 0:
        raise NodeError(f"helm {' '.join(args[:2])}: {result.stderr.strip()[:600]}")
    return result.stdout


def _chart_dependencies(layout: NodeLayout) -> None:
    env = {**os.environ, "HELM": str(layout.tool("helm"))}
    result = subprocess.run(  # noqa: S603 - the project's own script
        [str(layout.repo / "scripts" / "build-chart-deps.sh")],
        capture_output=True, text=True, check=False, env=env, cwd=layout.repo,
    )  # fmt: skip
    if result.returncode != 0:
        raise NodeError(f"scripts/build-chart-deps.sh: {result.stderr.strip()[:400]}")


def install(layout: NodeLayout, steps: Steps) -> float:
    """Install both charts and wait for the shop; return seconds from install to READY."""
    values = layout.repo / "k8s" / "real-node"
    with steps.step("chart dependencies"):
        _chart_dependencies(layout)
    began = time.monotonic()
    with steps.step(f"helm install {OPERATOR_RELEASE} (charts/souk-operator)"):
        helm(layout, "upgrade", "--install", OPERATOR_RELEASE, "charts/souk-operator",
             "--namespace", OPERATOR_NAMESPACE, "--create-namespace",
             "-f", str(values / "operator-values.yaml"), "--wait", "--timeout", "15m")  # fmt: skip
    with steps.step(f"helm install {SHOP_RELEASE} (charts/souk, Managed PostgreSQL and Redis)"):
        helm(layout, "upgrade", "--install", SHOP_RELEASE, "charts/souk",
             "--namespace", SHOP_NAMESPACE, "--create-namespace",
             "-f", str(values / "shop-values.yaml"), "--timeout", "15m")  # fmt: skip
    with steps.step("waiting for Marketplace shop READY"):
        wait_ready(layout)
    ready_after = time.monotonic() - began
    with steps.step("waiting for every Deployment and the seed Jobs"):
        kubectl(layout, "-n", SHOP_NAMESPACE, "wait", "deployment", "--all",
                "--for=condition=Available", "--timeout=900s")  # fmt: skip
        kubectl(layout, "-n", SHOP_NAMESPACE, "wait", "job",
                "--selector=app.kubernetes.io/component=seed",
                "--for=condition=Complete", "--timeout=900s")  # fmt: skip
    with steps.step("endpoints on 127.0.0.1"):
        endpoints = write_endpoints(layout)
        for name, url in endpoints.items():
            wait_until(f"waiting for {url}/healthz ({name})", partial(_healthy, url), layout,
                       "agent", timeout=300)  # fmt: skip
    print(f"               helm install -> READY in {ready_after:.1f}s", flush=True)
    return ready_after


def _healthy(url: str) -> bool:
    return httpx.get(f"{url}/healthz", timeout=3).status_code == 200


def marketplace_ready(layout: NodeLayout) -> str:
    """Return the Marketplace's Ready condition status ('True', 'False' or '')."""
    return kubectl(layout, "-n", SHOP_NAMESPACE, "get", "marketplace", SHOP_RELEASE, "-o",
                   "jsonpath={.status.conditions[?(@.type=='Ready')].status}").strip()  # fmt: skip


def wait_ready(layout: NodeLayout, want: str = "True", timeout: float = 900) -> None:
    """Wait until the Marketplace's READY is ``want`` while the operator pod keeps running."""
    wait_until(f"waiting for Marketplace READY={want}",
               lambda: marketplace_ready(layout) == want, layout, "kubelet", timeout)  # fmt: skip


def write_endpoints(layout: NodeLayout) -> dict[str, str]:
    """Write ``.souk/cluster/endpoints.json``: each service's base URL on 127.0.0.1."""
    endpoints = {
        name: f"http://127.0.0.1:{layout.service_host_ports[name]}" for name in SHOP_SERVICES
    }
    layout.endpoints_file.parent.mkdir(parents=True, exist_ok=True)
    layout.endpoints_file.write_text(json.dumps(endpoints, indent=2) + "\n")
    return endpoints


def write_diagnostics(layout: NodeLayout, folder: Path) -> None:
    """Write pods, events, the Marketplace's status and every container's log to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)

    def save(name: str, *args: str) -> None:
        try:
            (folder / name).write_text(kubectl(layout, *args))
        except (NodeError, OSError) as error:
            (folder / name).write_text(f"failed: {error}\n")

    save("nodes.txt", "get", "nodes", "-o", "wide")
    save("pods.txt", "get", "pods", "-A", "-o", "wide")
    save("events.txt", "get", "events", "-A", "--sort-by=.lastTimestamp")
    save("marketplace.yaml", "-n", SHOP_NAMESPACE, "get", "marketplaces", "-o", "yaml")
    save("shop-objects.txt", "-n", SHOP_NAMESPACE, "get", "all,pvc,jobs", "-o", "wide")
    save("describe-pods.txt", "describe", "pods", "-A")
    try:
        pods = json.loads(kubectl(layout, "get", "pods", "-A", "-o", "json"))["items"]
    except (NodeError, ValueError):
        pods = []
    for pod in pods:
        namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        save(f"logs-{namespace}-{name}.txt", "-n", namespace, "logs", name, "--all-containers",
             "--prefix", "--timestamps")  # fmt: skip
        save(f"logs-{namespace}-{name}-previous.txt", "-n", namespace, "logs", name,
             "--all-containers", "--prefix", "--previous")  # fmt: skip
