"""The shop as `make cluster-up` left it: a Ready node, READY Marketplace, pods resolving
each other by cluster DNS, and every service answering on the host."""

from __future__ import annotations

import httpx

from tests.cluster.conftest import Cluster


def test_node_is_ready_and_kubeconfig_works_from_the_host(cluster: Cluster):
    ready = "{.items[*].status.conditions[?(@.type=='Ready')].status}"
    nodes = cluster.kubectl("get", "nodes", "-o", f"jsonpath={ready}")
    assert nodes.split() == ["True"]


def test_marketplace_is_ready_and_every_deployment_available(cluster: Cluster):
    marketplace = cluster.json("get", "marketplace", "shop")
    conditions = {c["type"]: c for c in marketplace["status"]["conditions"]}
    assert conditions["Ready"]["status"] == "True", conditions
    printed = cluster.shop("get", "mkt", "shop")
    assert "True" in printed.splitlines()[1], printed  # the READY column tells the truth
    for deployment in cluster.json("get", "deployments")["items"]:
        status = deployment["status"]
        name = deployment["metadata"]["name"]
        assert status.get("availableReplicas") == deployment["spec"]["replicas"], name


def test_pods_resolve_services_by_cluster_dns(cluster: Cluster):
    pod = cluster.shop("get", "pods", "-l", "app.kubernetes.io/name=souk-orders", "-o",
                       "jsonpath={.items[0].metadata.name}")  # fmt: skip
    script = (
        "import socket\n"
        "for name in ('shop-auth', 'shop-postgres.shop.svc.cluster.local', "
        "'shop-redis-server.shop.svc', 'kubernetes.default'):\n"
        "    print(name, socket.gethostbyname(name))\n"
    )
    out = cluster.shop("exec", pod, "--", "python", "-c", script)
    assert len(out.splitlines()) == 4, out


def test_every_service_answers_on_the_host(cluster: Cluster):
    for name, url in cluster.endpoints().items():
        assert url.startswith("http://127.0.0.1:"), url
        response = httpx.get(f"{url}/healthz", timeout=10)
        assert response.status_code == 200, (name, response.text)
        ready = httpx.get(f"{url}/readyz", timeout=10)
        assert ready.status_code == 200, (name, ready.text)
