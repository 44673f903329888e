"""The simulated provider remembers idempotency keys like a real one, but not forever."""

from decimal import Decimal

from souk_payments.provider import SimulatedProvider


async def test_a_repeated_key_returns_the_first_result():
    provider = SimulatedProvider()
    first = await provider.charge("order-1", Decimal("5.00"), "EUR", "pm_card_visa")
    again = await provider.charge("order-1", Decimal("5.00"), "EUR", "pm_card_visa")
    assert again == first


async def test_memory_is_bounded_and_forgets_the_oldest_keys():
    provider = SimulatedProvider(remember=100)
    for n in range(1_000):
        await provider.charge(f"order-{n}", Decimal("5.00"), "EUR", "pm_card_visa")
    assert len(provider.charges) == 100
    assert "order-999" in provider.charges
    assert "order-0" not in provider.charges
