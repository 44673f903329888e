"""Correlation IDs: one ID follows a request through every log line, event and HTTP call.

The ID lives in a context variable so it reaches log lines and outgoing events without being
passed around. The ASGI middleware honours an incoming ``X-Request-ID`` (when it is sane) or
generates one, and echoes it on every response.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:  # only for annotations: importing correlation never loads the web stack
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_correlation_id: ContextVar[str | None] = ContextVar("souk_correlation_id", default=None)


def new_correlation_id() -> str:
    """Return a fresh correlation ID."""
    return uuid.uuid4().hex


def get_correlation_id() -> str | None:
    """Return the correlation ID of the current request or event, if any."""
    return _correlation_id.get()


def accept_correlation_id(candidate: str | None) -> str:
    """Return ``candidate`` when it is a well-formed ID, else a fresh one."""
    if candidate and _VALID_ID.match(candidate):
        return candidate
    return new_correlation_id()


@contextmanager
def correlation_scope(correlation_id: str | None) -> Iterator[str]:
    """Bind a correlation ID (a fresh one when ``None``) for the duration of a block."""
    value = accept_correlation_id(correlation_id)
    token = _correlation_id.set(value)
    try:
        yield value
    finally:
        _correlation_id.reset(token)


class CorrelationIdMiddleware:
    """Pure ASGI middleware binding ``X-Request-ID`` for the request and echoing it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        with correlation_scope(incoming) as correlation_id:
            header = (b"x-request-id", correlation_id.encode("latin-1"))

            async def send_with_id(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = [h for h in message.get("headers", []) if h[0] != b"x-request-id"]
                    headers.append(header)
                    message["headers"] = headers
                await send(message)

            await self.app(scope, receive, send_with_id)


async def _add_correlation_header(request: httpx.Request) -> None:
    correlation_id = get_correlation_id()
    if correlation_id and REQUEST_ID_HEADER not in request.headers:
        request.headers[REQUEST_ID_HEADER] = correlation_id


def correlated_http_client(**kwargs: object) -> httpx.AsyncClient:
    """Return an ``httpx.AsyncClient`` that carries the current correlation ID on each call."""
    hooks: dict[str, list[object]] = {"request": [_add_correlation_header]}
    return httpx.AsyncClient(event_hooks=hooks, **kwargs)  # type: ignore[arg-type]
