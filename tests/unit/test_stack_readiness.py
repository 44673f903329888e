"""The local stack's readiness wait judges progress, not the time since launch."""

from __future__ import annotations

import pytest

from souk_devstack.stack import READY_LIMIT_SECONDS, STALL_SECONDS, LocalStack, StackError


def test_a_service_that_keeps_progressing_may_take_longer_than_a_stall():
    started = 0.0
    now = STALL_SECONDS * 3
    marks = {"orders": ((120, 4096), now - 1.0)}  # its mark moved a second ago
    LocalStack._check_progress({"orders"}, marks, started, now)


def test_a_service_without_progress_for_the_stall_time_fails_naming_it():
    marks = {"orders": ((120, 4096), 0.0), "catalog": ((80, 100), 70.0)}
    with pytest.raises(StackError, match=r"no progress for 60s: \['orders'\]"):
        LocalStack._check_progress({"orders", "catalog"}, marks, 0.0, STALL_SECONDS + 1)


def test_even_a_progressing_service_has_a_limit():
    now = READY_LIMIT_SECONDS + 1
    with pytest.raises(StackError, match="not ready after 600s"):
        LocalStack._check_progress({"orders"}, {"orders": ("503 body", now)}, 0.0, now)
