"""Envtests: the example Marketplace becomes Ready; malformed ones are refused; Managed mode."""

from __future__ import annotations

import subprocess
import time

import pytest
from kubernetes import client as k8s

from souk_common.testing import wait_until
from souk_contracts.topology import SERVICES, subscriptions
from tests.operator.conftest import example, url_secrets
from tests.operator.helpers import (
    conditions,
    databases,
    get_mkt,
    groups,
    infra_ready,
    login_works,
    ready_deployment,
    secret_data,
    streams,
)

pytestmark = pytest.mark.envtest
DB_KEYS = {"DATABASE_URL", "PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD"}


def kubectl_run(kubectl, apiserver, *args, stdin=None, check=True):
    return subprocess.run(
        [str(kubectl), "--kubeconfig", str(apiserver.admin_kubeconfig), *args],
        input=stdin, capture_output=True, text=True, timeout=60, check=check,
    )  # fmt: skip


def test_minimal_example_becomes_ready(
    apiserver, kubectl, kube_admin, kube_namespace, start_operator, marketplace_name, tmp_path
):
    import yaml

    ns, name = kube_namespace, marketplace_name
    url_secrets(k8s.CoreV1Api(kube_admin), ns)
    operator = start_operator()
    manifest = tmp_path / "mkt.yaml"
    manifest.write_text(yaml.safe_dump(example("marketplace-minimal.yaml", name)))
    applied = time.monotonic()
    kubectl_run(kubectl, apiserver, "-n", ns, "apply", "-f", str(manifest))
    wait_until(lambda: infra_ready(kube_admin, ns, name), interval=0.05)
    infra_seconds = time.monotonic() - applied

    # Without Deployments the shop is not up, and the status says why.
    found = conditions(kube_admin, ns, name)
    assert found["ServicesReady"]["status"] == "False"
    assert found["ServicesReady"]["reason"] == "DeploymentsMissing"
    assert get_mkt(kube_admin, ns, name)["status"]["phase"] == "Provisioning"

    # Every database and role exists and accepts the Secret's credentials.
    assert databases(name) == {f"{name}_{s}" for s in SERVICES}
    for service in SERVICES:
        data = secret_data(kube_admin, ns, f"{name}-{service}-db")
        assert set(data) == DB_KEYS
        assert data["PGDATABASE"] == f"{name}_{service}"
        assert login_works(data["DATABASE_URL"])
    wanted = {(f"{name}:{p}.events", g) for g, ps in subscriptions().items() for p in ps}
    assert groups(name) == wanted
    assert {f"{name}:dlq.{g}" for g in subscriptions()} <= streams(name)
    redis = secret_data(kube_admin, ns, f"{name}-redis")
    assert redis["STREAM_PREFIX"] == f"{name}:"
    assert redis["REDIS_URL"].startswith("redis://")
    keys = secret_data(kube_admin, ns, f"{name}-auth-keys")
    assert keys["private.pem"].startswith("-----BEGIN PRIVATE KEY-----")
    assert "PUBLIC KEY" in keys["public.pem"]

    # Owner references and standard labels on everything created.
    uid = get_mkt(kube_admin, ns, name)["metadata"]["uid"]
    owned = k8s.CoreV1Api(kube_admin).list_namespaced_secret(
        ns, label_selector=f"souk.dev/marketplace={name}"
    )
    assert len(owned.items) == 7
    for secret in owned.items:
        assert [ref.uid for ref in secret.metadata.owner_references] == [uid]
        assert secret.metadata.labels["app.kubernetes.io/managed-by"] == "souk-operator"
        assert secret.metadata.labels["app.kubernetes.io/part-of"] == "souk"

    # Ready Deployments (simulated: no kubelet runs here) make the Marketplace Ready.
    started = time.monotonic()
    for service in SERVICES:
        ready_deployment(kube_admin, ns, name, service)
    wait_until(lambda: conditions(kube_admin, ns, name)["Ready"]["status"] == "True", interval=0.05)
    services_seconds = time.monotonic() - started
    table = kubectl_run(kubectl, apiserver, "-n", ns, "get", "mkt", name).stdout.splitlines()
    assert table[0].split()[:5] == ["NAME", "READY", "PHASE", "SERVICES", "AGE"]
    assert table[1].split()[:4] == [name, "True", "Ready", "5/5"]
    status = get_mkt(kube_admin, ns, name)["status"]
    assert status["observedGeneration"] == 1
    assert status["services"]["catalog"] == {
        "database": f"{name}_catalog",
        "secret": f"{name}-catalog-db",
        "ready": True,
    }

    # Events, metrics, JSON logs, memory at rest.
    events = k8s.CoreV1Api(kube_admin).list_namespaced_event(ns).items
    assert any(e.reason == "Provisioned" and "created database" in e.message for e in events)
    metrics = operator.get(operator.metrics_port, "/metrics")
    assert 'souk_operator_reconcile_total{outcome="provisioning"}' in metrics
    assert "souk_operator_reconcile_duration_seconds_bucket" in metrics
    assert any(line.get("event") == "reconciled" for line in operator.log_lines())
    time.sleep(5)
    print(
        f"\noperator: 5-service Marketplace infrastructure Ready {infra_seconds:.2f}s after"
        f" kubectl apply; Ready {services_seconds:.2f}s after the Deployments became ready;"
        f" RSS at rest {operator.rss_kib() / 1024:.1f} MiB"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"services": [{"name": "shipping"}]}, "spec.services.name"),
        ({"deletionPolicy": "Forget"}, "spec.deletionPolicy"),
        ({"postgres": {"mode": "External", "external": {"adminSecretRef": {"name": "pg"}}}},
         "spec.postgres.external.adminSecretRef.key"),
        ({"postgres": {"mode": "Managed", "managed": {"storage": "-1Gi"}}},
         "spec.postgres.managed.storage"),
        ({"streams": {"maxLength": -5}}, "spec.streams.maxLength"),
        ({"redis": {"mode": "External"}}, "spec.redis"),
    ],
)  # fmt: skip
def test_malformed_marketplace_is_refused_naming_the_field(
    apiserver, kubectl, operator_kubeconfig, kube_namespace, tmp_path, change, field
):
    import yaml

    body = example("marketplace-minimal.yaml", "bad")
    body["spec"].update(change)
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(yaml.safe_dump(body))
    # --validate=false: the API server itself must refuse it, not kubectl's client-side check.
    result = kubectl_run(
        kubectl, apiserver, "-n", kube_namespace, "apply", "--validate=false", "-f",
        str(manifest), check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert field in result.stderr, result.stderr


def test_managed_mode_creates_statefulsets_services_and_claims(
    kube_admin, kube_namespace, start_operator, marketplace_name
):
    """No pods run on this API server, so the servers never become ready: the Marketplace
    waits in Provisioning, saying which StatefulSet it waits for."""
    ns, name = kube_namespace, marketplace_name
    start_operator()
    body = example("marketplace-full.yaml", name)
    k8s.CustomObjectsApi(kube_admin).create_namespaced_custom_object(
        "souk.dev", "v1alpha1", ns, "marketplaces", body
    )
    apps, core = k8s.AppsV1Api(kube_admin), k8s.CoreV1Api(kube_admin)
    sets = wait_until(
        lambda: (
            len(apps.list_namespaced_stateful_set(ns).items) == 6
            and apps.list_namespaced_stateful_set(ns).items
        )
    )
    assert {s.metadata.name for s in sets} == {
        *(f"{name}-postgres-{s}" for s in SERVICES),
        f"{name}-redis-server",
    }
    for sts in sets:
        claim = sts.spec.volume_claim_templates[0]
        assert claim.spec.resources.requests["storage"] in ("1Gi", "2Gi")
        container = sts.spec.template.spec.containers[0]
        assert container.readiness_probe
        assert container.liveness_probe
        assert container.resources.requests["cpu"]
        assert container.security_context.run_as_non_root is True
        assert sts.metadata.owner_references[0].kind == "Marketplace"
    redis = apps.read_namespaced_stateful_set(f"{name}-redis-server", ns)
    assert "--appendonly" in redis.spec.template.spec.containers[0].args
    services = {s.metadata.name: s for s in core.list_namespaced_service(ns).items}
    assert services[f"{name}-postgres-catalog"].spec.ports[0].port == 5432
    assert services[f"{name}-redis-server"].spec.ports[0].port == 6379

    def waiting() -> bool:
        found = conditions(kube_admin, ns, name)
        return found.get("DatabasesReady", {}).get("reason") == "WaitingForPostgres"

    wait_until(waiting)
    status = get_mkt(kube_admin, ns, name)["status"]
    assert status["phase"] == "Provisioning"
    assert "ready replicas" in conditions(kube_admin, ns, name)["DatabasesReady"]["message"]
    assert conditions(kube_admin, ns, name)["StreamsReady"]["reason"] == "WaitingForRedis"
