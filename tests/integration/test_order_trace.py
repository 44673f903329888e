"""One order, followed by its correlation ID and trace across every service it touches.

A buyer signs up, logs in and orders under one ``X-Request-ID``; auth, orders, catalog,
payments and notifications each log lines carrying that ID (every one with a trace and span
id), the order's lines share one trace id, a concurrent order's lines never appear under it,
and each saga service exports spans of that trace over OTLP (consumer spans joined to their
producers through the streams) naming the order and user by id, never by email or secret.
"""

import uuid

import httpx

from souk_common.testing import eventually
from tests.support.observe import lines_with
from tests.support.otlp_receiver import OtlpReceiver
from tests.support.shop import ShopClient
from tests.support.stack import isolated_stack

SAGA_SERVICES = ("orders", "catalog", "payments", "notifications")


async def test_one_order_is_one_correlation_id_and_one_trace(tmp_path):
    correlation_id = f"order-{uuid.uuid4().hex[:8]}"
    with OtlpReceiver() as receiver:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
        async with isolated_stack(tmp_path, env) as stack, httpx.AsyncClient(timeout=10) as http:
            shop = ShopClient({name: stack.service_url(name) for name in stack.services}, http)
            seller = await shop.login("seller@souk.test")
            product = await shop.create_product(seller, stock=3, price="7.00")
            # The buyer signs up and logs in under the same ID: auth's lines belong to it too.
            email = f"trace-{uuid.uuid4().hex[:8]}@example.com"
            password = f"trace passphrase {uuid.uuid4().hex[:6]}"
            journey = {"X-Request-ID": correlation_id}
            registered = await http.post(
                shop.url("auth", "/api/auth/register"),
                json={"email": email, "password": password, "display_name": "T", "role": "buyer"},
                headers=journey,
            )
            assert registered.status_code == 201, registered.text
            login = await http.post(
                shop.url("auth", "/api/auth/login"),
                json={"email": email, "password": password},
                headers=journey,
            )
            token = login.json()["access_token"]
            buyer = {"headers": {"Authorization": f"Bearer {token}", **journey}}
            # Another buyer's order at the same time, under its own ID.
            other = await shop.login("buyer@souk.test")
            other_response = await shop.place_order(other, [(product["id"], 1)])
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
            assert lines_with(stack, "auth", correlation_id)
            # The order's lines in every saga service share one trace (placement to notice).
            trace_ids = {line["trace_id"] for line in found["orders"]}
            assert len(trace_ids) == 1, trace_ids
            (trace_id,) = trace_ids

            # Notifications also logged the welcome (the sign-up's trace) under this ID, so
            # wait for each service's line of the order's own trace, not just any line.
            async def every_service_in_the_trace():
                found.update(
                    {name: lines_with(stack, name, correlation_id) for name in SAGA_SERVICES}
                )
                return all(
                    any(line["trace_id"] == trace_id for line in lines) for lines in found.values()
                )

            assert await eventually(every_service_in_the_trace), {
                name: {line["trace_id"] for line in lines} for name, lines in found.items()
            }
            events = {line["event"] for lines in found.values() for line in lines}
            assert "notification_created" in events
            # Every line of a request or handler carries the trace and span it was logged in.
            for name in (*SAGA_SERVICES, "auth"):
                for line in lines_with(stack, name, correlation_id):
                    assert line["trace_id"], (name, line)
                    assert line["span_id"], (name, line)
            # The correlation ID selects this journey's lines and nothing else.
            other_id = other_response.json()["id"]
            for name in (*SAGA_SERVICES, "auth"):
                for line in lines_with(stack, name, correlation_id):
                    assert other_id not in str(line), (name, line)
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

            # Spans name the order, product and user by id, and never an email or a secret.
            async def annotated_by_service():
                spans = [s for s in receiver.spans if s.trace_id == trace_id]
                named = {s.service for s in spans if s.attributes.get("souk.order_id") == order_id}
                return named if named >= set(SAGA_SERVICES) else None

            assert await eventually(annotated_by_service), {
                (s.service, s.name)
                for s in receiver.spans
                if s.trace_id == trace_id and "souk.order_id" in s.attributes
            }
            user_spans = [s for s in receiver.spans if s.attributes.get("souk.user_id")]
            assert {"auth", "orders"} <= {s.service for s in user_spans}
            for span in receiver.spans:
                for value in span.attributes.values():
                    assert email not in value, span
                    assert password not in value, span
                    assert token not in value, span

            # Spans arrive in batches: wait until every consumer span's parent has arrived too.
            joined = await eventually(consumers_joined_to_producers)
            assert joined, [
                (s.service, s.name, s.parent_span_id)
                for s in receiver.spans
                if s.trace_id == trace_id and s.kind == 5
            ]
