"""Taking it all down: deleting the Marketplace (deletionPolicy Delete) drops the databases,
roles and streams; helm uninstall removes both releases; `souk-cluster down` leaves no
process, mount, cgroup or namespace behind.

The Managed PostgreSQL and Redis go with the Marketplace they belong to, claims included, so the
check revives their retained volumes in a throw-away pod each and looks inside.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from souk_devstack.cluster import node
from souk_devstack.cluster.layout import SHOP_SERVICES, NodeLayout
from souk_devstack.cluster.shop import helm
from tests.cluster.conftest import Cluster

INSPECT_POSTGRES = "inspect-postgres"
INSPECT_REDIS = "inspect-redis"


def _inspector(name: str, image: str, claim: str, mount: str, container: dict) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {
                "securityContext": {"runAsUser": 999, "runAsGroup": 999, "fsGroup": 999},
                "containers": [
                    {
                        "name": name.split("-")[1],
                        "image": image,
                        "imagePullPolicy": "Never",
                        "volumeMounts": [{"name": "data", "mountPath": mount}],
                        **container,
                    }
                ],
                "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}],
            },
        }
    )


def _wait(what: str, check, timeout: float = 600) -> None:
    began = time.monotonic()
    while True:
        try:
            if check():
                return
        except Exception:  # noqa: S110 - not there yet
            pass
        if time.monotonic() - began > timeout:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(1)


def _claim(name: str, volume: str) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": name},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "",
                "volumeName": volume,
                "resources": {"requests": {"storage": "1Gi"}},
            },
        }
    )


def _revive(cluster: Cluster, volume: str, claim: str) -> None:
    """Make a Released (retained) volume bindable again and claim it, as an admin would."""
    cluster.kubectl("patch", "pv", volume, "--type=json",
                    "-p", '[{"op": "remove", "path": "/spec/claimRef"}]')  # fmt: skip
    cluster.shop("apply", "-f", "-", stdin=_claim(claim, volume))


def test_deleting_the_marketplace_drops_databases_roles_and_streams(cluster: Cluster):
    volumes = {
        c["metadata"]["name"]: c["spec"]["volumeName"] for c in cluster.json("get", "pvc")["items"]
    }
    postgres_volume = volumes["data-shop-postgres-0"]
    redis_volume = volumes["data-shop-redis-server-0"]
    # Stop the services first: a running consumer recreates its group (and with it the stream)
    # on NOGROUP, so streams dropped under running services come back (seen on this node).
    cluster.shop("scale", "deployment", "--all", "--replicas=0")
    services = tuple(f"pod/shop-{name}-" for name in SHOP_SERVICES)

    def services_running() -> list[str]:
        pods = cluster.shop("get", "pods", "-o", "name").split()
        return [p for p in pods if p.startswith(services) and "-seed-" not in p]

    _wait("the services to stop", lambda: not services_running())
    cluster.shop("delete", "marketplace", "shop", "--timeout=600s")
    _wait("the managed servers to go", lambda: not cluster.json("get", "statefulsets")["items"])
    # deletionPolicy Delete: the operator deleted the claims too; the volumes are retained.
    _wait("the claims to go", lambda: not cluster.json("get", "pvc")["items"])
    _wait("the volumes to be released", lambda: all(
        cluster.kubectl("get", "pv", v, "-o", "jsonpath={.status.phase}") == "Released"
        for v in (postgres_volume, redis_volume)))  # fmt: skip
    _revive(cluster, postgres_volume, "inspect-postgres-data")
    _revive(cluster, redis_volume, "inspect-redis-data")
    data = "/var/lib/postgresql/data"
    cluster.shop("apply", "-f", "-", stdin=_inspector(
        INSPECT_POSTGRES, "souk-postgres:local", "inspect-postgres-data", data,
        {"env": [{"name": "POSTGRES_PASSWORD", "value": "inspect-only"},
                 {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"}]}))  # fmt: skip
    cluster.shop("apply", "-f", "-", stdin=_inspector(
        INSPECT_REDIS, "souk-redis:local", "inspect-redis-data", "/data",
        {"args": ["--appendonly", "yes", "--dir", "/data"]}))  # fmt: skip
    try:
        _wait("the inspection pods", lambda: cluster.psql("postgres", "SELECT 1", INSPECT_POSTGRES)
              and "PONG" in cluster.redis("ping", pod=INSPECT_REDIS))  # fmt: skip
        databases = {r[0] for r in cluster.psql(
            "postgres", "SELECT datname FROM pg_database", INSPECT_POSTGRES)}  # fmt: skip
        roles = {r[0] for r in cluster.psql("postgres", "SELECT rolname FROM pg_roles",
                                            INSPECT_POSTGRES)}  # fmt: skip
        assert "postgres" in databases  # the revived server is the shop's, with its data
        left = {f"shop_{s}" for s in SHOP_SERVICES}
        assert not left & databases, f"databases kept: {sorted(left & databases)}"
        assert not left & roles, f"roles kept: {sorted(left & roles)}"
        keys = cluster.redis("--scan", "--pattern", "shop:*", pod=INSPECT_REDIS).split()
        assert keys == [], f"keys kept: {keys[:10]}"
    finally:
        cluster.shop("delete", "pod", INSPECT_POSTGRES, INSPECT_REDIS, "--wait=true")
        cluster.shop("delete", "pvc", "inspect-postgres-data", "inspect-redis-data")


def test_helm_uninstall_removes_both_releases(cluster: Cluster, layout: NodeLayout):
    helm(layout, "uninstall", "shop", "--namespace", "shop", "--wait", "--timeout", "5m")
    helm(layout, "uninstall", "souk-operator", "--namespace", "souk-system", "--wait",
         "--timeout", "5m")  # fmt: skip
    _wait("the shop's pods to go", lambda: not cluster.json("get", "pods")["items"])
    operator_pods = ("-n", "souk-system", "get", "pods", "-o", "name")
    _wait("the operator's pods to go", lambda: not cluster.kubectl(*operator_pods))


def test_cluster_down_leaves_nothing_behind(layout: NodeLayout):
    result = subprocess.run(
        [sys.executable, "-m", "souk_devstack.cluster", "down"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert node.leftovers(layout) == []
