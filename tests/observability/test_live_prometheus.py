"""Dashboards against a real Prometheus scraping a real stack after a run of orders.

An isolated stack runs every service; the devstack's ``LocalPrometheus`` (Debian's binary)
scrapes them every second with the project's rules loaded. After about fifty orders (most
confirmed, some declined, some over stock, one cancelled) and a few reads on every service,
the services' logs are checked for the password, token and card tokens used, each panel
query is evaluated through ``/api/v1/query`` and must return data, and every metric
name a panel or rule uses must appear on some service's ``/metrics`` (or, for the operator,
in its metric definitions).

Exempt, on purpose: the ``souk-operator`` dashboard. No operator runs in the local stack (it
needs a Kubernetes API server and a Marketplace); its reconcile counters only get series once
a reconcile runs, so its panels have nothing to show here. Its metric names are still checked
against ``souk_operator.metrics`` (see test_dashboards.py) and its alerts by promtool tests.
"""

import asyncio

import httpx
import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis

import souk_operator.metrics  # noqa: F401  (registers the operator's metrics to read their names)
from souk_common.testing import eventually
from souk_devstack.prometheus import LocalPrometheus, PrometheusConfig, stack_targets
from tests.support.promql import (
    RULES,
    defined_names,
    names_in_use,
    panel_queries,
    recorded_names,
    sample_names_from_text,
    tool,
)
from tests.support.shop import DEMO_PASSWORD, ShopClient
from tests.support.stack import isolated_stack

pytestmark = pytest.mark.integration
EXEMPT_DASHBOARDS = {"souk-operator": "no operator runs in the local stack (see module docstring)"}


async def run_orders(shop: ShopClient, count: int = 50) -> tuple[dict[str, int], str]:
    """Place ``count`` orders with a mix of endings; return the count per status and a token."""
    seller = await shop.login("seller@souk.test")
    buyer = await shop.login("buyer@souk.test")
    plenty = await shop.create_product(seller, stock=1000, price="4.50")
    scarce = await shop.create_product(seller, stock=1, price="9.00")
    plans = []
    for index in range(count):
        if index % 10 == 3:
            plans.append(([(plenty["id"], 1)], "pm_card_declined"))
        elif index % 10 == 7:
            plans.append(([(scarce["id"], 5)], "pm_card_visa"))  # more than in stock
        else:
            plans.append(([(plenty["id"], 1 + index % 3)], "pm_card_visa"))
    responses = await asyncio.gather(
        *(shop.place_order(buyer, items, payment) for items, payment in plans)
    )
    assert all(r.status_code == 202 for r in responses), [r.text for r in responses[:3]]
    cancelled = await shop.place_order(buyer, [(plenty["id"], 1)])
    await shop.cancel(buyer, cancelled.json()["id"])
    ids = [r.json()["id"] for r in [*responses, cancelled]]
    orders = await asyncio.gather(*(shop.wait_for_status(buyer, i, within=120) for i in ids))
    statuses: dict[str, int] = {}
    for order in orders:
        statuses[order["status"]] = statuses.get(order["status"], 0) + 1
    # A read on every service, so each has request series to show.
    await shop.browse(q="coffee")
    await shop.http.get(shop.url("catalog", "/api/catalog/categories"))
    await shop.http.get(shop.url("auth", "/api/auth/me"), headers=buyer["headers"])
    await shop.payments(buyer, ids[0])
    await shop.notifications(buyer)
    await shop.register()
    return statuses, buyer["token"]


async def publish_malformed_entry(redis_url: str, prefix: str) -> None:
    """Put an entry no consumer can parse on orders' stream: catalog dead-letters it at once."""
    redis = Redis.from_url(redis_url)
    try:
        await redis.xadd(f"{prefix}orders.events", {"garbage": "not a CloudEvent"})
    finally:
        await redis.aclose()


async def query(http: httpx.AsyncClient, base: str, expr: str) -> list[object]:
    response = await http.get(f"{base}/api/v1/query", params={"query": expr})
    assert response.status_code == 200, (expr, response.text)
    body = response.json()
    assert body["status"] == "success", (expr, body)
    result: list[object] = body["data"]["result"]
    return result


async def test_every_panel_returns_data_after_a_run_of_orders(tmp_path):
    tool("prometheus")
    async with (
        isolated_stack(tmp_path) as stack,
        httpx.AsyncClient(timeout=30) as http,
    ):
        urls = {name: stack.service_url(name) for name in stack.services}
        config = PrometheusConfig(
            targets=stack_targets(urls),
            rule_files=sorted(RULES.glob("*.yml")),
            scrape_interval="1s",
            evaluation_interval="1s",
        )
        async with LocalPrometheus(config, tmp_path) as prometheus:
            shop = ShopClient(urls, http)
            statuses, token = await run_orders(shop)
            await publish_malformed_entry(stack.config.redis_url, stack.config.stream_prefix)

            async def dead_lettered() -> bool:
                text = (await http.get(f"{urls['catalog']}/metrics")).text
                return "souk_stream_dead_letters_total" in sample_names_from_text(text)

            assert await eventually(dead_lettered, within=30)
            assert {"CONFIRMED", "CANCELLED", "REJECTED"} <= set(statuses), statuses

            # No service logged the demo password, a bearer token or a card token.
            for name in stack.services:
                text = stack.services[name].process.log_path.read_text()
                for secret in (DEMO_PASSWORD, token, "pm_card_visa", "pm_card_declined"):
                    assert secret not in text, (name, secret[:12])

            # Every service is a healthy target, labelled job=<service>. A scrape's timeout is
            # its 1 s interval, so one slow scrape under load marks a target down until the
            # next: wait for a round of good scrapes rather than trusting one moment.
            async def target_health() -> dict[str, str]:
                targets = (await http.get(f"{prometheus.url}/api/v1/targets")).json()["data"]
                return {t["labels"]["job"]: t["health"] for t in targets["activeTargets"]}

            async def all_targets_up() -> bool:
                return await target_health() == dict.fromkeys(stack.services, "up")

            assert await eventually(all_targets_up, within=30), await target_health()

            # Every metric name a panel or rule uses is exported by the running services.
            exported: set[str] = set()
            for url in urls.values():
                exported |= sample_names_from_text((await http.get(f"{url}/metrics")).text)
            operator = {n for n in defined_names(REGISTRY) if n.startswith("souk_operator_")}
            known = exported | operator | recorded_names()
            unknown = {n: w for n, w in names_in_use().items() if n not in known}
            assert not unknown, unknown

            # Every panel's queries return data once a few scrapes have followed the last order
            # (a rate needs two samples of a series; under load some scrapes come late).
            async def empty_panels() -> list[tuple[str, str, str]]:
                empty = []
                for panel_query in panel_queries():
                    result = await query(http, prometheus.url, panel_query.resolved())
                    if panel_query.dashboard in EXEMPT_DASHBOARDS:
                        continue
                    if not result:
                        empty.append((panel_query.dashboard, panel_query.panel, panel_query.expr))
                return empty

            async def no_empty_panel() -> bool:
                return not await empty_panels()

            assert await eventually(no_empty_panel, within=45), await empty_panels()

            # The recording rules evaluate on the live series too (their groups run every 30s).
            async def unevaluated_rules() -> list[tuple[str, str]]:
                response = await http.get(f"{prometheus.url}/api/v1/rules")
                groups = response.json()["data"]["groups"]
                return [(r["name"], r["health"]) for g in groups for r in g["rules"]]

            async def all_rules_ok() -> bool:
                return all(health == "ok" for _, health in await unevaluated_rules())

            assert await eventually(all_rules_ok, within=90), await unevaluated_rules()

            async def recorded_jobs() -> set[str]:
                ratio = await query(http, prometheus.url, "job:http_server_error_ratio:rate5m")
                return {s["metric"]["job"] for s in ratio}  # type: ignore[index]

            async def every_job_recorded() -> bool:
                return await recorded_jobs() == set(stack.services)

            # A job whose first request came at the end of the run shows up one or two group
            # evaluations (30 s each) later: its rate needs two samples before an evaluation.
            assert await eventually(every_job_recorded, within=100), await recorded_jobs()

            # The malformed entry is a dead letter, and the alert for it fires (no "for").
            async def dead_letter_alert() -> list[object]:
                alerts = (await http.get(f"{prometheus.url}/api/v1/alerts")).json()["data"]
                return [a for a in alerts["alerts"] if a["labels"]["alertname"] == "SoukDeadLetter"]

            assert await eventually(dead_letter_alert, within=20)
