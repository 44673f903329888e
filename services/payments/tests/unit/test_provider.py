"""The simulated provider's test tokens, its idempotency, the retry helper and what may be
logged of a payment token, without I/O."""

from __future__ import annotations

from decimal import Decimal

import pytest

from souk_payments.charging import RetryPolicy, with_retries
from souk_payments.provider import SimulatedProvider, TemporaryProviderError, method_type

TEN = Decimal("10.00")


@pytest.mark.parametrize(
    ("token", "succeeded", "code"),
    [
        ("pm_card_visa", True, None),
        ("pm_card_declined", False, "card_declined"),
        ("pm_card_mystery", False, "unknown_payment_method"),
        ("4242424242424242", False, "unknown_payment_method"),
        (None, False, "missing_payment_method"),
        ("", False, "missing_payment_method"),
    ],
)
async def test_test_tokens(token, succeeded, code):
    result = await SimulatedProvider().charge("order-1", TEN, "EUR", token)
    assert result.succeeded is succeeded
    assert result.decline_code == code
    assert (result.charge_ref is not None) is succeeded


async def test_retry_token_fails_once_per_key_then_succeeds():
    provider = SimulatedProvider()
    with pytest.raises(TemporaryProviderError):
        await provider.charge("order-1", TEN, "EUR", "pm_card_retry")
    assert (await provider.charge("order-1", TEN, "EUR", "pm_card_retry")).succeeded
    with pytest.raises(TemporaryProviderError):  # another order has its own first failure
        await provider.charge("order-2", TEN, "EUR", "pm_card_retry")


async def test_same_key_returns_the_same_charge_and_refund():
    provider = SimulatedProvider()
    first = await provider.charge("order-1", TEN, "EUR", "pm_card_visa")
    assert await provider.charge("order-1", TEN, "EUR", "pm_card_visa") == first
    assert first.charge_ref is not None
    refund = await provider.refund("refund:order-1", first.charge_ref, TEN, "EUR")
    assert await provider.refund("refund:order-1", first.charge_ref, TEN, "EUR") == refund
    assert provider.charges_made == provider.refunds_made == 1


async def test_with_retries_gives_up_after_the_last_attempt():
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise TemporaryProviderError("busy")
        return "ok"

    assert await with_retries(RetryPolicy(3, 0), flaky, "charge") == "ok"
    calls = -10
    with pytest.raises(TemporaryProviderError):
        await with_retries(RetryPolicy(3, 0), flaky, "charge")
    assert calls == -7


@pytest.mark.parametrize(
    ("token", "kind"),
    [
        ("pm_card_visa", "pm_card"),
        ("pm_card_declined", "pm_card"),
        ("pm_sepa_debit_x", "pm_sepa"),
        ("4242424242424242", "other"),
        ("pm_4242424242424242_x", "other"),
        (None, "none"),
    ],
)
def test_only_the_token_type_is_kept(token, kind):
    assert method_type(token) == kind
