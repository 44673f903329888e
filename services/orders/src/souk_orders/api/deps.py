"""Dependencies of the orders routes: the service's settings and transition effects."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from souk_common.app import ServiceRuntime
from souk_orders.config import OrdersSettings
from souk_orders.consumers import effects_of
from souk_orders.transitions import Effects


def get_runtime(request: Request) -> ServiceRuntime:
    """Return the running service's runtime."""
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


def get_settings(request: Request) -> OrdersSettings:
    """Return the orders settings of the running service."""
    settings = get_runtime(request).settings
    if not isinstance(settings, OrdersSettings):
        raise TypeError("the orders app runs with OrdersSettings")
    return settings


def get_effects(request: Request) -> Effects:
    """Return the outbox and status publisher transitions write to."""
    return effects_of(get_runtime(request))


RuntimeDep = Annotated[ServiceRuntime, Depends(get_runtime)]
SettingsDep = Annotated[OrdersSettings, Depends(get_settings)]
EffectsDep = Annotated[Effects, Depends(get_effects)]
