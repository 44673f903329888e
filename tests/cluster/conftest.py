"""The real-node tier: the shop installed by ``make cluster-up`` on a real Kubernetes node.

These tests talk to that node from the host, as a user would: kubectl and helm with
``.souk/cluster/kubeconfig``, the services through ``.souk/cluster/endpoints.json``. Without a
node they skip with the command to run, or fail when ``SOUK_CLUSTER_REQUIRED=1`` (CI).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from souk_devstack.cluster.layout import NodeLayout
from souk_devstack.cluster.node import kubectl as node_kubectl
from tests.support.shop import ShopClient

SHOP_NAMESPACE = "shop"
POSTGRES_POD = "shop-postgres-0"
REDIS_POD = "shop-redis-server-0"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this folder ``cluster``."""
    for item in items:
        if "tests/cluster/" in str(item.fspath):
            item.add_marker(pytest.mark.cluster)


@pytest.fixture(scope="session")
def layout() -> NodeLayout:
    """The node's layout; skips (or fails in CI) when no shop runs on a node."""
    layout = NodeLayout.from_environment()
    if not layout.endpoints_file.is_file() or not layout.host_kubeconfig.is_file():
        message = "no shop on a real node: run `make cluster-up` (or `make cluster-e2e`)"
        if os.environ.get("SOUK_CLUSTER_REQUIRED") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return layout


class Cluster:
    """kubectl, psql and redis-cli against the node, from the host."""

    def __init__(self, layout: NodeLayout) -> None:
        self.layout = layout

    def kubectl(self, *args: str, stdin: str | None = None) -> str:
        """Run kubectl with the node's kubeconfig; return stdout."""
        return node_kubectl(self.layout, *args, stdin=stdin)

    def shop(self, *args: str, stdin: str | None = None) -> str:
        """Run kubectl in the shop's namespace."""
        return self.kubectl("-n", SHOP_NAMESPACE, *args, stdin=stdin)

    def json(self, *args: str) -> Any:
        """Run kubectl with ``-o json`` in the shop's namespace; return the parsed output."""
        return json.loads(self.shop(*args, "-o", "json"))

    def psql(self, database: str, sql: str, pod: str = POSTGRES_POD) -> list[list[str]]:
        """Run SQL in the managed PostgreSQL pod (local socket); return rows of strings."""
        out = self.shop("exec", pod, "-c", "postgres", "--", "psql", "-U", "postgres",
                        "-d", database, "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                        "-c", sql)  # fmt: skip
        return [line.split("\t") for line in out.splitlines() if line]

    def redis(self, *args: str, pod: str = REDIS_POD) -> str:
        """Run redis-cli in the managed Redis pod; return its output."""
        return self.shop("exec", pod, "-c", "redis", "--", "redis-cli", *args)

    def endpoints(self) -> dict[str, str]:
        """Each service's base URL on the host."""
        result: dict[str, str] = json.loads(self.layout.endpoints_file.read_text())
        return result


@pytest.fixture(scope="session")
def cluster(layout: NodeLayout) -> Cluster:
    """The node, as the host sees it."""
    return Cluster(layout)


@pytest_asyncio.fixture(loop_scope="session")
async def shop(cluster: Cluster) -> AsyncIterator[ShopClient]:
    """The shop's HTTP API through the node's host ports."""
    async with httpx.AsyncClient(timeout=20) as http:
        yield ShopClient(cluster.endpoints(), http)
