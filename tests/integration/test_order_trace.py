"""One order, followed by its correlation ID and trace across every service it touches.

The order is placed with an ``X-Request-ID``; orders, catalog, payments, orders again and
notifications each log lines carrying that ID, all with one trace id, and each exports spans
of that trace over OTLP (consumer spans joined to their producers through the streams).
"""

import uuid

import httpx
import pytest

from tests.support.observe import eventually, lines_with
from tests.support.otlp_receiver import OtlpReceiver
from tests.support.shop import ShopClient
from tests.support.stack import isolated_stack

pytestmark = pytest.mark.integration
SAGA_SERVICES = ("orders", "catalog", "payments", "notifications")


async def test_one_order_is_one_correlation_id_and_one_trace(tmp_path):
    correlation_id = f"order-{uuid.uuid4().hex[:8]}"
    with OtlpReceiver() as receiver:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
        async with isolated_stack(tmp_path, env) as stack, httpx.AsyncClient(timeout=10) as http:
            shop = ShopClient({name: stack.service_url(name) for name in stack.services}, http)
            seller = await shop.login("seller@souk.test")
            product = await shop.create_product(seller, stock=3, price="7.00")
            buyer = await shop.login("buyer@souk.test")
            buyer = {**buyer, "headers": {**buyer["headers"], "X-Request-ID": correlation_id}}
            response = await shop.place_order(buyer, [(product["id"], 1)])
            assert response.status_code == 202, response.text
            assert response.headers["x-request-id"] == correlation_id
            order = await shop.wait_for_status(buyer, response.json()["id"])
            assert order["status"] == "CONFIRMED"
            order_id = order["id"]

            async def all_services_logged():
                found = {name: lines_with(stack, name, correlation_id) for name in SAGA_SERVICES}
                return found if all(found.values()) else None

            found = await eventually(all_services_logged)
            assert found, {n: len(lines_with(stack, n, correlation_id)) for n in SAGA_SERVICES}
            trace_ids = {line["trace_id"] for lines in found.values() for line in lines}
            assert len(trace_ids) == 1, trace_ids
            (trace_id,) = trace_ids
            events = {line["event"] for lines in found.values() for line in lines}
            assert "notification_created" in events
            # The correlation ID selects this order's lines and nothing else.
            for lines in found.values():
                for line in lines:
                    assert order_id in str(line) or "order_id" not in line

            async def every_service_exported():
                services = {s.service for s in receiver.spans if s.trace_id == trace_id}
                return set(SAGA_SERVICES) <= services

            assert await eventually(every_service_exported), {
                s.service for s in receiver.spans if s.trace_id == trace_id
            }

            async def consumers_joined_to_producers():
                spans = [s for s in receiver.spans if s.trace_id == trace_id]
                span_ids = {s.span_id for s in spans}
                consumers = [s for s in spans if s.kind == 5]  # SPAN_KIND_CONSUMER
                orphans = [s for s in consumers if s.parent_span_id not in span_ids]
                services = {s.service for s in consumers}
                return (
                    (services, orphans) if services >= set(SAGA_SERVICES) and not orphans else None
                )

            # Spans arrive in batches: wait until every consumer span's parent has arrived too.
            joined = await eventually(consumers_joined_to_producers)
            assert joined, [
                (s.service, s.name, s.parent_span_id)
                for s in receiver.spans
                if s.trace_id == trace_id and s.kind == 5
            ]
