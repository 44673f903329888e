"""The Marketplace CRD on the real API server: kubectl explain documents it, and the server
enforces the metav1.Condition schema of its status conditions."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s

from souk_common.testing import wait_until
from souk_operator import status
from tests.envtest.apiserver import ApiServer

pytestmark = pytest.mark.envtest

CRD = Path(__file__).parents[2] / "charts/souk-operator/crds/marketplaces.souk.dev.yaml"
GROUP, VERSION, PLURAL = "souk.dev", "v1alpha1", "marketplaces"


def _kubectl(kubectl: Path, apiserver: ApiServer, *args: str) -> str:
    done = subprocess.run(
        [str(kubectl), "--kubeconfig", str(apiserver.admin_kubeconfig), *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    if done.returncode:
        raise AssertionError(f"kubectl {' '.join(args)}: {done.stderr}")
    return done.stdout


@pytest.fixture
def crd(apiserver: ApiServer, kubectl: Path) -> None:
    """Apply the chart's CRD with kubectl and wait until it is Established and published."""
    _kubectl(kubectl, apiserver, "apply", "-f", str(CRD))
    with apiserver.api_client() as api:
        crds = k8s.ApiextensionsV1Api(api)

        def established() -> bool:
            found = crds.read_custom_resource_definition(f"{PLURAL}.{GROUP}")
            conditions = found.status.conditions or []
            return any(c.type == "Established" and c.status == "True" for c in conditions)

        wait_until(established)

    def explained() -> bool:
        try:
            _kubectl(kubectl, apiserver, "explain", "marketplace.spec")
        except AssertionError:
            return False
        return True

    wait_until(explained, within=60)


@pytest.mark.usefixtures("crd")
def test_kubectl_explain_postgres_reads_like_documentation(apiserver: ApiServer, kubectl: Path):
    raw = _kubectl(kubectl, apiserver, "explain", "marketplace.spec.postgres")
    text = " ".join(raw.split())
    assert "Where the services' PostgreSQL databases live." in text
    for field in ("mode", "external", "managed"):
        assert f" {field}" in raw
    assert "Managed or External (required)." in text
    managed = " ".join(
        _kubectl(kubectl, apiserver, "explain", "marketplace.spec.postgres.managed").split()
    )
    assert "Default postgres:16-alpine." in managed
    assert "PerService: one server per service" in managed
    conditions = " ".join(
        _kubectl(kubectl, apiserver, "explain", "marketplace.status.conditions").split()
    )
    assert "metav1.Condition" in conditions
    assert "lastTransitionTime" in conditions


def _marketplace(kube_admin: k8s.ApiClient, namespace: str) -> k8s.CustomObjectsApi:
    api = k8s.CustomObjectsApi(kube_admin)
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Marketplace",
        "metadata": {"name": "shop"},
        "spec": {"postgres": {"mode": "Managed"}, "redis": {"mode": "Managed"}},
    }
    api.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
    return api


def _patch_status(api: k8s.CustomObjectsApi, namespace: str, body: dict[str, Any]) -> Any:
    """Merge-patch the status subresource, as the operator does."""
    return api.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, "shop", body
    )


@pytest.mark.usefixtures("crd")
def test_the_server_accepts_the_operators_status_and_refuses_a_condition_without_reason(
    kube_admin: k8s.ApiClient, kube_namespace: str
):
    api = _marketplace(kube_admin, kube_namespace)
    written = status.build_status(
        generation=1,
        marketplace="shop",
        services=["auth", "catalog"],
        databases=status.Stage("temporary", "", "x" * 40_000),
        streams=status.Stage("ok", "StreamsProvisioned", "2 consumer groups"),
        deployments={"auth": status.DeploymentState(1, 1)},
        previous=None,
        now="2026-01-02T03:04:05Z",
    )
    stored = _patch_status(api, kube_namespace, {"status": written})
    assert [c["type"] for c in stored["status"]["conditions"]] == list(status.CONDITION_TYPES)
    assert stored["status"]["conditions"][0]["reason"] == "Unknown"

    condition = {k: v for k, v in written["conditions"][1].items() if k != "reason"}
    with pytest.raises(k8s.ApiException) as refused:
        _patch_status(api, kube_namespace, {"status": {"conditions": [condition]}})
    assert refused.value.status == 422
    body = json.loads(refused.value.body)
    assert "reason" in body["message"]
    assert "Required value" in body["message"]

    bad = {**written["conditions"][1], "reason": "not a reason!", "status": "Maybe"}
    with pytest.raises(k8s.ApiException) as refused:
        _patch_status(api, kube_namespace, {"status": {"conditions": [bad]}})
    assert refused.value.status == 422
    assert "reason" in refused.value.body
    assert "status" in refused.value.body
