"""The live status feed (SSE): the current status at once, each change, closed when final."""

from __future__ import annotations

import asyncio
import json


def parse_sse(text: str) -> list[dict]:
    events = []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if ": " in line and line[0] != ":"
        )
        if fields.get("event") == "status":
            events.append({"id": int(fields["id"]), **json.loads(fields["data"])})
    return events


async def test_feed_streams_each_transition_and_closes_at_the_end(shop):
    order = await shop.placed()
    url = f"/api/orders/{order['id']}/events"
    stream = asyncio.create_task(shop.client.get(url, headers=shop.as_(shop.buyer)))
    await asyncio.sleep(0.3)  # subscribed and the current status sent
    assert not stream.done()
    await shop.reserve(order)
    await shop.wait_status(order["id"], "RESERVED")
    await asyncio.sleep(0.1)
    await shop.pay(order, "30.00")
    response = await asyncio.wait_for(stream, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    assert [(e["id"], e["status"]) for e in events] == [
        (0, "PENDING"),
        (1, "RESERVED"),
        (2, "CONFIRMED"),
    ]
    assert events[2]["reason"] == "payment_succeeded"
    assert events[0]["order_id"] == order["id"]


async def test_feed_of_a_final_order_sends_its_status_and_closes(shop):
    order = await shop.placed()
    await shop.client.post(f"/api/orders/{order['id']}/cancel", headers=shop.as_(shop.buyer))
    url = f"/api/orders/{order['id']}/events"
    admin = await asyncio.wait_for(
        shop.client.get(url, headers=shop.as_(shop.admin, "admin")), timeout=5
    )
    assert [e["status"] for e in parse_sse(admin.text)] == ["CANCELLED"]
    resumed = await asyncio.wait_for(
        shop.client.get(url, headers={**shop.as_(shop.buyer), "Last-Event-ID": "-1"}), timeout=5
    )
    assert [e["status"] for e in parse_sse(resumed.text)] == ["CANCELLED"]
    replay = await asyncio.wait_for(
        shop.client.get(url, headers={**shop.as_(shop.buyer), "Last-Event-ID": "0"}), timeout=5
    )
    assert [e["id"] for e in parse_sse(replay.text)] == [1]
