"""The order status machine: the one place that decides which transitions are legal.

Pure functions, no I/O. ``PENDING → RESERVED → CONFIRMED``, ``PENDING → REJECTED`` and
``PENDING|RESERVED → CANCELLED``; the three terminal statuses never change again.

:func:`decide` maps "the order is in status X and trigger T happened" to the statuses the
order passes through (empty: nothing to do). Payments reads catalog's stream directly, so a
payment outcome can reach orders before ``inventory.reserved`` does (there is no ordering
across streams). A payment outcome proves that stock was reserved, so for a ``PENDING`` order
it passes through ``RESERVED`` first: the history stays a legal path and nothing waits for a
retry.
"""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    """Status of an order."""

    PENDING = "PENDING"
    RESERVED = "RESERVED"
    CONFIRMED = "CONFIRMED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


class Trigger(StrEnum):
    """What happened to an order: an event from another service, the buyer, or the clock."""

    INVENTORY_RESERVED = "inventory_reserved"
    INVENTORY_REJECTED = "inventory_rejected"
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"
    BUYER_CANCEL = "buyer_cancelled"
    DEADLINE = "timeout"


TERMINAL = frozenset({OrderStatus.CONFIRMED, OrderStatus.REJECTED, OrderStatus.CANCELLED})
OPEN = frozenset({OrderStatus.PENDING, OrderStatus.RESERVED})

# Every legal single step.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset(
        {OrderStatus.RESERVED, OrderStatus.REJECTED, OrderStatus.CANCELLED}
    ),
    OrderStatus.RESERVED: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset(),
    OrderStatus.REJECTED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}

# Where each trigger leads, from each status where it has an effect.
_PATHS: dict[tuple[OrderStatus, Trigger], tuple[OrderStatus, ...]] = {
    (OrderStatus.PENDING, Trigger.INVENTORY_RESERVED): (OrderStatus.RESERVED,),
    (OrderStatus.PENDING, Trigger.INVENTORY_REJECTED): (OrderStatus.REJECTED,),
    (OrderStatus.PENDING, Trigger.PAYMENT_SUCCEEDED): (
        OrderStatus.RESERVED,
        OrderStatus.CONFIRMED,
    ),
    (OrderStatus.PENDING, Trigger.PAYMENT_FAILED): (OrderStatus.RESERVED, OrderStatus.CANCELLED),
    (OrderStatus.PENDING, Trigger.BUYER_CANCEL): (OrderStatus.CANCELLED,),
    (OrderStatus.PENDING, Trigger.DEADLINE): (OrderStatus.CANCELLED,),
    (OrderStatus.RESERVED, Trigger.PAYMENT_SUCCEEDED): (OrderStatus.CONFIRMED,),
    (OrderStatus.RESERVED, Trigger.PAYMENT_FAILED): (OrderStatus.CANCELLED,),
    (OrderStatus.RESERVED, Trigger.BUYER_CANCEL): (OrderStatus.CANCELLED,),
    (OrderStatus.RESERVED, Trigger.DEADLINE): (OrderStatus.CANCELLED,),
}


class IllegalTransitionError(ValueError):
    """A step that the status machine does not allow."""


def is_terminal(status: OrderStatus) -> bool:
    """Whether ``status`` is final."""
    return status in TERMINAL


def can_move(current: OrderStatus, target: OrderStatus) -> bool:
    """Whether one step from ``current`` to ``target`` is legal."""
    return target in TRANSITIONS[current]


def decide(current: OrderStatus, trigger: Trigger) -> tuple[OrderStatus, ...]:
    """Return the statuses an order in ``current`` passes through on ``trigger`` (may be none).

    An empty result means the trigger has no effect (late, duplicate or out of place); the
    caller logs it and, for the buyer's cancel, refuses the request.
    """
    path = _PATHS.get((current, trigger), ())
    check_path(current, path)
    return path


def check_path(current: OrderStatus, path: tuple[OrderStatus, ...]) -> None:
    """Raise :class:`IllegalTransitionError` unless every step of ``path`` is legal."""
    for target in path:
        if not can_move(current, target):
            raise IllegalTransitionError(f"{current} → {target} is not allowed")
        current = target
