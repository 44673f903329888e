"""The status machine, exhaustively: every (status, trigger) pair and every single step."""

from __future__ import annotations

import itertools

import pytest

from souk_orders.states import (
    TERMINAL,
    IllegalTransitionError,
    OrderStatus,
    Trigger,
    can_move,
    check_path,
    decide,
    is_terminal,
)

P, R, C, J, X = (
    OrderStatus.PENDING,
    OrderStatus.RESERVED,
    OrderStatus.CONFIRMED,
    OrderStatus.REJECTED,
    OrderStatus.CANCELLED,
)
EXPECTED = {
    (P, Trigger.INVENTORY_RESERVED): (R,),
    (P, Trigger.INVENTORY_REJECTED): (J,),
    (P, Trigger.PAYMENT_SUCCEEDED): (R, C),
    (P, Trigger.PAYMENT_FAILED): (R, X),
    (P, Trigger.BUYER_CANCEL): (X,),
    (P, Trigger.DEADLINE): (X,),
    (R, Trigger.PAYMENT_SUCCEEDED): (C,),
    (R, Trigger.PAYMENT_FAILED): (X,),
    (R, Trigger.BUYER_CANCEL): (X,),
    (R, Trigger.DEADLINE): (X,),
}
LEGAL_STEPS = {(P, R), (P, J), (P, X), (R, C), (R, X)}


@pytest.mark.parametrize(("status", "trigger"), list(itertools.product(OrderStatus, Trigger)))
def test_every_trigger_in_every_status(status, trigger):
    assert decide(status, trigger) == EXPECTED.get((status, trigger), ())


@pytest.mark.parametrize(("current", "target"), list(itertools.product(OrderStatus, OrderStatus)))
def test_every_single_step(current, target):
    assert can_move(current, target) == ((current, target) in LEGAL_STEPS)


def test_terminal_statuses_never_move():
    assert {C, J, X} == TERMINAL
    for status in OrderStatus:
        assert is_terminal(status) == (status in TERMINAL)
        if is_terminal(status):
            assert all(decide(status, trigger) == () for trigger in Trigger)


@pytest.mark.parametrize("path", [(C,), (R, J), (X, R), (R, C, X)])
def test_illegal_paths_are_refused(path):
    with pytest.raises(IllegalTransitionError):
        check_path(P, path)
