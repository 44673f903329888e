"""Dependencies of the orders routes: the service's context, settings and transition effects.

They are ``async`` on purpose: FastAPI runs a plain ``def`` dependency in a worker thread.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from souk_common.app import service_context
from souk_orders.config import OrdersSettings
from souk_orders.context import OrdersContext
from souk_orders.transitions import Effects

ContextDep = Annotated[OrdersContext, Depends(service_context)]


async def get_settings(context: ContextDep) -> OrdersSettings:
    """Return the orders settings of the running service."""
    return context.settings


async def get_effects(context: ContextDep) -> Effects:
    """Return the outbox and status publisher transitions write to."""
    return context.effects


SettingsDep = Annotated[OrdersSettings, Depends(get_settings)]
EffectsDep = Annotated[Effects, Depends(get_effects)]
