"""Input rules that hold for every request of every service, checked once before any route.

PostgreSQL's text types cannot hold the NUL character (U+0000): one that reached a query
failed in asyncpg (``CharacterNotInRepertoireError``) as a 500 with an error-level log. No
text input of Souk has a use for it, so :class:`TextInputGuardMiddleware` refuses it wherever
text enters (the path, every query parameter and cookie, every string and key of a JSON
body) with the 422 problem of a schema violation, naming the field the way FastAPI does
(``query.q``, ``body.items.0.name``). The app factory installs it; no route or model opts in.

Integers that reach the database are bounded by :data:`DB_INT_MAX` (PostgreSQL's ``bigint``):
:data:`Offset` is the shared offset parameter, and every integer input of a service declares
a maximum (a test walks the services' OpenAPI to hold them to it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Query
from starlette.requests import Request, cookie_parser

from souk_common.asgi import HttpMiddleware
from souk_common.errors import problem_response

if TYPE_CHECKING:
    from starlette.types import Message, Receive, Scope, Send

NUL = "\x00"
NUL_MESSAGE = "must not contain a NUL character"
# PostgreSQL's bigint, the widest integer a column, LIMIT or OFFSET takes.
DB_INT_MAX = 2**63 - 1
Offset = Annotated[int, Query(ge=0, le=DB_INT_MAX, description="rows to skip")]


def _shown(name: str) -> str:
    """Return a field name as it can be shown: a NUL in it is escaped."""
    return name.replace(NUL, "\\u0000")


def nul_in_query(query_string: bytes) -> str | None:
    """Return the field (``query.<name>``) of the first parameter holding a NUL, if any."""
    if b"%00" not in query_string and b"\x00" not in query_string:
        return None
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if NUL in name or NUL in value:
            return f"query.{_shown(name)}"
    return None


def nul_in_cookies(scope: Scope) -> str | None:
    """Return the field (``cookie.<name>``) of the first cookie holding a NUL.

    Only a quoted cookie can spell one, with an octal escape, which the parser decodes.
    """
    for name, value in scope.get("headers", ()):
        if name == b"cookie" and b"\\" in value:
            for key, text in cookie_parser(value.decode("latin-1")).items():
                if NUL in key or NUL in text:
                    return f"cookie.{_shown(key)}"
    return None


def _nul_paths(value: Any, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    if isinstance(value, str):
        if NUL in value:
            yield path
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, (*path, str(index)))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _nul_paths(item, (*path, _shown(key)))
            if NUL in key:
                yield (*path, _shown(key))


def nul_in_json(body: bytes) -> str | None:
    """Return the field (``body.<path>``) of the first JSON string or key holding a NUL.

    A body that is not JSON is left to the route's own validation.
    """
    if b"\\u0000" not in body:  # JSON writes NUL only as this escape
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return next((".".join(path) for path in _nul_paths(document, ("body",))), None)


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return b"json" in value.lower()
    return False


class TextInputGuardMiddleware(HttpMiddleware):
    """Pure ASGI middleware refusing a NUL character in any text input with a 422 problem.

    A JSON body is read once and replayed to the app unchanged.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request."""
        field = (
            ("path" if NUL in scope["path"] else None)
            or nul_in_query(scope.get("query_string", b""))
            or nul_in_cookies(scope)
        )
        if field is None and _is_json(scope):
            messages = await _read_body(receive)
            field = nul_in_json(b"".join(m.get("body", b"") for m in messages))
            receive = _replay(messages, receive)
        if field is None:
            await self.app(scope, receive, send)
            return
        await _refuse(scope, receive, send, field)


async def _read_body(receive: Receive) -> list[Message]:
    """Receive the whole request body (or up to a disconnect)."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """Return a ``receive`` that gives ``messages`` first, then defers to ``receive``."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


async def _refuse(scope: Scope, receive: Receive, send: Send, field: str) -> None:
    """Answer the 422 problem of a schema violation naming ``field``."""
    error = {"field": field, "message": NUL_MESSAGE, "type": "string_nul_character"}
    response = problem_response(
        422,
        "validation_failed",
        "Validation failed",
        f"{field}: {NUL_MESSAGE}",
        Request(scope),
        errors=[error],
    )
    await response(scope, receive, send)
