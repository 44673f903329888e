"""``GET /api/orders/{id}/events``: the order's live status feed (Server-Sent Events)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from souk_common.security import CurrentUser
from souk_orders.api.deps import ContextDep
from souk_orders.status_stream import read_history, status_events

router = APIRouter(prefix="/api/orders", tags=["orders"])


@router.get(
    "/{order_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def order_status_feed(
    order_id: uuid.UUID,
    caller: CurrentUser,
    request: Request,
    context: ContextDep,
) -> StreamingResponse:
    """Stream the order's status: the current one at once, then each change until final."""
    runtime = context.runtime
    sessions = runtime.database.sessions
    await read_history(sessions, order_id, caller)  # 404 before the stream starts
    events = status_events(
        sessions=sessions,
        redis=runtime.redis,
        settings=context.settings,
        order_id=order_id,
        caller=caller,
        last_event_id=request.headers.get("last-event-id"),
        disconnected=request.is_disconnected,
    )
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
