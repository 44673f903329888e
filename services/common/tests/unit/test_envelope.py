"""The CloudEvents envelope: round trip through stream fields and rejection of bad entries."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider

from souk_common.correlation import correlation_scope
from souk_common.events import CloudEvent, MalformedEventError


def valid_fields() -> dict[str, str]:
    return CloudEvent(type="order.placed", source="orders", data={"order_id": "o-1"}).to_fields()


def test_round_trip_through_stream_fields_keeps_every_attribute():
    event = CloudEvent(
        type="order.placed",
        source="orders",
        data={"order_id": "o-1", "total": {"amount": "12.50", "currency": "EUR"}, "lines": [1]},
        correlationid="req-1",
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        tracestate="vendor=1",
    )

    fields = event.to_fields()

    assert fields["specversion"] == "1.0"
    assert fields["datacontenttype"] == "application/json"
    assert CloudEvent.from_fields(fields) == event


def test_bytes_fields_as_redis_returns_them_are_parsed():
    event = CloudEvent(type="order.placed", source="orders", data={"n": 1}, correlationid="c")
    raw = {k.encode(): v.encode() for k, v in event.to_fields().items()}

    assert CloudEvent.from_fields(raw) == event


def test_absent_extensions_are_left_out_of_the_fields():
    fields = CloudEvent(type="t", source="s", data={}).to_fields()

    assert not {"correlationid", "traceparent", "tracestate"} & fields.keys()
    assert CloudEvent(type="t", source="s", data={}).trace_carrier() == {}


def test_time_is_rfc3339_utc_and_ids_are_unique():
    first = CloudEvent(type="t", source="s", data={})
    second = CloudEvent(type="t", source="s", data={})

    assert first.time.endswith("Z")
    assert first.id != second.id


def test_create_carries_the_current_correlation_id_and_trace_context():
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("request") as span, correlation_scope("req-9"):
        event = CloudEvent.create("order.placed", "orders", {"n": 1})

    trace_id = format(span.get_span_context().trace_id, "032x")
    assert event.correlationid == "req-9"
    assert event.traceparent is not None
    assert event.traceparent.split("-")[1] == trace_id
    assert event.trace_carrier() == {"traceparent": event.traceparent}


def test_create_outside_a_request_has_no_correlation_or_trace():
    event = CloudEvent.create("order.placed", "orders", {"n": 1})

    assert event.correlationid is None
    assert event.traceparent is None


@pytest.mark.parametrize("missing", ["specversion", "id", "source", "type", "data"])
def test_missing_required_attribute_is_malformed(missing):
    fields = valid_fields()
    del fields[missing]

    with pytest.raises(MalformedEventError, match=missing):
        CloudEvent.from_fields(fields)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("specversion", "0.3", "unsupported specversion"),
        ("data", "{not json", "data is not JSON"),
        ("data", "[1, 2]", "must be a JSON object"),
        ("data", '"text"', "must be a JSON object"),
    ],
)
def test_invalid_attribute_is_malformed(name, value, message):
    fields = valid_fields()
    fields[name] = value

    with pytest.raises(MalformedEventError, match=message):
        CloudEvent.from_fields(fields)


def test_malformed_event_error_is_a_value_error():
    assert issubclass(MalformedEventError, ValueError)
