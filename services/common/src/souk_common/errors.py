"""One error hierarchy rendered as RFC 9457 problem+json by one set of handlers.

Raise a :class:`SoukError` subclass anywhere below a route; the handler turns it into a
response whose ``type`` and ``code`` are stable, so clients can branch on them. Validation
errors name each offending field (``body.email``) in ``errors`` and in ``detail``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from souk_common.asgi import HttpMiddleware
from souk_common.correlation import get_correlation_id
from souk_common.logging import get_logger

if TYPE_CHECKING:
    from starlette.types import Message, Receive, Scope, Send

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://souk.dev/problems/"
log = get_logger(__name__)


class SoukError(Exception):
    """Base of every error a client may see; subclasses set ``code`` and ``status_code``."""

    code: ClassVar[str] = "internal_error"
    status_code: ClassVar[int] = 500
    title: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or self.title)
        clashing = RESERVED_MEMBERS & extensions.keys()
        if clashing:  # a programming error: it would overwrite RFC 9457's own members
            raise TypeError(f"problem extensions may not be named {sorted(clashing)}")
        self.detail = detail or self.title
        self.headers = headers or {}
        self.extensions = extensions


class BadRequestError(SoukError):
    """The request is well-formed JSON but not acceptable."""

    code, status_code, title = "bad_request", 400, "Bad request"


class ValidationFailedError(SoukError):
    """A field failed validation outside of the schema (e.g. a domain rule)."""

    code, status_code, title = "validation_failed", 422, "Validation failed"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", errors=[{"field": field, "message": message}])


class UnauthorizedError(SoukError):
    """No valid credentials were presented."""

    code, status_code, title = "unauthorized", 401, "Authentication required"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **extensions)


class ForbiddenError(SoukError):
    """The caller is known but may not do this."""

    code, status_code, title = "forbidden", 403, "Forbidden"


class NotFoundError(SoukError):
    """The resource does not exist, or the caller may not know that it does."""

    code, status_code, title = "not_found", 404, "Not found"


class ConflictError(SoukError):
    """The request conflicts with the current state (duplicate, wrong state)."""

    code, status_code, title = "conflict", 409, "Conflict"


class RateLimitedError(SoukError):
    """Too many attempts; ``Retry-After`` says when to try again."""

    code, status_code, title = "rate_limited", 429, "Too many requests"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(
            detail, headers={"Retry-After": str(max(1, retry_after))}, retry_after=retry_after
        )


class ServiceUnavailableError(SoukError):
    """A dependency is down; retry later."""

    code, status_code, title = "unavailable", 503, "Service unavailable"


# The members every problem body carries (RFC 9457's and Souk's own); extensions add to them.
RESERVED_MEMBERS = frozenset(
    {"type", "title", "status", "detail", "instance", "code", "correlation_id"}
)


def problem_response(
    status_code: int,
    code: str,
    title: str,
    detail: str,
    request: Request,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """Build an ``application/problem+json`` response."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status_code,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
        "correlation_id": get_correlation_id(),
        **extensions,
    }
    return JSONResponse(body, status_code=status_code, headers=headers, media_type=PROBLEM_JSON)


def _field_name(location: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in location)


async def _souk_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SoukError)
    if exc.status_code >= 500:
        log.error("request_failed", code=exc.code, detail=exc.detail)
    return problem_response(
        exc.status_code, exc.code, exc.title, exc.detail, request, exc.headers, **exc.extensions
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": _field_name(item["loc"]),
            "message": str(item["msg"]).removeprefix("Value error, "),
            "type": item["type"],
        }
        for item in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem_response(
        422, "validation_failed", "Validation failed", detail, request, errors=errors
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    headers = dict(exc.headers) if exc.headers else None
    return problem_response(
        exc.status_code, code, str(exc.detail), str(exc.detail), request, headers
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", error_type=type(exc).__name__)
    return problem_response(
        500, "internal_error", "Internal server error", "An unexpected error occurred.", request
    )


class ErrorBoundaryMiddleware(HttpMiddleware):
    """Pure ASGI middleware answering an unhandled exception with the 500 problem.

    Starlette's last-resort handler sits outside every middleware: its 500 had no
    correlation ID (the ID's scope had ended) and it re-raised the exception, which made
    uvicorn close the keep-alive connection. The app factory installs this boundary inside
    the correlation middleware: the 500 keeps the request's ID, the exception is logged once
    and goes no further, and the connection serves the next request.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request."""
        progress = {"started": False, "finished": False}

        async def tracked(message: Message) -> None:
            if message["type"] == "http.response.start":
                progress["started"] = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                progress["finished"] = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as error:
            response = await _unexpected_error(Request(scope), error)
            if not progress["started"]:
                await response(scope, receive, send)
            elif not progress["finished"]:  # a stream broke off: end it, keep the connection
                await send({"type": "http.response.body", "body": b"", "more_body": False})


def install_error_handlers(app: FastAPI) -> None:
    """Register the problem+json handlers on ``app``."""
    app.add_exception_handler(SoukError, _souk_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
