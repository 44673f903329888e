"""FastAPI dependencies of the auth routes, as ``Annotated`` aliases.

Everything comes from ``request.app.state.context`` (the :class:`AuthComponents` that the
lifespan built), so routes stay free of globals and tests get a fresh set per app.
They are ``async`` on purpose: FastAPI runs a plain ``def`` dependency in a worker thread.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from souk_auth.components import AuthComponents
from souk_auth.throttling import client_address
from souk_common.app import service_context
from souk_common.events.outbox import Outbox

# The auth components (hasher, key store, token issuer, throttle, outbox).
ComponentsDep = Annotated[AuthComponents, Depends(service_context)]


async def get_outbox(parts: ComponentsDep) -> Outbox:
    """Return the outbox that stages this service's events."""
    return parts.outbox


OutboxDep = Annotated[Outbox, Depends(get_outbox)]


async def get_client_address(request: Request, parts: ComponentsDep) -> str:
    """Return the caller's address (``X-Forwarded-For`` only behind trusted proxies)."""
    peer = request.client.host if request.client else None
    return client_address(
        peer, request.headers.get("x-forwarded-for"), parts.settings.trusted_proxy_hops
    )


ClientAddressDep = Annotated[str, Depends(get_client_address)]
