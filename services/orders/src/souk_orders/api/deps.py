"""Dependencies of the orders routes: the service's settings and transition effects.

They are ``async`` on purpose: FastAPI runs a plain ``def`` dependency in a worker thread.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from souk_common.app import ServiceRuntime
from souk_orders.config import OrdersSettings
from souk_orders.consumers import effects_of
from souk_orders.transitions import Effects


def runtime_of(request: Request) -> ServiceRuntime:
    """Return the running service's runtime."""
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


async def get_runtime(request: Request) -> ServiceRuntime:
    """Dependency: the running service's runtime."""
    return runtime_of(request)


async def get_settings(request: Request) -> OrdersSettings:
    """Return the orders settings of the running service."""
    settings = runtime_of(request).settings
    if not isinstance(settings, OrdersSettings):
        raise TypeError("the orders app runs with OrdersSettings")
    return settings


async def get_effects(request: Request) -> Effects:
    """Return the outbox and status publisher transitions write to."""
    return effects_of(runtime_of(request))


RuntimeDep = Annotated[ServiceRuntime, Depends(get_runtime)]
SettingsDep = Annotated[OrdersSettings, Depends(get_settings)]
EffectsDep = Annotated[Effects, Depends(get_effects)]
