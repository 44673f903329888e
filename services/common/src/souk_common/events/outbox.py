"""Writing events through the transactional outbox.

A use case calls :meth:`Outbox.add` with the same session that changes its state, so the event
row commits (or rolls back) with the change. The relay (``souk_common.events.relay``)
publishes committed rows later; it may publish a row twice after a crash, which consumers'
inboxes absorb.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from souk_common.events.envelope import CloudEvent
from souk_common.events.streams import stream_key
from souk_common.events.tables import EventTables

OUTBOX_PENDING_KEY = "souk_outbox_pending"


class Outbox:
    """Adds events of one producing service to its outbox table."""

    def __init__(self, tables: EventTables, service: str, prefix: str) -> None:
        self.table = tables.outbox
        self.service = service
        self.stream = stream_key(prefix, service)

    async def add(
        self,
        session: AsyncSession,
        type: str,
        data: BaseModel | Mapping[str, Any],
    ) -> CloudEvent:
        """Stage ``data`` as event ``type`` in the session's transaction and return it."""
        payload = data.model_dump(mode="json") if isinstance(data, BaseModel) else dict(data)
        event = CloudEvent.create(type, self.service, payload)
        await session.execute(
            insert(self.table).values(
                event_id=event.id, stream=self.stream, type=type, fields=event.to_fields()
            )
        )
        # Lets the in-process relay wake up right after this transaction commits.
        session.info[OUTBOX_PENDING_KEY] = True
        return event
