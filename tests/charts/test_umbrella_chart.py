"""The umbrella chart ``charts/souk``: a whole marketplace in one release.

It installs the enabled services, renders the Marketplace the operator provisions (valid
against the CRD's own schema), one Ingress routing ``/api/<service>`` and the JWKS, and the
observability objects from ``observability/`` when asked; its values are checked by its
schema and by each service chart's.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import yaml

from tests.charts.conftest import (
    CRD_KINDS,
    SCHEMA_VERSIONS,
    SERVICES,
    UMBRELLA,
    UMBRELLA_FULL,
    crd_json_schema,
    env_of,
    notes,
    refusal,
)
from tests.support.helm import REPO_ROOT, find, lint, render, schema_errors

DASHBOARDS = sorted((REPO_ROOT / "observability/grafana/dashboards").glob("*.json"))
RULES = sorted((REPO_ROOT / "observability/prometheus/rules").glob("*.yml"))
COLLECTOR = REPO_ROOT / "observability/otel/collector.yaml"


def _marketplace(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    (marketplace,) = find(manifests, "Marketplace")
    return marketplace


def _crd_errors(marketplace: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(crd_json_schema())
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(marketplace)]


# --- lint, render, Kubernetes schemas ----------------------------------------------------------


def test_lint_with_default_and_full_values(built_charts):
    lint(UMBRELLA)
    lint(UMBRELLA, [UMBRELLA_FULL])


@pytest.mark.parametrize("full", [False, True], ids=["default", "full"])
def test_rendered_manifests_validate_against_kubernetes_schemas(built_charts, full):
    manifests = render(UMBRELLA, [UMBRELLA_FULL] if full else [])
    for version in SCHEMA_VERSIONS:
        assert schema_errors(manifests, version, skip_kinds=CRD_KINDS) == [], version


def test_default_values_install_the_whole_shop_and_nothing_optional(built_charts):
    manifests = render(UMBRELLA)
    kinds = sorted({m["kind"] for m in manifests})
    assert kinds == ["Deployment", "Ingress", "Marketplace", "Service", "ServiceAccount"]
    assert sorted(d["metadata"]["name"] for d in find(manifests, "Deployment")) == sorted(
        f"shop-{service}" for service in SERVICES
    )


def test_full_values_render_every_optional_feature(built_charts):
    manifests = render(UMBRELLA, [UMBRELLA_FULL])
    count = {kind: len(find(manifests, kind)) for kind in {m["kind"] for m in manifests}}
    assert count["HorizontalPodAutoscaler"] == len(SERVICES)
    assert count["PodDisruptionBudget"] == len(SERVICES)
    assert count["ServiceMonitor"] == len(SERVICES)
    assert count["Job"] == 2  # demo data: auth and catalog
    assert count["PrometheusRule"] == len(RULES)
    assert count["ConfigMap"] == len(DASHBOARDS) + 1  # + the collector's configuration
    assert count["Deployment"] == len(SERVICES) + 1  # + the collector


# --- the Marketplace ---------------------------------------------------------------------------


def test_default_marketplace_is_managed_and_valid_for_the_crd(built_charts):
    marketplace = _marketplace(render(UMBRELLA))
    assert marketplace["apiVersion"] == "souk.dev/v1alpha1"
    assert marketplace["metadata"]["name"] == "shop"  # the release name
    assert "namespace" not in marketplace["metadata"]  # the release's namespace
    spec = marketplace["spec"]
    assert spec["services"] == [{"name": service} for service in SERVICES]
    assert spec["postgres"] == {
        "mode": "Managed",
        "managed": {"isolation": "Shared", "storage": "1Gi"},
    }
    assert spec["redis"] == {"mode": "Managed", "managed": {"storage": "1Gi"}}
    assert spec["streams"] == {"maxLength": 100000, "maxDeliveries": 5}
    assert spec["deletionPolicy"] == "Retain"
    assert _crd_errors(marketplace) == []


def test_external_mode_comes_from_values_under_the_crds_own_paths(built_charts):
    settings = {
        "global.marketplace": "bazaar",
        "marketplace.name": "bazaar",
        "marketplace.postgres.mode": "External",
        "marketplace.postgres.external.adminSecretRef.name": "external-postgres",
        "marketplace.postgres.external.adminSecretRef.key": "dsn",
        "marketplace.redis.mode": "External",
        "marketplace.redis.external.urlSecretRef.name": "external-redis",
        "marketplace.redis.external.urlSecretRef.key": "url",
        "marketplace.deletionPolicy": "Delete",
    }
    marketplace = _marketplace(render(UMBRELLA, set_values=settings))
    assert marketplace["metadata"]["name"] == "bazaar"
    spec = marketplace["spec"]
    assert spec["postgres"] == {
        "mode": "External",
        "external": {"adminSecretRef": {"name": "external-postgres", "key": "dsn"}},
    }
    assert spec["redis"] == {
        "mode": "External",
        "external": {"urlSecretRef": {"name": "external-redis", "key": "url"}},
    }
    assert spec["deletionPolicy"] == "Delete"
    assert _crd_errors(marketplace) == []


def test_managed_settings_and_full_values_are_valid_for_the_crd(built_charts):
    settings = {
        "marketplace.postgres.managed.isolation": "PerService",
        "marketplace.postgres.managed.storage": "2Gi",
        "marketplace.postgres.managed.image": "postgres:16-alpine",
        "marketplace.redis.managed.image": "redis:7-alpine",
    }
    spec = _marketplace(render(UMBRELLA, set_values=settings))["spec"]
    assert spec["postgres"]["managed"] == {
        "isolation": "PerService", "storage": "2Gi", "image": "postgres:16-alpine"
    }  # fmt: skip
    assert spec["redis"]["managed"] == {"storage": "1Gi", "image": "redis:7-alpine"}
    assert _crd_errors(_marketplace(render(UMBRELLA, set_values=settings))) == []
    full = _marketplace(render(UMBRELLA, [UMBRELLA_FULL]))
    assert full["spec"]["streams"] == {"maxLength": 50000, "maxDeliveries": 3}
    assert _crd_errors(full) == []


def test_crd_check_catches_what_the_api_server_would_refuse_or_drop(built_charts):
    marketplace = _marketplace(render(UMBRELLA))
    marketplace["spec"]["postgres"]["mode"] = "Bogus"
    marketplace["spec"]["redis"]["managed"]["size"] = "1Gi"  # pruned by the server: an error
    errors = _crd_errors(marketplace)
    assert any(e.startswith("['spec', 'postgres']") for e in errors), errors
    assert any("'size' was unexpected" in e for e in errors), errors


def test_marketplace_lists_the_enabled_services_only(built_charts):
    manifests = render(UMBRELLA, set_values={"payments.enabled": "false"})
    expected = [s for s in SERVICES if s != "payments"]
    assert _marketplace(manifests)["spec"]["services"] == [{"name": s} for s in expected]
    assert not find(manifests, "Deployment", "shop-payments")
    (ingress,) = find(manifests, "Ingress")
    paths = [p["path"] for p in ingress["spec"]["rules"][0]["http"]["paths"]]
    assert "/api/payments" not in paths


def test_marketplace_can_be_left_to_the_user(built_charts):
    manifests = render(UMBRELLA, set_values={"marketplace.create": "false"})
    assert not find(manifests, "Marketplace")
    assert len(find(manifests, "Deployment")) == len(SERVICES)


def test_marketplace_name_must_match_what_the_services_read(built_charts):
    stderr = refusal(UMBRELLA, {"marketplace.name": "bazaar"})
    assert "global.marketplace" in stderr, stderr
    assert "set global.marketplace=bazaar" in stderr, stderr


# --- what every Deployment carries -------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "settings", "mkt"),
    [([], {}, "shop"), ([UMBRELLA_FULL], {"global.marketplace": "bazaar"}, "bazaar")],
    ids=["default", "full"],
)
def test_every_deployment_reads_the_operators_secrets(built_charts, values, settings, mkt):
    manifests = render(UMBRELLA, values, settings)
    assert _marketplace(manifests)["metadata"]["name"] == mkt
    deployments = {
        d["metadata"]["labels"].get("souk.dev/service"): d for d in find(manifests, "Deployment")
    }
    deployments.pop(None, None)  # the collector (full values)
    assert set(deployments) == set(SERVICES)
    for service, deployment in deployments.items():
        assert deployment["metadata"]["name"] == f"shop-{service}"
        template = deployment["spec"]["template"]
        for labels in (deployment["metadata"]["labels"], template["metadata"]["labels"]):
            assert labels["souk.dev/marketplace"] == mkt
            assert labels["souk.dev/service"] == service
        pod = template["spec"]
        (server,) = [c for c in pod["containers"] if c["name"] == service]
        assert server["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert server["readinessProbe"]["httpGet"]["path"] == "/readyz"
        for container in [server, *pod["initContainers"]]:
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            env = env_of(container)
            assert env["DATABASE_URL"]["secretKeyRef"]["name"] == f"{mkt}-{service}-db"
            assert env["REDIS_URL"]["secretKeyRef"]["name"] == f"{mkt}-redis"
            assert env["STREAM_PREFIX"]["secretKeyRef"]["name"] == f"{mkt}-redis"
            if service != "auth":
                assert env["AUTH_JWKS_URL"] == "http://shop-auth/.well-known/jwks.json"
        secrets = {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
        assert secrets == ({f"{mkt}-auth-keys"} if service == "auth" else set())


# --- Ingress -----------------------------------------------------------------------------------


def test_ingress_routes_each_service_and_the_jwks(built_charts):
    (ingress,) = find(render(UMBRELLA), "Ingress")
    assert ingress["apiVersion"] == "networking.k8s.io/v1"
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert "tls" not in ingress["spec"]
    (rule,) = ingress["spec"]["rules"]
    assert "host" not in rule
    routes = {
        p["path"]: (p["pathType"], p["backend"]["service"]["name"], p["backend"]["service"]["port"])
        for p in rule["http"]["paths"]
    }
    expected = {f"/api/{s}": ("Prefix", f"shop-{s}", {"name": "http"}) for s in SERVICES}
    expected["/.well-known/jwks.json"] = ("Exact", "shop-auth", {"name": "http"})
    assert routes == expected


def test_ingress_with_host_and_tls(built_charts):
    (ingress,) = find(render(UMBRELLA, [UMBRELLA_FULL]), "Ingress")
    assert ingress["spec"]["tls"] == [{"secretName": "shop-tls", "hosts": ["shop.example.com"]}]
    assert ingress["spec"]["rules"][0]["host"] == "shop.example.com"
    assert ingress["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt"}
    settings = {"ingress.className": "", "ingress.enabled": "true"}
    (default_class,) = find(render(UMBRELLA, set_values=settings), "Ingress")
    assert "ingressClassName" not in default_class["spec"]
    assert not find(render(UMBRELLA, set_values={"ingress.enabled": "false"}), "Ingress")


# --- observability -----------------------------------------------------------------------------


def test_dashboards_rules_and_collector_come_from_observability(built_charts):
    manifests = render(UMBRELLA, [UMBRELLA_FULL])
    dashboards = {
        key: value
        for cm in find(manifests, "ConfigMap")
        if cm["metadata"]["labels"].get("grafana_dashboard") == "1"
        for key, value in cm["data"].items()
    }
    assert sorted(dashboards) == [path.name for path in DASHBOARDS]
    for path in DASHBOARDS:
        assert json.loads(dashboards[path.name]) == json.loads(path.read_text())
    rules = {r["metadata"]["name"]: r for r in find(manifests, "PrometheusRule")}
    for path in RULES:
        rule = rules[f"shop-{path.stem}"]
        assert rule["apiVersion"] == "monitoring.coreos.com/v1"
        assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        assert rule["spec"]["groups"] == yaml.safe_load(path.read_text())["groups"]
    (config,) = find(manifests, "ConfigMap", "shop-otel-collector")
    assert yaml.safe_load(config["data"]["collector.yaml"]) == yaml.safe_load(COLLECTOR.read_text())


def test_services_send_traces_to_the_bundled_collector(built_charts):
    manifests = render(UMBRELLA, [UMBRELLA_FULL])
    (service,) = find(manifests, "Service", "shop-otel-collector")
    ports = {p["name"]: p["port"] for p in service["spec"]["ports"]}
    assert ports["otlp-http"] == 4318
    (collector,) = find(manifests, "Deployment", "shop-otel-collector")
    pod = collector["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"].startswith("otel/opentelemetry-collector-contrib:")
    assert env_of(container)["TEMPO_OTLP_ENDPOINT"] == "tempo.observability.svc:4317"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    selector = collector["spec"]["selector"]["matchLabels"]
    assert selector.items() <= collector["spec"]["template"]["metadata"]["labels"].items()
    assert service["spec"]["selector"] == selector
    for deployment in find(manifests, "Deployment"):
        service_name = deployment["metadata"]["labels"].get("souk.dev/service")
        if service_name:
            (server,) = [
                c for c in deployment["spec"]["template"]["spec"]["containers"]
                if c["name"] == service_name
            ]  # fmt: skip
            endpoint = env_of(server)["OTEL_EXPORTER_OTLP_ENDPOINT"]
            assert endpoint == "http://shop-otel-collector:4318"


# --- API versions by capability ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kube_version", "hpa", "pdb"),
    [("1.20.2", "autoscaling/v2beta2", "policy/v1beta1"),
     ("1.30.0", "autoscaling/v2", "policy/v1")],
)  # fmt: skip
def test_api_versions_follow_the_kubernetes_version(built_charts, kube_version, hpa, pdb):
    manifests = render(UMBRELLA, [UMBRELLA_FULL], kube_version=kube_version)
    assert {m["apiVersion"] for m in find(manifests, "HorizontalPodAutoscaler")} == {hpa}
    assert {m["apiVersion"] for m in find(manifests, "PodDisruptionBudget")} == {pdb}
    assert {m["apiVersion"] for m in find(manifests, "Ingress")} == {"networking.k8s.io/v1"}


# --- refused values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("set_values", "field", "reason"),
    [
        ({"marketplace.postgres.mode": "Bogus"}, "/marketplace/postgres/mode", "Managed"),
        ({"marketplace.redis.mode": "Bogus"}, "/marketplace/redis/mode", "External"),
        ({"ingress.className": "5"}, "/ingress/className", "want string"),
        ({"colour": "blue"}, "colour", "not allowed"),
        ({"marketplace.streams.maxLength": "0"}, "/marketplace/streams/maxLength", "minimum"),
        ({"marketplace.deletionPolicy": "Drop"}, "/marketplace/deletionPolicy", "Retain"),
        (
            {"marketplace.postgres.managed.storage": "lots"},
            "/marketplace/postgres/managed/storage",
            "pattern",
        ),
        ({"ingress.tls.enabled": "true"}, "/ingress/tls/secretName", "minLength"),
        ({"observability.enabled": "yes"}, "/observability/enabled", "want boolean"),
        ({"global.marketplace": "Shop!"}, "/global/marketplace", "pattern"),
    ],
)
def test_bad_values_are_refused_naming_the_field(built_charts, set_values, field, reason):
    stderr = refusal(UMBRELLA, set_values)
    assert field in stderr, stderr
    assert reason in stderr, stderr


def test_external_mode_needs_its_secret_reference(built_charts):
    external = {"marketplace.postgres.mode": "External"}
    stderr = refusal(UMBRELLA, external | {"marketplace.postgres.external.adminSecretRef": "null"})
    assert "at '/marketplace/postgres/external': missing property 'adminSecretRef'" in stderr
    stderr = refusal(UMBRELLA, external | {"marketplace.postgres.external.adminSecretRef.key": ""})
    assert "/marketplace/postgres/external/adminSecretRef/key" in stderr, stderr
    stderr = refusal(UMBRELLA, {"marketplace.redis.mode": "External"}, set_json={
        "marketplace.redis.external": '{"urlSecretRef": {"name": "redis", "key": null}}'
    })  # fmt: skip
    assert "/marketplace/redis/external/urlSecretRef" in stderr, stderr


def test_a_services_values_are_checked_by_its_own_schema(built_charts):
    stderr = refusal(UMBRELLA, {"auth.replicas": "-1", "orders.orderDeadlineSeconds": "-5"})
    assert "auth:" in stderr, stderr
    assert "/replicas" in stderr, stderr
    assert "/orderDeadlineSeconds" in stderr, stderr


def test_no_service_enabled_is_refused(built_charts):
    settings = {f"{service}.enabled": "false" for service in SERVICES}
    stderr = refusal(UMBRELLA, settings)
    assert "at least one" in stderr, stderr


# --- NOTES -------------------------------------------------------------------------------------


def test_notes_tell_what_to_do_next(built_charts):
    text = notes(UMBRELLA)
    assert "kubectl -n shop get mkt shop -w" in text
    assert "helm install souk-operator charts/souk-operator" in text
    assert "curl -s 'http://<ingress address>/api/catalog/products?limit=3'" in text
    assert "kind: http://localhost" in text
    assert "Observability" not in text


def test_notes_with_full_values(built_charts):
    text = notes(UMBRELLA, [UMBRELLA_FULL], {"global.marketplace": "bazaar"})
    assert "kubectl -n shop get mkt bazaar -w" in text
    assert "Secret pg-admin (key url)" in text
    assert "https://shop.example.com/.well-known/jwks.json" in text
    assert "buyer@souk.test" in text  # demo data
    assert "grafana_dashboard=1" in text
    assert "http://shop-otel-collector:4318" in text
