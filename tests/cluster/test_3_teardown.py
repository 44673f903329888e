"""Taking it all down: deleting the Marketplace (deletionPolicy Delete) drops the databases,
roles and streams; helm uninstall removes both releases; `souk-cluster down` leaves no
process, mount, cgroup or namespace behind.

The Managed PostgreSQL and Redis go with the Marketplace they belong to, so the check revives
their volumes (the claims outlive the StatefulSets) in a throw-away pod each and looks inside.
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


def test_deleting_the_marketplace_drops_databases_roles_and_streams(cluster: Cluster):
    cluster.shop("delete", "marketplace", "shop", "--timeout=600s")
    _wait("the managed servers to go", lambda: not cluster.json("get", "statefulsets")["items"])
    claims = {c["metadata"]["name"] for c in cluster.json("get", "pvc")["items"]}
    assert {"data-shop-postgres-0", "data-shop-redis-server-0"} <= claims, claims
    cluster.shop("apply", "-f", "-", stdin=_inspector(
        INSPECT_POSTGRES, "souk-postgres:local", "data-shop-postgres-0", "/var/lib/postgresql/data",
        {"env": [{"name": "POSTGRES_PASSWORD", "value": "inspect-only"},
                 {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"}]}))  # fmt: skip
    cluster.shop("apply", "-f", "-", stdin=_inspector(
        INSPECT_REDIS, "souk-redis:local", "data-shop-redis-server-0", "/data",
        {"args": ["--appendonly", "yes", "--dir", "/data"]}))  # fmt: skip
    try:
        _wait("the inspection pods", lambda: cluster.psql("postgres", "SELECT 1", INSPECT_POSTGRES)
              and "PONG" in cluster.redis("ping", pod=INSPECT_REDIS))  # fmt: skip
        databases = {r[0] for r in cluster.psql(
            "postgres", "SELECT datname FROM pg_database", INSPECT_POSTGRES)}  # fmt: skip
        roles = {r[0] for r in cluster.psql("postgres", "SELECT rolname FROM pg_roles",
                                            INSPECT_POSTGRES)}  # fmt: skip
        left = {f"shop_{s}" for s in SHOP_SERVICES}
        assert not left & databases, f"databases kept: {sorted(left & databases)}"
        assert not left & roles, f"roles kept: {sorted(left & roles)}"
        keys = cluster.redis("--scan", "--pattern", "shop:*", pod=INSPECT_REDIS).split()
        assert keys == [], f"streams kept: {keys[:10]}"
    finally:
        cluster.shop("delete", "pod", INSPECT_POSTGRES, INSPECT_REDIS, "--wait=true")


def test_helm_uninstall_removes_both_releases(cluster: Cluster, layout: NodeLayout):
    helm(layout, "uninstall", "shop", "--namespace", "shop", "--wait", "--timeout", "5m")
    helm(layout, "uninstall", "souk-operator", "--namespace", "souk-system", "--wait",
         "--timeout", "5m")  # fmt: skip
    _wait("the shop's pods to go", lambda: not cluster.json("get", "pods")["items"])
    assert "souk-operator" not in cluster.kubectl("-n", "souk-system", "get", "pods")


def test_cluster_down_leaves_nothing_behind(layout: NodeLayout):
    result = subprocess.run(
        [sys.executable, "-m", "souk_devstack.cluster", "down"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert node.leftovers(layout) == []
