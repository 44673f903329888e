"""Log lines are JSON with service, correlation and trace IDs, and never carry secrets."""

import io
import json
import logging

import pytest
from opentelemetry.sdk.trace import TracerProvider

from souk_common.correlation import correlation_scope
from souk_common.logging import configure_logging, get_logger, redact


@pytest.fixture
def json_lines():
    stream = io.StringIO()
    configure_logging("testsvc", "INFO", "json", stream=stream)

    def read() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line]

    yield read
    logging.getLogger().handlers = []


def test_every_line_has_the_standard_fields(json_lines):
    tracer = TracerProvider().get_tracer("test")
    with correlation_scope("corr-123"), tracer.start_as_current_span("work") as span:
        get_logger("t").info("something_happened", order_id="o1")
    (line,) = json_lines()
    assert line["event"] == "something_happened"
    assert line["service"] == "testsvc"
    assert line["level"] == "info"
    assert line["correlation_id"] == "corr-123"
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert line["span_id"] == format(span.get_span_context().span_id, "016x")
    assert line["timestamp"].endswith("Z")
    assert line["order_id"] == "o1"


def test_secrets_are_redacted_by_key_and_in_text(json_lines):
    log = get_logger("t")
    log.info(
        "login_attempt",
        password="hunter2-hunter2",
        refresh_token="opaque-refresh-value",
        headers={"Authorization": "Bearer abc.def.ghi", "accept": "json"},
        payment_method="pm_card_visa",
        card_number="4242424242424242",
        note="sent Bearer sometoken123 to postgresql://user:pw-secret@db/x",
    )
    logging.getLogger("stdlib").warning("jwt eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl leaked")
    text = "\n".join(json.dumps(line) for line in json_lines())
    for secret in (
        "hunter2-hunter2",
        "opaque-refresh-value",
        "abc.def.ghi",
        "4242424242424242",
        "sometoken123",
        "pw-secret",
        "eyJhbGciOi.eyJzdWIiOiIx",
    ):
        assert secret not in text
    assert "[redacted]" in text
    assert '"accept": "json"' in text


def test_redact_keeps_ordinary_values():
    assert redact({"email_verified": True, "count": 3}) == {"email_verified": True, "count": 3}
