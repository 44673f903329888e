"""OpenTelemetry tracing configured from the standard ``OTEL_*`` environment variables.

The SDK reads ``OTEL_SERVICE_NAME``, ``OTEL_TRACES_SAMPLER``, ``OTEL_RESOURCE_ATTRIBUTES``
and the exporter reads ``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``
itself; spans are exported over OTLP/HTTP only when an endpoint is set. FastAPI (per app),
SQLAlchemy, redis and httpx are instrumented.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.context import attach, detach
from opentelemetry.propagate import extract
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanContext, SpanKind
from sqlalchemy.ext.asyncio import AsyncEngine

from souk_common.correlation import get_correlation_id

_configured = False
_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def configure_tracing(
    service_name: str, extra_processors: tuple[SpanProcessor, ...] = ()
) -> TracerProvider | None:
    """Install the process's tracer provider (once) and instrument redis and httpx."""
    global _configured
    if _configured:
        return None
    _configured = True
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    resource = Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME", service_name)})
    provider = TracerProvider(resource=resource)
    if any(os.environ.get(name) for name in _ENDPOINT_VARIABLES):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    for processor in extra_processors:
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    RedisInstrumentor().instrument()
    HTTPXClientInstrumentor().instrument()
    return provider


def instrument_app(app: FastAPI) -> None:
    """Instrument one FastAPI app (server spans named by route template)."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # No internal "http send"/"http receive" spans: two or three more spans per request, at a
    # measurable CPU cost, that say nothing the server span does not.
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls="healthz,readyz,metrics", exclude_spans=["receive", "send"]
    )


def instrument_engines(*engines: AsyncEngine) -> None:
    """Instrument a process's SQLAlchemy engines (a span per statement), in one call.

    The instrumentor is a singleton that ignores (with a warning) a second ``instrument``
    call, so every engine of the process must be passed at once.
    """
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    SQLAlchemyInstrumentor().instrument(engines=[engine.sync_engine for engine in engines])


# Business ids a span may name (``souk.<name>``). Ids only: never emails, names or card data.
SPAN_IDS = frozenset({"order_id", "product_id", "user_id", "payment_id", "notification_id"})


def annotate(**ids: object) -> None:
    """Name business ids on the current span as ``souk.<name>`` (plus the correlation ID).

    Only the keys of :data:`SPAN_IDS` are accepted, so a call cannot put an email or a card
    token on a span by mistake. A sequence (an order's products) becomes a list attribute.
    """
    span = trace.get_current_span()
    if not span.is_recording():
        return
    unknown = set(ids) - SPAN_IDS
    if unknown:
        raise ValueError(f"not a span id attribute: {', '.join(sorted(unknown))}")
    correlation_id = get_correlation_id()
    if correlation_id:
        span.set_attribute("souk.correlation_id", correlation_id)
    for name, value in ids.items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set | frozenset):
            span.set_attribute(f"souk.{name}", sorted(str(v) for v in value))
        else:
            span.set_attribute(f"souk.{name}", str(value))


def get_tracer(name: str) -> trace.Tracer:
    """Return a tracer for instrumentation scope ``name``."""
    return trace.get_tracer(name)


def span_context_of(carrier: Mapping[str, str]) -> SpanContext:
    """Return the producer's span context propagated in ``carrier`` (invalid when none)."""
    return trace.get_current_span(extract(dict(carrier))).get_span_context()


@contextmanager
def consumer_span(
    tracer: trace.Tracer, name: str, carrier: Mapping[str, str], attributes: dict[str, Any]
) -> Iterator[Span]:
    """Start a CONSUMER span as the child of the producer context found in ``carrier``."""
    token = attach(extract(dict(carrier)))
    try:
        with tracer.start_as_current_span(name, kind=SpanKind.CONSUMER, attributes=attributes) as s:
            yield s
    finally:
        detach(token)
