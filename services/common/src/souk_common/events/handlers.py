"""What a service writes to consume events: handlers, keyed by the payload model they take.

A service maps each payload model to a :data:`PayloadHandler`; :func:`by_event_type` turns
that map into the runner's :data:`EventHandler` map, keyed by each model's ``event_type``
(a class attribute of the models in ``souk_contracts.events``), so no type string is typed
outside the model that owns it. Each handler runs inside the transaction that records the
event in the inbox, and must not commit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from souk_common.events.envelope import CloudEvent

P = TypeVar("P", bound=BaseModel)

EventHandler = Callable[[CloudEvent, AsyncSession], Awaitable[None]]
"""Handles one event inside the transaction that records it in the inbox; must not commit."""

PayloadHandler = Callable[[P, CloudEvent, AsyncSession], Awaitable[None]]
"""Handles one event's parsed payload (the event itself gives its id and correlation)."""

PayloadHandlers = Mapping[type[BaseModel], PayloadHandler[Any]]
"""A service's handlers, keyed by the payload model each one takes."""


@dataclass(frozen=True)
class BatchEventHandler:
    """Handles a run of consecutive events of one type in one call, e.g. one ``INSERT``.

    It runs inside the read's transaction and must not commit.

    Register it in a service's handlers like a plain :data:`EventHandler` (it is one: called
    with a single event it handles a batch of one, which is how a retried entry runs). The
    price of the throughput: one CONSUMER span per run, linked to every producer span,
    instead of one child span per event.
    """

    handle: Callable[[Sequence[CloudEvent], AsyncSession], Awaitable[None]]

    async def __call__(self, event: CloudEvent, session: AsyncSession) -> None:
        """Handle one event as a batch of one."""
        await self.handle([event], session)


def event_type_of(model: type[BaseModel]) -> str:
    """Return the CloudEvents ``type`` a payload model is bound to (its ``event_type``)."""
    event_type = getattr(model, "event_type", None)
    if not isinstance(event_type, str):
        raise TypeError(f"{model.__name__} is not an event payload: it has no event_type")
    return event_type


def by_event_type(handlers: PayloadHandlers) -> dict[str, EventHandler]:
    """Key ``handlers`` by their models' event types; each parses its payload first."""
    return {event_type_of(model): _parsing(model, handle) for model, handle in handlers.items()}


def _parsing(model: type[P], handle: PayloadHandler[P]) -> EventHandler:
    async def handle_event(event: CloudEvent, session: AsyncSession) -> None:
        await handle(model.model_validate(event.data), event, session)

    handle_event.__name__ = getattr(handle, "__name__", "handle_event")
    handle_event.__doc__ = handle.__doc__
    return handle_event
