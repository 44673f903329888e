"""Auth and notifications as real processes: one correlation ID and one trace across both.

The local stack starts each service with its own database, role and stream prefix; a user
registers with an ``X-Request-ID``; the welcome notification appears; the ID is in auth's log
line, in the ``user.registered`` stream entry and in notifications' log line for handling it,
and the spans the two processes export over OTLP share one trace id.
"""

import asyncio
import json
import uuid

import httpx
from redis.asyncio import Redis

from souk_common.events import stream_key
from souk_common.testing import eventually
from tests.support.observe import log_lines
from tests.support.otlp_receiver import OtlpReceiver
from tests.support.stack import isolated_stack


async def test_registration_is_followed_across_services(tmp_path, redis_client: Redis):
    correlation_id = f"journey-{uuid.uuid4().hex[:8]}"
    email = f"ada-{uuid.uuid4().hex[:6]}@example.com"
    with OtlpReceiver() as receiver:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
        async with isolated_stack(tmp_path, env) as stack, httpx.AsyncClient(timeout=10) as http:
            auth, notifications = stack.service_url("auth"), stack.service_url("notifications")
            response = await http.post(
                f"{auth}/api/auth/register",
                headers={"X-Request-ID": correlation_id},
                json={
                    "email": email,
                    "password": "a long passphrase 42",
                    "display_name": "Ada",
                    "role": "buyer",
                },
            )
            assert response.status_code == 201, response.text
            assert response.headers["x-request-id"] == correlation_id
            user_id = response.json()["id"]
            login = await http.post(
                f"{auth}/api/auth/login", json={"email": email, "password": "a long passphrase 42"}
            )
            token = login.json()["access_token"]

            async def welcome():
                body = (
                    await http.get(
                        f"{notifications}/api/notifications",
                        headers={"Authorization": f"Bearer {token}"},
                    )
                ).json()
                return body["items"]

            items = await eventually(welcome)
            assert [item["kind"] for item in items] == ["welcome"]

            # The stream entry carries the correlation ID (CloudEvents extension).
            entries = await redis_client.xrange(stream_key(stack.config.stream_prefix, "auth"))
            events = [{k.decode(): v.decode() for k, v in fields.items()} for _, fields in entries]
            registered = [
                e
                for e in events
                if e["type"] == "user.registered" and json.loads(e["data"])["user_id"] == user_id
            ]
            assert len(registered) == 1
            assert registered[0]["correlationid"] == correlation_id
            assert registered[0]["traceparent"].startswith("00-")

            # Both services' log lines carry it, with one trace id.
            auth_lines = [
                line
                for line in log_lines(stack, "auth")
                if line.get("correlation_id") == correlation_id
            ]
            note_lines = await eventually(
                lambda: asyncio.sleep(
                    0,
                    [
                        line
                        for line in log_lines(stack, "notifications")
                        if line.get("correlation_id") == correlation_id
                    ],
                )
            )
            assert auth_lines, "auth logged nothing with the correlation ID"
            assert any(line["event"] == "notification_created" for line in note_lines)
            trace_id = registered[0]["traceparent"].split("-")[1]
            assert {line["trace_id"] for line in auth_lines} == {trace_id}
            assert {line["trace_id"] for line in note_lines} == {trace_id}
            for line in auth_lines + note_lines:
                assert "a long passphrase 42" not in json.dumps(line)

            async def both_services_exported():
                services = {s.service for s in receiver.spans if s.trace_id == trace_id}
                return {"auth", "notifications"} <= services

            assert await eventually(both_services_exported), {
                (s.service, s.name, s.trace_id) for s in receiver.spans
            }
            consumer_spans = [
                s
                for s in receiver.spans
                if s.trace_id == trace_id and s.service == "notifications" and s.kind == 5
            ]  # SPAN_KIND_CONSUMER
            assert consumer_spans, "notifications exported no consumer span in the trace"
            producer_ids = {s.span_id for s in receiver.spans if s.service == "auth"}
            assert consumer_spans[0].parent_span_id in producer_ids
            # Database statements of both services are spans of the same trace.
            for service in ("auth", "notifications"):
                assert any(
                    s.service == service and any(key.startswith("db.") for key in s.attributes)
                    for s in receiver.spans
                    if s.trace_id == trace_id
                ), f"{service} exported no database span in the trace"
