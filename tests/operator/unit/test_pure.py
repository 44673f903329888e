"""Unit tests of the operator's pure functions: spec, names, Secrets, manifests, status, CRD."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import serialization

from souk_common.provisioning import service_credentials
from souk_contracts.topology import SERVICES
from souk_operator import managed, naming, secretdata, status
from souk_operator.config import OperatorSettings
from souk_operator.leader import decide
from souk_operator.model import SpecError, parse_spec

CRD = Path(__file__).parents[3] / "charts/souk-operator/crds/marketplaces.souk.dev.yaml"
EXTERNAL = {
    "postgres": {"mode": "External", "external": {"adminSecretRef": {"name": "pg", "key": "url"}}},
    "redis": {"mode": "External", "external": {"urlSecretRef": {"name": "rd", "key": "url"}}},
}
OWNER = {"apiVersion": "souk.dev/v1alpha1", "kind": "Marketplace", "name": "shop", "uid": "u1"}
BODY = {"metadata": {"name": "shop", "uid": "u1"}}


def test_spec_defaults_to_every_service_with_topology_subscriptions():
    spec = parse_spec(EXTERNAL)
    assert spec.service_names == tuple(SERVICES)
    assert spec.subscriptions()["notifications"] == ("orders", "payments", "auth")
    assert "auth" not in spec.subscriptions()
    assert (spec.deletion_policy, spec.max_length, spec.max_deliveries) == ("Retain", 100000, 5)


def test_spec_keeps_explicit_subscriptions_and_refuses_unknown_names():
    spec = parse_spec({**EXTERNAL, "services": [{"name": "catalog", "subscribes": []}]})
    assert spec.subscriptions() == {}
    with pytest.raises(SpecError, match=r"spec.services\[0\].name"):
        parse_spec({**EXTERNAL, "services": [{"name": "shipping"}]})
    with pytest.raises(SpecError, match="adminSecretRef"):
        parse_spec({**EXTERNAL, "postgres": {"mode": "External", "external": {}}})


def test_names_and_labels_follow_design():
    assert naming.db_secret_name("shop", "catalog") == "shop-catalog-db"
    assert naming.redis_secret_name("shop") == "shop-redis"
    assert naming.auth_keys_secret_name("shop") == "shop-auth-keys"
    assert naming.stream_prefix("shop") == "shop:"
    labels = naming.labels("shop", "database-credentials", "catalog", "catalog")
    assert labels["app.kubernetes.io/managed-by"] == "souk-operator"
    assert labels[naming.SERVICE_LABEL] == "catalog"
    ref = naming.owner_reference(BODY)
    assert ref["controller"] is True
    assert ref["uid"] == "u1"


def test_db_secret_holds_database_url_and_libpq_variables():
    creds = service_credentials("postgresql://postgres@db:5432/postgres", "shop_catalog", "pw")
    secret = secretdata.db_secret("shop", "catalog", creds, OWNER)
    assert set(secret["data"]) == set(secretdata.DB_SECRET_KEYS)
    assert secret["data"]["DATABASE_URL"] == "postgresql://shop_catalog:pw@db:5432/shop_catalog"
    assert secret["metadata"]["ownerReferences"] == [OWNER]


def test_auth_keys_are_generated_once_and_kept():
    first = secretdata.auth_keys_secret("shop", None, OWNER)["data"]
    key = serialization.load_pem_private_key(first["private.pem"].encode(), None)
    assert key.curve.name == "secp256r1"  # type: ignore[attr-defined]
    assert secretdata.auth_keys_secret("shop", first, OWNER)["data"] == first
    assert secretdata.auth_keys_secret("shop", {"private.pem": "x"}, OWNER)["data"] != first


def test_kept_password_reuses_the_secret():
    assert secretdata.kept_password({"PGPASSWORD": "old"}, lambda: "new") == "old"
    assert secretdata.kept_password(None, lambda: "new") == "new"


def test_managed_objects_shared_and_per_service():
    managed_spec = {
        "postgres": {"mode": "Managed", "managed": {"isolation": "PerService", "storage": "2Gi"}},
        "redis": {"mode": "Managed", "managed": {"storage": "1Gi"}},
        "services": [{"name": "auth"}, {"name": "catalog"}],
    }
    objects = managed.managed_objects("shop", parse_spec(managed_spec), OWNER)
    names = [(o["kind"], o["metadata"]["name"]) for o in objects]
    assert ("StatefulSet", "shop-postgres-auth") in names
    assert ("StatefulSet", "shop-postgres-catalog") in names
    assert ("Service", "shop-redis-server") in names
    sts = next(o for o in objects if o["metadata"]["name"] == "shop-postgres-auth")
    claim = sts["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "2Gi"
    container = sts["spec"]["template"]["spec"]["containers"][0]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["readinessProbe"]["exec"]["command"][0] == "pg_isready"
    redis = next(
        o for o in objects if o["kind"] == "StatefulSet" and "redis" in o["metadata"]["name"]
    )
    assert "--appendonly" in redis["spec"]["template"]["spec"]["containers"][0]["args"]
    shared = {**managed_spec, "postgres": {"mode": "Managed", "managed": {"isolation": "Shared"}}}
    assert managed.postgres_servers("shop", parse_spec(shared)) == {
        "auth": "shop-postgres",
        "catalog": "shop-postgres",
    }


OK = status.Stage("ok", "Fine", "fine")


def test_status_ready_only_when_infrastructure_and_every_deployment_are_ready():
    ready = status.DeploymentState(2, 2)
    built = status.build_status(
        generation=3, marketplace="shop", services=("auth", "catalog"), databases=OK, streams=OK,
        deployments={"auth": ready}, previous=None, now="T1",
    )  # fmt: skip
    conditions = {c["type"]: c for c in built["conditions"]}
    assert conditions["DatabasesReady"]["status"] == "True"
    assert conditions["ServicesReady"]["reason"] == "DeploymentsMissing"
    assert "catalog" in conditions["ServicesReady"]["message"]
    assert (built["phase"], built["servicesReady"], built["observedGeneration"]) == (
        "Provisioning",
        "1/2",
        3,
    )
    again = status.build_status(
        generation=3, marketplace="shop", services=("auth", "catalog"), databases=OK, streams=OK,
        deployments={"auth": ready, "catalog": ready}, previous=built, now="T2",
    )  # fmt: skip
    by_type = {c["type"]: c for c in again["conditions"]}
    assert again["phase"] == "Ready"
    assert by_type["Ready"]["lastTransitionTime"] == "T2"
    assert by_type["DatabasesReady"]["lastTransitionTime"] == "T1"  # unchanged status keeps it


def test_phase_orders_failed_degraded_provisioning():
    down = status.Stage("temporary", "PostgresUnavailable", "refused")
    wrong = status.Stage("permanent", "PostgresConfigurationError", "no key")
    assert status.phase([OK, down]) == "Degraded"
    assert status.phase([down, wrong]) == "Failed"
    assert status.phase([OK, status.Stage("waiting", "W", "w")]) == "Provisioning"
    assert status.ready_stage(down, OK, OK).message.startswith("databases:")


def test_deployment_state_reads_the_api_object():
    deployment = {"metadata": {"generation": 2}, "spec": {"replicas": 2},
                  "status": {"observedGeneration": 2, "readyReplicas": 2}}  # fmt: skip
    assert status.deployment_state(deployment).ready
    stale = {**deployment, "status": {"observedGeneration": 1, "readyReplicas": 2}}
    assert not status.deployment_state(stale).ready


def test_crd_is_the_schema_source_and_matches_the_topology():
    crd = yaml.safe_load(CRD.read_text())
    version = crd["spec"]["versions"][0]
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    assert spec["services"]["items"]["properties"]["name"]["enum"] == list(SERVICES)
    assert spec["services"]["items"]["properties"]["subscribes"]["items"]["enum"] == list(SERVICES)
    columns = [c["name"] for c in version["additionalPrinterColumns"]]
    assert columns == ["READY", "PHASE", "SERVICES", "AGE"]
    assert crd["spec"]["names"]["shortNames"] == ["mkt"]
    assert version["subresources"] == {"status": {}}


def test_lease_decisions():
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    fresh = now - dt.timedelta(seconds=5)
    assert decide("me", fresh, 15, "me", now) == "renew"
    assert decide("other", fresh, 15, "me", now) == "wait"
    assert decide("other", now - dt.timedelta(seconds=20), 15, "me", now) == "acquire"
    assert decide(None, None, 15, "me", now) == "acquire"


def test_settings_backoff_is_capped(monkeypatch):
    monkeypatch.setenv("SOUK_OPERATOR_NAMESPACES", "a, b")
    settings = OperatorSettings(max_backoff=10)
    assert settings.namespace_list() == ["a", "b"]
    assert [settings.backoff(r) for r in range(5)] == [2, 4, 8, 10, 10]
