"""A log line never carries a password, a token, a card token or a card number.

A deliberately careless route logs the whole request (body and headers) through Souk's real
logging and correlation middleware; the emitted JSON lines must keep the request's shape and
its correlation, trace and span ids while every secret in it is replaced.
"""

import io
import json
from urllib.parse import quote

import httpx
from fastapi import FastAPI, Request
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from souk_common.correlation import CorrelationIdMiddleware
from souk_common.logging import REDACTED, configure_logging, get_logger

PASSWORD = "correct horse battery staple 42"
ACCESS = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlLWJ5dGVz"
REFRESH = "rt_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
CARD_TOKEN = "pm_card_visa"
CARD_NUMBER = "4242 4242 4242 4242"
URL_PASSWORD = quote(PASSWORD, safe="")
SECRETS = (PASSWORD, URL_PASSWORD, ACCESS, REFRESH, CARD_TOKEN, CARD_NUMBER, "4242424242424242")


def careless_app() -> FastAPI:
    app = FastAPI()
    log = get_logger("careless")
    tracer = trace.get_tracer("careless", tracer_provider=TracerProvider())

    @app.post("/api/careless")
    async def careless(request: Request) -> dict[str, str]:
        with tracer.start_as_current_span("careless"):
            body = await request.json()
            log.info("request_logged", body=body, headers=dict(request.headers))
            log.info("request_summary", summary=f"paid {body['note']} with {CARD_TOKEN}")
            log.warning("database_url", url=f"postgresql://souk:{URL_PASSWORD}@db/souk")
        return {"ok": "yes"}

    app.add_middleware(CorrelationIdMiddleware)
    return app


async def test_a_deliberately_logged_request_leaks_no_secret():
    stream = io.StringIO()
    configure_logging("careless", "INFO", "json", stream=stream)
    transport = httpx.ASGITransport(app=careless_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post(
            "/api/careless",
            json={
                "email": "ada@example.com",
                "password": PASSWORD,
                "refresh_token": REFRESH,
                "payment_method": CARD_TOKEN,
                "card": {"number": CARD_NUMBER, "cvc": "123"},
                "note": f"card {CARD_NUMBER.replace(' ', '')}",
            },
            headers={
                "Authorization": f"Bearer {ACCESS}",
                "Cookie": f"souk_access={ACCESS}",
                "X-Request-ID": "careless-1",
            },
        )
    assert response.status_code == 200
    text = stream.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    logged = [line for line in lines if line["event"] == "request_logged"]
    assert len(logged) == 1
    (line,) = logged
    assert line["correlation_id"] == "careless-1"
    assert line["trace_id"]
    assert line["span_id"]
    assert line["body"]["password"] == REDACTED
    assert line["body"]["email"] == "ada@example.com"  # not a secret, but never on a span
    assert line["headers"]["authorization"] == REDACTED
    for secret in SECRETS:
        assert secret not in text, secret


def test_redaction_keeps_what_is_not_secret():
    from souk_common.logging import redact

    kept = {"entry_id": "1732221234567-0", "at": "2026-11-21T20:35:19.123456Z", "count": "12"}
    assert redact(kept) == kept
    assert redact({"note": f"paid {CARD_NUMBER} via {CARD_TOKEN}"}) == {
        "note": f"paid {REDACTED} via {REDACTED}"
    }
