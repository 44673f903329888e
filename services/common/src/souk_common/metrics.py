"""Prometheus metrics shared by every service, defined once, and the HTTP metrics middleware.

Metric names are contracts (dashboards and alerts use them), so each is defined in exactly one
module: the HTTP and event-layer ones here, business ones in the owning service's
``metrics.py``. The HTTP histogram is labelled by the route *template* (``/api/orders/{id}``),
never the raw path, so cardinality stays bounded. Business counters are incremented once
their transaction commits, through :func:`souk_common.db.on_commit`.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.types import Message, Receive, Scope, Send

from souk_common.asgi import HttpMiddleware

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_SERVER_REQUEST_DURATION = Histogram(
    "http_server_request_duration_seconds",
    "Duration of HTTP server requests (OpenTelemetry semantic convention name).",
    ["method", "route", "status_code"],
    buckets=LATENCY_BUCKETS,
)
STREAM_EVENTS = Counter(
    "souk_stream_events",
    "Stream entries handled by a consumer group, by outcome (ok, duplicate, error, dead_letter).",
    ["stream", "group", "outcome"],
)
STREAM_HANDLER_DURATION = Histogram(
    "souk_stream_handler_duration_seconds",
    "Time to handle one stream entry including its database transaction.",
    ["stream", "group"],
    buckets=LATENCY_BUCKETS,
)
STREAM_PENDING = Gauge(
    "souk_stream_pending",
    "Entries delivered to the group but not yet acknowledged.",
    ["stream", "group"],
)
STREAM_LAG = Gauge(
    "souk_stream_lag",
    "Entries in the stream not yet delivered to the group.",
    ["stream", "group"],
)
STREAM_DEAD_LETTERS = Counter(
    "souk_stream_dead_letters",
    "Entries moved to the group's dead-letter stream.",
    ["stream", "group"],
)
OUTBOX_UNPUBLISHED = Gauge(
    "souk_outbox_unpublished",
    "Outbox rows committed but not yet published to the stream.",
    ["service"],
)
OUTBOX_PUBLISHED = Counter(
    "souk_outbox_published",
    "Outbox rows published to the service's stream.",
    ["service"],
)
UNMATCHED_ROUTE = "unmatched"
_NOT_TIMED = frozenset({"/metrics", "/healthz", "/readyz"})


class HttpMetricsMiddleware(HttpMiddleware):
    """Pure ASGI middleware recording ``http_server_request_duration_seconds``."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time one HTTP request and label it by route template."""
        started = time.perf_counter()
        status = 500

        async def send_and_record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED_ROUTE
            if template not in _NOT_TIMED:
                HTTP_SERVER_REQUEST_DURATION.labels(scope["method"], template, str(status)).observe(
                    time.perf_counter() - started
                )


def metrics_router() -> APIRouter:
    """Return a router serving ``/metrics`` in the Prometheus text format."""
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
