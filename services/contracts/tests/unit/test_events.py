"""Each event type is bound to one payload model, and EVENT_PAYLOADS lists every one."""

from __future__ import annotations

from souk_contracts import events
from souk_contracts.events import EVENT_PAYLOADS, EventPayload


def _event_models() -> set[type[EventPayload]]:
    found = set()
    for value in vars(events).values():
        if (
            isinstance(value, type)
            and issubclass(value, EventPayload)
            and "event_type" in vars(value)
        ):
            found.add(value)
    return found


def test_every_event_model_is_listed_under_its_own_type():
    assert set(EVENT_PAYLOADS.values()) == _event_models()
    for event_type, model in EVENT_PAYLOADS.items():
        assert model.event_type == event_type


def test_the_saga_event_types_are_the_designed_ones():
    assert {
        "user.registered", "order.placed", "order.confirmed", "order.cancelled",
        "inventory.reserved", "inventory.rejected", "inventory.released",
        "payment.succeeded", "payment.failed", "payment.refunded",
    } <= set(EVENT_PAYLOADS)  # fmt: skip


def test_a_payload_part_is_not_an_event():
    assert "event_type" not in vars(events.OrderItemV1)
