"""Writing events through the transactional outbox.

A use case calls :meth:`Outbox.add` with a payload model (which names its own event type,
``event_type``) and the same session that changes its state, so the event
row commits (or rolls back) with the change. The relay (``souk_common.events.relay``)
publishes committed rows later; it may publish a row twice after a crash, which consumers'
inboxes absorb. A relay that wants to hear of committed rows at once (rather than at its next
poll) subscribes to a sessionmaker with :func:`wake_on_commit`.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Protocol

from pydantic import BaseModel
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk_common.db import on_commit
from souk_common.events.envelope import CloudEvent
from souk_common.events.handlers import event_type_of
from souk_common.events.tables import EventTables
from souk_common.streams import stream_key

_WAKES = "souk_outbox_wakes"


class Wakeable(Protocol):
    """Something to wake once outbox rows committed (an outbox relay)."""

    def wake(self) -> None:
        """Look at the outbox now; must be quick and safe from the committing thread."""


def wake_on_commit(
    sessions: async_sessionmaker[AsyncSession], target: Wakeable
) -> Callable[[], None]:
    """Wake ``target`` whenever a session of ``sessions`` commits outbox rows.

    The set of targets travels in the sessionmaker's ``info`` (shared by every session it
    makes), so sessions of other sessionmakers are untouched. Returns a function that detaches
    ``target`` again.
    """
    info = dict(sessions.kw.get("info") or {})
    targets: weakref.WeakSet[Wakeable] = info.setdefault(_WAKES, weakref.WeakSet())
    sessions.configure(info=info)
    targets.add(target)
    return lambda: targets.discard(target)


def _wake_all(targets: weakref.WeakSet[Wakeable]) -> None:
    for target in list(targets):
        target.wake()


class Outbox:
    """Adds events of one producing service to its outbox table."""

    def __init__(self, tables: EventTables, service: str, prefix: str) -> None:
        self.table = tables.outbox
        self.service = service
        self.stream = stream_key(prefix, service)

    async def add(self, session: AsyncSession, payload: BaseModel) -> CloudEvent:
        """Stage ``payload`` as an event of its model's type in the session's transaction."""
        event_type = event_type_of(type(payload))
        event = CloudEvent.create(event_type, self.service, payload.model_dump(mode="json"))
        await session.execute(
            insert(self.table).values(
                event_id=event.id, stream=self.stream, type=event_type, fields=event.to_fields()
            )
        )
        targets = session.info.get(_WAKES)
        if targets:
            on_commit(session, lambda: _wake_all(targets))
        return event
