"""The operator chart: lint, render, Kubernetes schemas, API versions, values schema, RBAC.

Rendering only (``helm template``); installing it into a real API server is
``tests/operator/test_chart_install.py``. The RBAC rules are pinned exactly, so widening the
operator's permissions is a deliberate change of this test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from souk_operator.config import OperatorSettings
from tests.support.helm import (
    CHARTS,
    REPO_ROOT,
    find,
    lint,
    render,
    run_helm,
    schema_errors,
    template,
)

CHART = CHARTS / "souk-operator"
FULL = CHART / "ci/full-values.yaml"
CRD_SOURCE = CHART / "crds/marketplaces.souk.dev.yaml"
RELEASE, NAMESPACE = "souk-operator", "souk-system"
CRD_KINDS = ("ServiceMonitor",)

# What the operator's code calls (souk_operator.kube, .handlers, kopf), and nothing more.
OPERATOR_RULES = [
    {"apiGroups": ["souk.dev"], "resources": ["marketplaces"],
     "verbs": ["get", "list", "watch", "patch"]},
    {"apiGroups": ["souk.dev"], "resources": ["marketplaces/status"], "verbs": ["patch"]},
    {"apiGroups": [""], "resources": ["secrets"],
     "verbs": ["get", "list", "create", "patch", "delete"]},
    {"apiGroups": ["apps"], "resources": ["statefulsets"],
     "verbs": ["get", "list", "create", "patch", "delete"]},
    {"apiGroups": [""], "resources": ["services"],
     "verbs": ["get", "list", "create", "patch", "delete"]},
    {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["list", "delete"]},
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["list", "watch"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
]  # fmt: skip
LEASE_RULES = [
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
     "verbs": ["get", "create", "update"]},
]  # fmt: skip
SA_SUBJECT = [{"kind": "ServiceAccount", "name": RELEASE, "namespace": NAMESPACE}]


def rendered(values: list[Path] | None = None, **options: Any) -> list[dict[str, Any]]:
    """Render the chart as release ``souk-operator`` in ``souk-system``."""
    return render(CHART, values or [], release=RELEASE, namespace=NAMESPACE, **options)


def only(manifests: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    """Return the single manifest of ``kind`` (and ``name``)."""
    found = find(manifests, kind, name)
    assert len(found) == 1, f"{kind}/{name}: {[m['metadata']['name'] for m in found]}"
    return found[0]


def container(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the operator container of the rendered Deployment."""
    containers = only(manifests, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["operator"]
    result: dict[str, Any] = containers[0]
    return result


@pytest.mark.parametrize("values", [[], [FULL]], ids=["default", "full"])
def test_lint_strict_passes(values):
    lint(CHART, values)


@pytest.mark.parametrize("version", ["1.30.0", "1.35.0"])
@pytest.mark.parametrize("values", [[], [FULL]], ids=["default", "full"])
def test_rendered_manifests_validate_against_kubernetes_schemas(values, version):
    manifests = rendered(values, kube_version=version)
    kinds = {m["kind"] for m in manifests}
    assert {"Deployment", "ServiceAccount", "Service", "PodDisruptionBudget", "Role"} <= kinds
    assert schema_errors(manifests, version, skip_kinds=CRD_KINDS) == []


@pytest.mark.parametrize(
    ("kube_version", "api_version"),
    [("1.20.2", "policy/v1beta1"), ("1.21.0", "policy/v1"), ("1.30.0", "policy/v1")],
)
def test_pod_disruption_budget_api_follows_the_kubernetes_version(kube_version, api_version):
    pdb = only(rendered(kube_version=kube_version), "PodDisruptionBudget")
    assert pdb["apiVersion"] == api_version
    assert pdb["spec"]["minAvailable"] == 1
    deployment = only(rendered(kube_version=kube_version), "Deployment")
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]


def test_pod_disruption_budget_api_follows_server_capabilities():
    """On a real server helm sees the kinds it serves; policy/v1 wins when listed."""
    pdb = only(
        rendered(kube_version="1.20.2", api_versions=["policy/v1/PodDisruptionBudget"]),
        "PodDisruptionBudget",
    )
    assert pdb["apiVersion"] == "policy/v1"


def test_one_replica_gets_no_pod_disruption_budget():
    manifests = render(CHART, set_values={"replicas": "1"}, release=RELEASE, namespace=NAMESPACE)
    assert find(manifests, "PodDisruptionBudget") == []
    assert "affinity" not in only(manifests, "Deployment")["spec"]["template"]["spec"]


def test_full_values_reach_the_manifests():
    manifests = rendered([FULL])
    assert only(manifests, "PodDisruptionBudget")["spec"]["minAvailable"] == 2
    deployment = only(manifests, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["replicas"] == 3
    assert pod["priorityClassName"] == "system-cluster-critical"
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert pod["tolerations"][0]["key"] == "dedicated"
    assert "requiredDuringSchedulingIgnoredDuringExecution" in pod["affinity"]["podAntiAffinity"]
    assert pod["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    assert pod["imagePullSecrets"] == [{"name": "registry-credentials"}]
    meta = deployment["spec"]["template"]["metadata"]
    assert meta["annotations"]["example.com/team"] == "platform"
    assert meta["labels"]["example.com/tier"] == "control-plane"
    main = container(manifests)
    assert main["image"] == "registry.example/souk/souk-operator:0.1.0-rc1"
    assert main["imagePullPolicy"] == "Always"
    assert main["resources"] == {"requests": {"cpu": "100m", "memory": "128Mi"},
                                 "limits": {"cpu": "1", "memory": "512Mi"}}  # fmt: skip
    env = {e["name"]: e.get("value") for e in main["env"]}
    assert env["SOUK_OPERATOR_NAMESPACES"] == "shop,shop-staging"
    assert env["SOUK_OPERATOR_LEASE_DURATION"] == "20"
    assert env["SOUK_OPERATOR_CHECK_INTERVAL"] == "60"
    assert env["SOUK_OPERATOR_MAX_BACKOFF"] == "120"
    assert env["LOG_LEVEL"] == "DEBUG"
    account = only(manifests, "ServiceAccount")
    assert account["metadata"]["annotations"] == {"example.com/role": "souk-operator"}


def test_deployment_runs_the_operator_safely_with_probes_that_suit_leader_election():
    manifests = rendered()
    deployment = only(manifests, "Deployment", RELEASE)
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == RELEASE
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    # Two replicas by default, spread over nodes when possible.
    assert deployment["spec"]["replicas"] == 2
    assert "preferredDuringSchedulingIgnoredDuringExecution" in pod["affinity"]["podAntiAffinity"]
    main = container(manifests)
    assert main["image"] == "ghcr.io/souk/souk-operator:0.1.0"  # tag = appVersion
    assert main["command"] == ["python", "-m", "souk_operator"]
    assert {p["name"]: p["containerPort"] for p in main["ports"]} == {
        "health": 8080,
        "metrics": 9090,
    }
    assert main["securityContext"]["readOnlyRootFilesystem"] is True
    assert main["securityContext"]["allowPrivilegeEscalation"] is False
    assert main["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert {"name": "tmp", "mountPath": "/tmp"} in main["volumeMounts"]  # noqa: S108
    assert {"name": "tmp", "emptyDir": {}} in pod["volumes"]
    assert main["resources"]["requests"] == {"cpu": "50m", "memory": "96Mi"}
    assert main["resources"]["limits"]["memory"] == "256Mi"
    # A follower waiting for the Lease serves metrics but not kopf's /healthz: every probe
    # uses the metrics port, or followers would restart (liveness) or block rollouts (readiness).
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        handler = main[probe].get("httpGet") or main[probe].get("tcpSocket")
        assert handler["port"] == "metrics", probe
    assert main["readinessProbe"]["httpGet"]["path"] == "/metrics"


def test_every_operator_variable_the_chart_sets_is_a_setting_the_operator_reads():
    env = {e["name"]: e for e in container(rendered())["env"]}
    fields = {f"SOUK_OPERATOR_{name.upper()}" for name in OperatorSettings.model_fields}
    ours = {name for name in env if name.startswith("SOUK_OPERATOR_")}
    assert ours <= fields, ours - fields
    assert env["SOUK_OPERATOR_LEASE_NAME"]["value"] == RELEASE
    assert env["SOUK_OPERATOR_NAMESPACES"]["value"] == ""
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    assert env["SOUK_OPERATOR_HEALTH_PORT"]["value"] == "8080"
    assert env["SOUK_OPERATOR_METRICS_PORT"]["value"] == "9090"
    assert env["LOG_FORMAT"]["value"] == "json"


def test_metrics_service_and_optional_service_monitor():
    manifests = rendered()
    service = only(manifests, "Service")
    assert service["spec"]["ports"] == [
        {"name": "metrics", "port": 9090, "targetPort": "metrics", "protocol": "TCP"}
    ]
    pod_labels = only(manifests, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert find(manifests, "ServiceMonitor") == []

    full = rendered([FULL])
    monitor = only(full, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["spec"]["endpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "15s", "scrapeTimeout": "5s"}
    ]
    metrics_service = only(full, "Service")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= (
        metrics_service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    # job="souk-operator", as observability/prometheus/rules/alerts.yml expects.
    assert metrics_service["metadata"]["labels"][monitor["spec"]["jobLabel"]] == "souk-operator"


def _no_wildcards(rules: list[dict[str, Any]]) -> None:
    for rule in rules:
        for field in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule.get(field, []), rule
        assert "nonResourceURLs" not in rule


def test_rbac_watching_all_namespaces_is_exactly_what_the_code_needs():
    manifests = rendered()
    role = only(manifests, "ClusterRole")
    assert role["metadata"]["name"] == f"{NAMESPACE}-{RELEASE}"
    assert role["rules"] == OPERATOR_RULES
    _no_wildcards(role["rules"])
    binding = only(manifests, "ClusterRoleBinding")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                  "name": role["metadata"]["name"]}  # fmt: skip
    assert binding["subjects"] == SA_SUBJECT
    lease = only(manifests, "Role")
    assert lease["metadata"]["namespace"] == NAMESPACE
    assert lease["rules"] == LEASE_RULES
    assert only(manifests, "RoleBinding")["subjects"] == SA_SUBJECT
    # Secrets: never watch, update or deletecollection; no cluster-scoped resources at all.
    secrets = [r for r in role["rules"] if "secrets" in r["resources"]]
    assert secrets == [{"apiGroups": [""], "resources": ["secrets"],
                        "verbs": ["get", "list", "create", "patch", "delete"]}]  # fmt: skip


def test_rbac_watching_listed_namespaces_uses_namespaced_roles_only():
    manifests = rendered(set_values={"watchNamespaces": "shop\\, shop2 "})
    assert find(manifests, "ClusterRole") == []
    assert find(manifests, "ClusterRoleBinding") == []
    roles = {
        (r["metadata"]["namespace"], r["metadata"]["name"]): r for r in find(manifests, "Role")
    }
    name = f"{NAMESPACE}-{RELEASE}"
    assert set(roles) == {("shop", name), ("shop2", name),
                          (NAMESPACE, f"{RELEASE}-leader-election")}  # fmt: skip
    for namespace in ("shop", "shop2"):
        assert roles[(namespace, name)]["rules"] == OPERATOR_RULES
    bindings = find(manifests, "RoleBinding")
    assert {(b["metadata"]["namespace"], b["roleRef"]["kind"], b["roleRef"]["name"])
            for b in bindings} == {("shop", "Role", name), ("shop2", "Role", name),
                                   (NAMESPACE, "Role", f"{RELEASE}-leader-election")}  # fmt: skip
    for binding in bindings:
        assert binding["subjects"] == SA_SUBJECT
    env = {e["name"]: e.get("value") for e in container(manifests)["env"]}
    assert env["SOUK_OPERATOR_NAMESPACES"] == "shop,shop2"


def test_names_follow_the_release():
    manifests = render(CHART, release="ops", namespace="platform")
    assert only(manifests, "Deployment")["metadata"]["name"] == "ops-souk-operator"
    assert only(manifests, "ClusterRole")["metadata"]["name"] == "platform-ops-souk-operator"
    env = {e["name"]: e.get("value") for e in container(manifests)["env"]}
    assert env["SOUK_OPERATOR_LEASE_NAME"] == "ops-souk-operator"


@pytest.mark.parametrize(
    ("set_values", "message"),
    [
        ({"replicas": "two"}, "/replicas"),
        ({"replicas": "0"}, "/replicas"),
        ({"watchNamespaces": "Shop_1"}, "/watchNamespaces"),
        ({"image.pullPolicy": "Sometimes"}, "/image/pullPolicy"),
        ({"image.repository": ""}, "/image/repository"),
        ({"logLevel": "LOUD"}, "/logLevel"),
        ({"checkIntervalSeconds": "0"}, "/checkIntervalSeconds"),
        ({"resources.requests.memory": "lots"}, "/resources/requests/memory"),
        ({"serviceMonitor.enabled": "maybe"}, "/serviceMonitor/enabled"),
        ({"serviceMonitor.interval": "soon"}, "/serviceMonitor/interval"),
        ({"podDisruptionBudget.minAvailable": "0"}, "/podDisruptionBudget/minAvailable"),
        ({"replica": "2"}, "'replica' not allowed"),
        ({"podDisruptionBudget.minAvailable": "2"}, "podDisruptionBudget.minAvailable (2)"),
    ],
)
def test_bad_values_are_refused_naming_the_field(set_values, message):
    result = template(CHART, set_values=set_values, release=RELEASE, namespace=NAMESPACE,
                      check=False)  # fmt: skip
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


def test_kubernetes_older_than_1_20_is_refused():
    result = template(CHART, kube_version="1.19.16", check=False)
    assert result.returncode != 0
    assert ">=1.20.0-0" in result.stderr, result.stderr


def test_the_crd_comes_only_from_its_single_source():
    assert sorted(p.name for p in (CHART / "crds").iterdir()) == [CRD_SOURCE.name]
    output = run_helm(["template", RELEASE, str(CHART), "--include-crds"]).stdout
    crds = [d for d in yaml.safe_load_all(output) if d and d["kind"] == "CustomResourceDefinition"]
    assert crds == [yaml.safe_load(CRD_SOURCE.read_text())]
    # No template and no other manifest in the repository carries a copy.
    assert find(rendered(), "CustomResourceDefinition") == []
    copies = []
    for folder in ("charts", "k8s", "docker", "tests", "operator"):
        for path in (REPO_ROOT / folder).rglob("*.y*ml"):
            if path == CRD_SOURCE or "kind: CustomResourceDefinition" not in path.read_text():
                continue
            if "marketplaces.souk.dev" in path.read_text():
                copies.append(path)
    assert copies == []


def test_notes_say_what_to_do_next():
    output = run_helm(["install", RELEASE, str(CHART), "--namespace", NAMESPACE,
                       "--dry-run=client"]).stdout  # fmt: skip
    notes = output.split("NOTES:", 1)[1]
    assert "k8s/examples/marketplace-minimal.yaml" in notes
    assert "helm install shop charts/souk" in notes
    assert "get mkt -w" in notes
    assert f"rollout status deploy/{RELEASE}" in notes
    scoped = run_helm(["install", RELEASE, str(CHART), "--namespace", NAMESPACE,
                       "--dry-run=client", "--set", "watchNamespaces=market"]).stdout  # fmt: skip
    assert "It watches Marketplaces in: market" in scoped
    assert "kubectl -n market get mkt -w" in scoped
