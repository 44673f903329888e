"""The library chart and the five service charts, rendered by the real helm.

What a platform engineer relies on: each chart lints strictly and renders with default and
with full values into manifests Kubernetes accepts; the Deployment carries the labels the
operator finds it by, probes, a locked-down security context, migrations before serving and
the operator's Secrets by name; optional features appear when switched on, with the API
versions the target Kubernetes serves; bad values are refused naming the field.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

from tests.charts.conftest import (
    CRD_KINDS,
    LIB,
    SCHEMA_VERSIONS,
    SERVICE_CHARTS,
    SERVICE_FULL,
    SERVICES,
    UMBRELLA,
    env_of,
    load_script,
    notes,
    refusal,
)
from tests.support.helm import find, lint, render, schema_errors, template

SEEDED = ("auth", "catalog")


def _generator() -> ModuleType:
    return load_script(LIB / "service" / "generate.py", "souk_lib_service_generate")


def _deployment(manifests: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (deployment,) = find(manifests, "Deployment", name)
    return deployment


def _container(pod: dict[str, Any], name: str) -> dict[str, Any]:
    (container,) = [c for c in pod["containers"] if c["name"] == name]
    return container


# --- generated files -------------------------------------------------------------------------


def test_generated_values_files_match_their_source():
    generator = _generator()
    assert set(generator.SERVICES) == set(SERVICES)
    assert generator.stale_files() == [], "run: uv run python charts/souk-lib/service/generate.py"


def test_generator_check_reports_a_hand_edited_file(tmp_path, monkeypatch):
    generator = _generator()
    copies = {}
    for path, text in generator.outputs().items():
        target = tmp_path / path.relative_to(generator.CHARTS)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        copies[path] = target
    monkeypatch.setattr(generator, "CHARTS", tmp_path)
    assert generator.main(["--check"]) == 0
    edited = tmp_path / "souk-orders" / "values.yaml"
    edited.write_text(edited.read_text().replace("replicas: 1", "replicas: 2"))
    assert generator.stale_files() == [edited]
    assert generator.main(["--check"]) == 1
    assert generator.main([]) == 0
    assert generator.stale_files() == []


def test_every_service_schema_is_valid_json_with_its_own_settings():
    expected_extras = {
        "auth": {"seed", "trustedProxyHops", "cookieSecure", "accessTokenTtlSeconds"},
        "catalog": {"seed", "lowStockThreshold"},
        "orders": {"orderDeadlineSeconds"},
        "payments": set(),
        "notifications": set(),
    }
    common = json.loads((LIB / "service" / "values.schema.json").read_text())["properties"]
    for service, chart in SERVICE_CHARTS.items():
        schema = json.loads((chart / "values.schema.json").read_text())
        assert schema["additionalProperties"] is False
        own = set(schema["properties"]) - set(common)
        assert expected_extras[service] <= own, service


# --- lint and render ---------------------------------------------------------------------------


def test_library_chart_lints(built_charts):
    lint(LIB)


@pytest.mark.parametrize("service", SERVICES)
def test_lint_with_default_and_full_values(built_charts, service):
    chart = SERVICE_CHARTS[service]
    lint(chart)
    lint(chart, [SERVICE_FULL])


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("full", [False, True], ids=["default", "full"])
def test_rendered_manifests_validate_against_kubernetes_schemas(built_charts, service, full):
    manifests = render(SERVICE_CHARTS[service], [SERVICE_FULL] if full else [])
    kinds = sorted(m["kind"] for m in manifests)
    if full:
        expected = ["Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service"]
        expected += ["ServiceAccount", "ServiceMonitor"]
        if service in SEEDED:
            expected.append("Job")
        assert kinds == sorted(expected)
    else:
        assert kinds == ["Deployment", "Service", "ServiceAccount"]
    for version in SCHEMA_VERSIONS:
        assert schema_errors(manifests, version, skip_kinds=CRD_KINDS) == [], version


# --- the Deployment's contract -----------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_is_found_by_the_operator_and_locked_down(built_charts, service):
    manifests = render(SERVICE_CHARTS[service])
    deployment = _deployment(manifests, f"shop-{service}")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    for labels in (deployment["metadata"]["labels"], pod_labels):
        assert labels["souk.dev/marketplace"] == "shop"
        assert labels["souk.dev/service"] == service
        assert labels["app.kubernetes.io/part-of"] == "souk"
        assert labels["app.kubernetes.io/instance"] == "shop"
        assert labels["app.kubernetes.io/name"] == f"souk-{service}"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert {"app.kubernetes.io/version", "app.kubernetes.io/component"} <= set(labels)
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == f"shop-{service}"
    server = _container(pod, service)
    assert server["image"] == f"ghcr.io/souk/souk-{service}:0.1.0"
    assert server["command"] == ["python", "-m", f"souk_{service}"]
    assert server["args"] == ["serve", "--host", "0.0.0.0", "--port", "8000"]  # noqa: S104
    assert server["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    assert server["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert server["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert server["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert server["resources"]["requests"]
    assert server["resources"]["limits"]["memory"]
    for container in [server, *pod["initContainers"]]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]  # noqa: S108
    assert {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}} in pod["volumes"]
    (service_object,) = find(manifests, "Service", f"shop-{service}")
    assert service_object["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}
    ]
    assert service_object["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    (account,) = find(manifests, "ServiceAccount", f"shop-{service}")
    assert account["automountServiceAccountToken"] is False


@pytest.mark.parametrize("service", SERVICES)
def test_environment_comes_from_the_operators_secrets(built_charts, service):
    manifests = render(SERVICE_CHARTS[service], set_values={"global.marketplace": "bazaar"})
    pod = _deployment(manifests, f"shop-{service}")["spec"]["template"]["spec"]
    env = env_of(_container(pod, service))
    assert env["DATABASE_URL"] == {
        "secretKeyRef": {"name": f"bazaar-{service}-db", "key": "DATABASE_URL"}
    }
    for key in ("REDIS_URL", "STREAM_PREFIX"):
        assert env[key] == {"secretKeyRef": {"name": "bazaar-redis", "key": key}}
    for key in ("STREAM_MAX_LENGTH", "STREAM_MAX_DELIVERIES"):
        assert env[key] == {"secretKeyRef": {"name": "bazaar-redis", "key": key, "optional": True}}
    assert env["CONSUMER_NAME"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert env["SERVICE_NAME"] == service
    assert env["LOG_FORMAT"] == "json"
    assert env["LOG_LEVEL"] == "INFO"
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in env  # tracing is off by default
    if service == "auth":
        assert "AUTH_JWKS_URL" not in env
    else:
        assert env["AUTH_JWKS_URL"] == "http://shop-auth/.well-known/jwks.json"
    # Migrations run before the server, with the same environment.
    (migrate,) = pod["initContainers"]
    assert migrate["command"] == ["python", "-m", f"souk_{service}"]
    assert migrate["args"] == ["migrate"]
    assert env_of(migrate) == env
    assert migrate["image"] == _container(pod, service)["image"]


def test_auth_mounts_its_signing_keys_and_trusts_the_ingress(built_charts):
    manifests = render(SERVICE_CHARTS["auth"], set_values={"global.marketplace": "bazaar"})
    pod = _deployment(manifests, "shop-auth")["spec"]["template"]["spec"]
    server = _container(pod, "auth")
    env = env_of(server)
    assert env["AUTH_SIGNING_KEY_FILE"] == "/var/run/secrets/souk/auth-keys/private.pem"
    assert env["TRUSTED_PROXY_HOPS"] == "1"
    assert env["COOKIE_SECURE"] == "true"
    assert env["ACCESS_TOKEN_TTL_SECONDS"] == "900"
    assert env["REFRESH_TOKEN_TTL_SECONDS"] == "1209600"  # not 1.2096e+06
    volumes = {v["name"]: v for v in pod["volumes"]}
    keys = {"secretName": "bazaar-auth-keys", "defaultMode": 0o440}
    assert volumes["auth-keys"]["secret"] == keys
    mounts = {m["name"]: m for m in server["volumeMounts"]}
    assert mounts["auth-keys"] == {
        "name": "auth-keys", "mountPath": "/var/run/secrets/souk/auth-keys", "readOnly": True
    }  # fmt: skip
    assert mounts["auth-keys"] in pod["initContainers"][0]["volumeMounts"]


def test_service_settings_are_values(built_charts, tmp_path):
    cases = {
        "auth": ({"cookieSecure": "false", "trustedProxyHops": "2"},
                 {"COOKIE_SECURE": "false", "TRUSTED_PROXY_HOPS": "2"}),
        "catalog": ({"lowStockThreshold": "9"},
                    {"LOW_STOCK_THRESHOLD": "9", "AUTH_URL": "http://shop-auth"}),
        "orders": ({"orderDeadlineSeconds": "1200"}, {"ORDER_DEADLINE_SECONDS": "1200"}),
    }  # fmt: skip
    for service, (values, expected) in cases.items():
        manifests = render(SERVICE_CHARTS[service], set_values=values)
        pod = _deployment(manifests, f"shop-{service}")["spec"]["template"]["spec"]
        env = env_of(_container(pod, service))
        assert {k: env[k] for k in expected} == expected, service
    # A fraction, from a values file (--set would pass a string, which the schema refuses).
    values = tmp_path / "orders.yaml"
    values.write_text("orderDeadlineSeconds: 1.5\n")
    pod = _deployment(render(SERVICE_CHARTS["orders"], [values]), "shop-orders")
    env = env_of(_container(pod["spec"]["template"]["spec"], "orders"))
    assert env["ORDER_DEADLINE_SECONDS"] == "1.5"


def test_env_value_adds_and_overrides_variables(built_charts):
    manifests = render(SERVICE_CHARTS["orders"], [SERVICE_FULL])
    pod = _deployment(manifests, "shop-orders")["spec"]["template"]["spec"]
    env = env_of(_container(pod, "orders"))
    assert env["DB_POOL_SIZE"] == "20"
    assert env["RUN_WORKERS"] == "true"
    assert env["STREAM_MAX_LENGTH"] == "5000000"  # replaces the Secret's key, printed whole
    assert env["STREAM_MAX_DELIVERIES"]["secretKeyRef"]["name"] == "bazaar-redis"
    assert env["LOG_LEVEL"] == "DEBUG"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.monitoring.svc:4318"
    assert env["OTEL_SERVICE_NAME"] == "orders"
    # global.authUrl is a template.
    assert env["AUTH_JWKS_URL"] == "http://shop-auth.shop.svc/.well-known/jwks.json"


def test_full_values_reach_the_pod(built_charts):
    manifests = render(SERVICE_CHARTS["payments"], [SERVICE_FULL])
    deployment = _deployment(manifests, "shop-payments")
    assert "replicas" not in deployment["spec"]  # the HPA owns the replica count
    pod = deployment["spec"]["template"]["spec"]
    assert pod["imagePullSecrets"] == [{"name": "registry-credentials"}]
    assert pod["priorityClassName"] == "souk-high"
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert pod["tolerations"][0]["key"] == "dedicated"
    spread = pod["topologySpreadConstraints"][0]
    assert spread["labelSelector"]["matchLabels"] == {"app.kubernetes.io/instance": "shop"}
    assert _container(pod, "payments")["image"] == "registry.example.com/souk/service:1.2.3"
    assert deployment["spec"]["template"]["metadata"]["labels"]["example.com/tier"] == "backend"
    (hpa,) = find(manifests, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "shop-payments"
    }  # fmt: skip
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu", "memory"]
    (pdb,) = find(manifests, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    assert "maxUnavailable" not in pdb["spec"]
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    (monitor,) = find(manifests, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["spec"]["jobLabel"] == "souk.dev/service"  # job="payments", as rules expect
    assert monitor["spec"]["endpoints"] == [
        {"port": "http", "path": "/metrics", "interval": "15s", "scrapeTimeout": "5s"}
    ]
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"


@pytest.mark.parametrize("service", SERVICES)
def test_demo_data_job_only_where_there_is_demo_data(built_charts, service):
    manifests = render(SERVICE_CHARTS[service], set_values={"global.seed.enabled": "true"})
    jobs = find(manifests, "Job")
    if service not in SEEDED:
        assert jobs == []
        return
    (job,) = jobs
    assert job["metadata"]["name"] == f"shop-{service}-seed-1"  # one per release revision
    assert "helm.sh/hook" not in job["metadata"].get("annotations", {})  # install never waits
    pod = job["spec"]["template"]["spec"]
    assert [c["args"] for c in pod["initContainers"]] == [["migrate"]]
    assert [c["args"] for c in pod["containers"]] == [["seed"]]
    # Its pods never receive the Service's traffic.
    service_selector = find(manifests, "Service")[0]["spec"]["selector"]
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert not service_selector.items() <= labels.items()
    deployment_pod = _deployment(manifests, f"shop-{service}")["spec"]["template"]["spec"]
    assert env_of(pod["containers"][0]) == env_of(_container(deployment_pod, service))
    # Per chart as well as globally.
    assert find(render(SERVICE_CHARTS[service], set_values={"seed.enabled": "true"}), "Job")


@pytest.mark.parametrize(
    ("kube_version", "hpa", "pdb"),
    [("1.20.2", "autoscaling/v2beta2", "policy/v1beta1"),
     ("1.22.0", "autoscaling/v2beta2", "policy/v1"),
     ("1.30.0", "autoscaling/v2", "policy/v1")],
)  # fmt: skip
def test_api_versions_follow_the_kubernetes_version(built_charts, kube_version, hpa, pdb):
    manifests = render(SERVICE_CHARTS["catalog"], [SERVICE_FULL], kube_version=kube_version)
    assert find(manifests, "HorizontalPodAutoscaler")[0]["apiVersion"] == hpa
    assert find(manifests, "PodDisruptionBudget")[0]["apiVersion"] == pdb


@pytest.mark.parametrize("chart", [*SERVICE_CHARTS.values(), UMBRELLA], ids=lambda c: c.name)
def test_kubernetes_older_than_supported_is_refused(built_charts, chart):
    result = template(chart, kube_version="1.19.16", check=False)
    assert result.returncode != 0
    assert ">=1.20.0-0" in result.stderr, result.stderr


# --- refused values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("set_values", "field", "reason"),
    [
        ({"replicas": "-1"}, "/replicas", "minimum"),
        ({"image.tag": "5"}, "/image/tag", "want string"),
        ({"colour": "blue"}, "colour", "not allowed"),
        ({"logLevel": "LOUD"}, "/logLevel", "DEBUG"),
        ({"global.marketplace": "Bad_Name"}, "/global/marketplace", "pattern"),
        ({"autoscaling.maxReplicas": "0"}, "/autoscaling/maxReplicas", "minimum"),
        ({"serviceMonitor.interval": "soon"}, "/serviceMonitor/interval", "pattern"),
        ({"env.bad-name": "x"}, "/env", "bad-name"),
    ],
)
def test_bad_values_are_refused_naming_the_field(built_charts, set_values, field, reason):
    stderr = refusal(SERVICE_CHARTS["orders"], set_values)
    assert "souk-orders" in stderr
    assert field in stderr, stderr
    assert reason in stderr, stderr


def test_service_specific_values_are_checked(built_charts):
    stderr = refusal(SERVICE_CHARTS["auth"], {"trustedProxyHops": "11"})
    assert "/trustedProxyHops" in stderr, stderr
    stderr = refusal(SERVICE_CHARTS["orders"], {"orderDeadlineSeconds": "0"})
    assert "/orderDeadlineSeconds" in stderr, stderr
    stderr = refusal(SERVICE_CHARTS["payments"], {"seed.enabled": "true"})
    assert "'seed' not allowed" in stderr, stderr


# --- NOTES -------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_notes_tell_what_to_do_next(built_charts, service):
    text = notes(SERVICE_CHARTS[service], set_values={"global.marketplace": "bazaar"})
    assert "kubectl -n shop get mkt bazaar" in text
    assert f"rollout status deployment/shop-{service}" in text
    assert f"bazaar-{service}-db" in text
    assert "bazaar-redis" in text
    assert ("bazaar-auth-keys" in text) == (service == "auth")
