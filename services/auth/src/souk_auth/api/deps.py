"""FastAPI dependencies of the auth routes, as ``Annotated`` aliases.

Everything comes from ``request.app.state.runtime`` (a :class:`souk_common.app.ServiceRuntime`)
that the lifespan built, so routes stay free of globals and tests get a fresh set per app.
They are ``async`` on purpose: FastAPI runs a plain ``def`` dependency in a worker thread.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from souk_auth.components import AuthComponents, components
from souk_auth.throttling import client_address
from souk_common.app import ServiceRuntime
from souk_common.events.outbox import Outbox


async def get_runtime(request: Request) -> ServiceRuntime:
    """Return the service runtime built by the lifespan."""
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[ServiceRuntime, Depends(get_runtime)]


async def get_components(runtime: RuntimeDep) -> AuthComponents:
    """Return the auth components (hasher, key store, token issuer, throttle)."""
    return components(runtime)


ComponentsDep = Annotated[AuthComponents, Depends(get_components)]


async def get_outbox(runtime: RuntimeDep) -> Outbox:
    """Return the outbox that stages this service's events."""
    if runtime.outbox is None:
        raise RuntimeError("the auth app was built without event tables")
    return runtime.outbox


OutboxDep = Annotated[Outbox, Depends(get_outbox)]


async def get_client_address(request: Request, parts: ComponentsDep) -> str:
    """Return the caller's address (``X-Forwarded-For`` only behind trusted proxies)."""
    peer = request.client.host if request.client else None
    return client_address(
        peer, request.headers.get("x-forwarded-for"), parts.settings.trusted_proxy_hops
    )


ClientAddressDep = Annotated[str, Depends(get_client_address)]
