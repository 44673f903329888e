"""Envtests: updates, drift, restarts, outages and deletion all converge to the documented state."""

from __future__ import annotations

import time

import pytest
from kubernetes import client as k8s

from souk_common.testing import PG_ADMIN_URL, wait_until
from tests.envtest.apiserver import free_port
from tests.operator.conftest import example, url_secrets
from tests.operator.helpers import (
    GROUP,
    PLURAL,
    VERSION,
    conditions,
    databases,
    get_mkt,
    groups,
    infra_ready,
    login_works,
    redis_call,
    secret_data,
    streams,
)

pytestmark = pytest.mark.envtest


def create(api, namespace, body):
    k8s.CustomObjectsApi(api).create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, body
    )


def patch_spec(api, namespace, name, spec):
    k8s.CustomObjectsApi(api).patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, name, {"spec": spec}
    )


def gone(api, namespace, name) -> bool:
    try:
        get_mkt(api, namespace, name)
    except k8s.ApiException as error:
        return error.status == 404
    return False


def small(name: str, services: list[str], policy: str = "Delete") -> dict:
    body = example("marketplace-minimal.yaml", name)
    body["spec"]["services"] = [{"name": s} for s in services]
    body["spec"]["deletionPolicy"] = policy
    return body


def test_adding_removing_services_and_hand_deletions_converge(
    kube_admin, kube_namespace, start_operator, marketplace_name
):
    ns, name = kube_namespace, marketplace_name
    core = k8s.CoreV1Api(kube_admin)
    url_secrets(core, ns)
    start_operator()
    create(kube_admin, ns, small(name, ["auth", "catalog", "orders"]))
    wait_until(lambda: infra_ready(kube_admin, ns, name))
    assert databases(name) == {f"{name}_auth", f"{name}_catalog", f"{name}_orders"}

    # Adding payments provisions it (database, Secret, its consumer groups).
    patch_spec(
        kube_admin,
        ns,
        name,
        {
            "services": [
                {"name": "auth"},
                {"name": "catalog"},
                {"name": "orders"},
                {"name": "payments"},
            ]
        },
    )
    wait_until(lambda: f"{name}_payments" in databases(name))
    wait_until(lambda: (f"{name}:orders.events", "payments") in groups(name))
    assert login_works(secret_data(kube_admin, ns, f"{name}-payments-db")["DATABASE_URL"])

    # Removing orders with deletionPolicy Delete drops its database, Secret and groups.
    patch_spec(
        kube_admin,
        ns,
        name,
        {"services": [{"name": "auth"}, {"name": "catalog"}, {"name": "payments"}]},
    )
    wait_until(lambda: f"{name}_orders" not in databases(name))
    wait_until(lambda: not any(g == "orders" for _, g in groups(name)))
    assert f"{name}:dlq.orders" not in streams(name)
    with pytest.raises(k8s.ApiException):
        core.read_namespaced_secret(f"{name}-orders-db", ns)
    wait_until(lambda: get_mkt(kube_admin, ns, name)["status"]["observedGeneration"] == 3)
    assert set(get_mkt(kube_admin, ns, name)["status"]["services"]) == {
        "auth",
        "catalog",
        "payments",
    }

    # A Secret deleted by hand comes back with a password the role accepts. Usually a new
    # one; but a reconcile that read the Secret just before the deletion recreates it with
    # the password it read (the role still has it), so the password itself is not compared.
    core.delete_namespaced_secret(f"{name}-catalog-db", ns)
    data = wait_until(lambda: secret_data(kube_admin, ns, f"{name}-catalog-db"))
    assert wait_until(lambda: login_works(data["DATABASE_URL"]))
    keys = secret_data(kube_admin, ns, f"{name}-auth-keys")
    core.delete_namespaced_secret(f"{name}-auth-keys", ns)
    assert wait_until(lambda: secret_data(kube_admin, ns, f"{name}-auth-keys"))["private.pem"]
    assert secret_data(kube_admin, ns, f"{name}-auth-keys") != keys  # new pair after a loss

    # A consumer group destroyed by hand is recreated by the periodic check.
    redis_call("XGROUP", "DESTROY", f"{name}:orders.events", "catalog")
    wait_until(lambda: (f"{name}:orders.events", "catalog") in groups(name))


def test_restart_mid_reconcile_converges(
    kube_admin, kube_namespace, start_operator, marketplace_name
):
    ns, name = kube_namespace, marketplace_name
    core = k8s.CoreV1Api(kube_admin)
    url_secrets(core, ns)
    first = start_operator()
    create(kube_admin, ns, small(name, ["auth", "catalog", "orders", "payments", "notifications"]))
    # Kill it (SIGKILL, no clean-up) as soon as the first database Secret exists.
    wait_until(lambda: core.list_namespaced_secret(
        ns, label_selector=f"souk.dev/marketplace={name},app.kubernetes.io/component"
        "=database-credentials").items, interval=0.02)  # fmt: skip
    first.stop(kill=True)
    second = start_operator()  # waits for the dead replica's Lease to expire (6 s), then runs
    wait_until(lambda: infra_ready(kube_admin, ns, name), within=120)
    assert len(databases(name)) == 5
    assert any(line.get("event") == "leader_election_won" for line in second.log_lines())


@pytest.mark.parametrize("policy", ["Retain", "Delete"])
def test_deletion_follows_the_policy(
    kube_admin, kube_namespace, start_operator, marketplace_name, policy
):
    ns, name = kube_namespace, marketplace_name
    url_secrets(k8s.CoreV1Api(kube_admin), ns)
    start_operator()
    create(kube_admin, ns, small(name, ["catalog", "orders"], policy))
    wait_until(lambda: infra_ready(kube_admin, ns, name))
    assert get_mkt(kube_admin, ns, name)["metadata"]["finalizers"] == [
        "souk.dev/marketplace-cleanup"
    ]
    k8s.CustomObjectsApi(kube_admin).delete_namespaced_custom_object(
        GROUP, VERSION, ns, PLURAL, name
    )
    wait_until(lambda: gone(kube_admin, ns, name))
    if policy == "Retain":
        assert databases(name) == {f"{name}_catalog", f"{name}_orders"}
        assert (f"{name}:orders.events", "catalog") in groups(name)
    else:
        assert databases(name) == set()
        assert streams(name) == set()


def test_unreachable_postgres_shows_degraded_then_recovers(
    kube_admin, kube_namespace, start_operator, marketplace_name
):
    ns, name = kube_namespace, marketplace_name
    core = k8s.CoreV1Api(kube_admin)
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    url_secrets(core, ns, pg_url=closed)
    start_operator()
    create(kube_admin, ns, small(name, ["catalog"]))

    def degraded() -> bool:
        found = conditions(kube_admin, ns, name)
        return (get_mkt(kube_admin, ns, name)["status"]["phase"] == "Degraded"
                and found["DatabasesReady"]["reason"] == "PostgresUnavailable")  # fmt: skip

    wait_until(degraded)
    found = conditions(kube_admin, ns, name)
    assert "unreachable" in found["DatabasesReady"]["message"]
    assert found["StreamsReady"]["status"] == "True"  # Redis is fine and says so
    events = core.list_namespaced_event(ns).items
    assert any(e.type == "Warning" and e.reason == "PostgresUnavailable" for e in events)

    # Point the Secret at the server again (a changed admin URL/password is picked up).
    core.patch_namespaced_secret("pg-admin", ns, {"stringData": {"url": PG_ADMIN_URL}})
    wait_until(lambda: infra_ready(kube_admin, ns, name))
    assert get_mkt(kube_admin, ns, name)["status"]["phase"] == "Provisioning"  # no Deployments


def test_missing_secret_key_fails_with_what_to_fix_then_recovers(
    kube_admin, kube_namespace, start_operator, marketplace_name
):
    ns, name = kube_namespace, marketplace_name
    core = k8s.CoreV1Api(kube_admin)
    url_secrets(core, ns)
    start_operator()
    body = small(name, ["catalog"])
    body["spec"]["postgres"]["external"]["adminSecretRef"]["key"] = "dsn"
    create(kube_admin, ns, body)
    wait_until(lambda: get_mkt(kube_admin, ns, name).get("status", {}).get("phase") == "Failed")
    message = conditions(kube_admin, ns, name)["DatabasesReady"]["message"]
    assert "has no key 'dsn'" in message
    assert "spec.postgres.external.adminSecretRef.key" in message
    time.sleep(1)
    core.patch_namespaced_secret("pg-admin", ns, {"stringData": {"dsn": PG_ADMIN_URL}})
    wait_until(lambda: infra_ready(kube_admin, ns, name))
