"""The simulated provider remembers idempotency keys like a real one, but not forever."""

from decimal import Decimal

from souk_payments.provider import LocalMemory, SimulatedProvider


async def test_a_repeated_key_returns_the_first_result():
    provider = SimulatedProvider()
    first = await provider.charge("order-1", Decimal("5.00"), "EUR", "pm_card_visa")
    again = await provider.charge("order-1", Decimal("5.00"), "EUR", "pm_card_visa")
    assert again == first
    assert provider.charges_made == 1


async def test_local_memory_is_bounded_and_forgets_the_oldest_keys():
    memory = LocalMemory(limit=100)
    provider = SimulatedProvider(memory)
    for n in range(1_000):
        await provider.charge(f"order-{n}", Decimal("5.00"), "EUR", "pm_card_visa")
    assert len(memory) == 100
    assert "charge:order-999" in memory
    assert "charge:order-0" not in memory
