"""READY follows the Deployments, and the saga survives losing pods on a real node.

Kill tests: the orders pod while 100 orders are in flight, the operator pod in the middle of a
reconcile, and the PostgreSQL pod. Afterwards every order is terminal, stock adds up exactly
(``initial = available + reserved + sold``), nothing is captured twice, and READY is True.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import pytest

from souk_common.provisioning.plan import database_name
from souk_devstack.cluster.layout import NodeLayout
from souk_devstack.cluster.shop import marketplace_ready, wait_ready
from tests.cluster.conftest import Cluster
from tests.support.shop import TERMINAL_STATUSES, ShopClient

pytestmark = pytest.mark.timeout(1800)
async_test = pytest.mark.asyncio(loop_scope="session")

ORDERS_DB = database_name("shop", "orders")
CATALOG_DB = database_name("shop", "catalog")
PAYMENTS_DB = database_name("shop", "payments")
METHODS = ["pm_card_visa"] * 8 + ["pm_card_declined", "pm_card_retry"]
initial_stock: dict[str, int] = {}
figures: dict[str, Any] = {}


def _pod(cluster: Cluster, namespace: str, name: str) -> str:
    return cluster.kubectl("-n", namespace, "get", "pods", "-l", f"app.kubernetes.io/name={name}",
                           "-o", "jsonpath={.items[0].metadata.name}")  # fmt: skip


def _wait(what: str, check, timeout: float = 600) -> float:
    began = time.monotonic()
    while not check():
        if time.monotonic() - began > timeout:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.5)
    return time.monotonic() - began


def test_ready_turns_false_when_a_service_is_scaled_to_zero(cluster: Cluster, layout: NodeLayout):
    cluster.shop("scale", "deployment", "shop-notifications", "--replicas=0")
    try:
        figures["ready_false_after_s"] = _wait(
            "READY=False", lambda: marketplace_ready(layout) == "False", 300
        )
    finally:
        cluster.shop("scale", "deployment", "shop-notifications", "--replicas=1")
    figures["ready_true_again_after_s"] = _wait(
        "READY=True", lambda: marketplace_ready(layout) == "True", 600
    )
    print(f"READY False after {figures['ready_false_after_s']:.1f}s, "
          f"True again after {figures['ready_true_again_after_s']:.1f}s")  # fmt: skip


async def _orders_under_fire(shop: ShopClient, count: int, kill, kill_after: int) -> list[str]:
    """Place ``count`` orders (16 at a time, retried with one key each) and call ``kill``
    once ``kill_after`` of them were accepted; return the order ids."""
    seller = await shop.login("seller@souk.test")
    products = [await shop.create_product(seller, stock=25, price="4.50") for _ in range(6)]
    initial_stock.update({p["id"]: p["stock"] for p in products})
    buyers = [await shop.register("buyer") for _ in range(10)]
    gate = asyncio.Semaphore(16)
    placed: list[str] = []
    killed = asyncio.Event()

    async def one(index: int) -> None:
        buyer = buyers[index % len(buyers)]
        chosen = [products[index % len(products)], products[(index * 7 + 3) % len(products)]]
        items = list({p["id"]: (p["id"], 1 + index % 2) for p in chosen}.values())
        async with gate:
            order_id = await shop.place_order_until_accepted(
                buyer, items, METHODS[index % len(METHODS)], within=600
            )
        placed.append(order_id)
        if len(placed) >= kill_after and not killed.is_set():
            killed.set()
            await asyncio.to_thread(kill)

    await asyncio.gather(*(one(i) for i in range(count)))
    assert killed.is_set()
    return placed


def _statuses(cluster: Cluster) -> dict[str, str]:
    return dict(cluster.psql(ORDERS_DB, "SELECT id, status FROM orders"))  # type: ignore[arg-type]


def _wait_terminal(cluster: Cluster, ids: list[str], timeout: float = 600) -> dict[str, str]:
    def done() -> bool:
        try:
            status = _statuses(cluster)
        except AssertionError:
            return False
        except Exception:
            return False
        return all(status.get(i) in TERMINAL_STATUSES for i in ids)

    figures.setdefault("terminal_after_s", []).append(_wait("every order terminal", done, timeout))
    return _statuses(cluster)


@async_test
async def test_orders_pod_deleted_with_100_orders_in_flight(cluster: Cluster, shop: ShopClient):
    pod = _pod(cluster, "shop", "souk-orders")

    def kill() -> None:
        cluster.shop("delete", "pod", pod, "--wait=false")

    began = time.monotonic()
    ids = await _orders_under_fire(shop, 100, kill, kill_after=20)
    assert len(set(ids)) == 100
    status = await asyncio.to_thread(_wait_terminal, cluster, ids)
    figures["orders_kill_s"] = time.monotonic() - began
    outcome = Counter(status[i] for i in ids)
    print(f"orders pod killed mid-flight: {dict(outcome)} in {figures['orders_kill_s']:.1f}s")
    assert outcome["CONFIRMED"] > 0, outcome


def test_operator_pod_deleted_in_the_middle_of_a_reconcile(cluster: Cluster, layout: NodeLayout):
    old = _pod(cluster, "souk-system", "souk-operator")
    generation = int(cluster.json("get", "marketplace", "shop")["metadata"]["generation"])
    cluster.shop("patch", "marketplace", "shop", "--type=merge",
                 "-p", '{"spec":{"streams":{"maxDeliveries":6}}}')  # fmt: skip
    # No grace: the operator gets no chance to finish the reconcile it just started.
    cluster.kubectl("-n", "souk-system", "delete", "pod", old, "--grace-period=1", "--wait=false")
    names = ("-n", "souk-system", "get", "pods", "-l", "app.kubernetes.io/name=souk-operator",
             "-o", "jsonpath={.items[*].metadata.name}")  # fmt: skip
    _wait("a new operator pod", lambda: set(cluster.kubectl(*names).split()) - {old}, 300)

    def converged() -> bool:
        body = cluster.json("get", "marketplace", "shop")
        status = body.get("status", {})
        ready = {c["type"]: c for c in status.get("conditions", [])}.get("Ready", {})
        return (
            int(status.get("observedGeneration") or 0) > generation
            and ready.get("status") == "True"
        )

    figures["operator_kill_converged_s"] = _wait("the new operator to reconcile", converged, 600)
    cluster.shop("patch", "marketplace", "shop", "--type=merge",
                 "-p", '{"spec":{"streams":{"maxDeliveries":5}}}')  # fmt: skip
    wait_ready(layout)


@async_test
async def test_postgres_pod_deleted_while_orders_flow(
    cluster: Cluster, shop: ShopClient, layout: NodeLayout
):
    def kill() -> None:
        cluster.shop("delete", "pod", "shop-postgres-0", "--wait=false")

    began = time.monotonic()
    ids = await _orders_under_fire(shop, 40, kill, kill_after=10)
    await asyncio.to_thread(_wait_terminal, cluster, ids)
    figures["postgres_kill_s"] = time.monotonic() - began
    await asyncio.to_thread(wait_ready, layout)
    print(f"postgres pod killed mid-flight: all terminal after {figures['postgres_kill_s']:.1f}s")


def test_after_the_kills_every_order_is_terminal_stock_adds_up_and_nothing_captured_twice(
    cluster: Cluster, layout: NodeLayout
):
    assert initial_stock, "the kill tests did not run"
    status = _statuses(cluster)
    stuck = {i: s for i, s in status.items() if s not in TERMINAL_STATUSES}
    assert not stuck, stuck
    product_ids = "', '".join(initial_stock)
    in_ids = f"IN ('{product_ids}')"
    stock = dict(cluster.psql(CATALOG_DB, f"SELECT id, stock FROM products WHERE id {in_ids}"))
    held: Counter[tuple[str, str]] = Counter()
    for product_id, state, units in cluster.psql(
        CATALOG_DB,
        "SELECT product_id, status, SUM(quantity) FROM reservations "
        f"WHERE product_id IN ('{product_ids}') GROUP BY product_id, status",
    ):
        held[(product_id, state)] = int(units)
    for product_id, units in initial_stock.items():
        available = int(stock[product_id])
        reserved, sold = held[(product_id, "reserved")], held[(product_id, "sold")]
        assert available >= 0
        assert reserved == 0, f"{product_id} still holds {reserved} reserved"
        assert units == available + reserved + sold, (product_id, units, available, sold)
    double = cluster.psql(
        PAYMENTS_DB,
        "SELECT order_id, count(*) FROM ledger_entries "
        "WHERE kind = 'capture' GROUP BY order_id HAVING count(*) <> 2",
    )
    assert not double, f"captures not exactly one balanced posting: {double}"
    captures = "SELECT DISTINCT order_id FROM ledger_entries WHERE kind = 'capture'"
    captured = {row[0] for row in cluster.psql(PAYMENTS_DB, captures)}
    confirmed = {i for i, s in status.items() if s == "CONFIRMED"}
    assert confirmed <= captured, confirmed - captured
    for group in ("catalog", "orders", "payments", "notifications"):
        depth = cluster.redis("xlen", f"shop:dlq.{group}").strip()
        assert depth in ("0", "(integer) 0"), f"{depth} dead letters in shop:dlq.{group}"
    assert marketplace_ready(layout) == "True"
    print(f"kill test figures: {figures}")
