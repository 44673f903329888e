"""The HTTP policy every response of every service follows, applied once by the app factory.

- ``X-Content-Type-Options: nosniff`` and a frame policy (``X-Frame-Options: DENY`` and
  ``Content-Security-Policy: frame-ancestors 'none'``) on every response;
- ``Cache-Control: no-store`` on the response to a request that carried ``Authorization``
  (what it answers is the caller's own, and must not sit in a shared or browser cache);
- ``Strict-Transport-Security`` only when the request came over TLS (``https`` scheme, or
  ``X-Forwarded-Proto: https`` from the ingress that terminated it): HSTS over plain HTTP is
  meaningless and would break a local stack served on http;
- ``HEAD`` works wherever ``GET`` does: it is answered as the ``GET`` without its body (a
  streaming response is ended and its producer told the client left).

uvicorn's ``server`` header is switched off in :mod:`souk_common.server`; 405 responses carry
``Allow`` from the router (``souk_common.errors`` passes the exception's headers on).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from souk_common.asgi import HttpMiddleware

if TYPE_CHECKING:
    from starlette.types import Message, Receive, Scope, Send

HSTS = b"max-age=31536000; includeSubDomains"
ALWAYS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
)


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((value for key, value in scope.get("headers", ()) if key == name), None)


def came_over_tls(scope: Scope) -> bool:
    """Whether the request reached us (or the proxy in front of us) over https."""
    forwarded = _header(scope, b"x-forwarded-proto")
    if forwarded is not None:
        return forwarded.split(b",")[0].strip().lower() == b"https"
    return scope.get("scheme") == "https"


def policy_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    """The headers the response to ``scope``'s request must carry."""
    headers = list(ALWAYS)
    if _header(scope, b"authorization") is not None:
        headers.append((b"cache-control", b"no-store"))
    if came_over_tls(scope):
        headers.append((b"strict-transport-security", HSTS))
    return headers


def _with_head(header: tuple[bytes, bytes]) -> tuple[bytes, bytes]:
    """An ``Allow`` header that lists ``GET`` also lists ``HEAD``, which this module answers."""
    name, value = header
    methods = [m.strip() for m in value.split(b",")]
    if name.lower() != b"allow" or b"GET" not in methods or b"HEAD" in methods:
        return header
    return name, b", ".join([*methods, b"HEAD"])


class SecurityHeadersMiddleware(HttpMiddleware):
    """Pure ASGI middleware applying the module's policy to every HTTP response."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request."""
        policy = policy_headers(scope)
        names = {name for name, _ in policy}
        head = scope["method"] == "HEAD"
        ended = False

        async def with_policy(message: Message) -> None:
            nonlocal ended
            if message["type"] == "http.response.start":
                kept = [h for h in message.get("headers", []) if h[0].lower() not in names]
                if message["status"] == 405:
                    kept = [_with_head(h) for h in kept]
                message = {**message, "headers": kept + policy}
            elif head and message["type"] == "http.response.body":
                if ended:
                    return
                ended = True
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        async def until_ended() -> Message:
            if ended:
                return {"type": "http.disconnect"}
            return await receive()

        if head:
            await self.app({**scope, "method": "GET"}, until_ended, with_policy)
        else:
            await self.app(scope, receive, with_policy)
