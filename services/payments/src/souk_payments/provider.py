"""The payment provider interface and the simulated provider behind it.

A real provider (an HTTP API) replaces :class:`SimulatedProvider` by implementing
:class:`PaymentProvider`. The contract the use cases rely on:

- ``charge`` and ``refund`` are **idempotent per idempotency key**: calling again with the
  same key returns the first call's result and never moves money twice. Payments uses the
  order id as the charge key and ``refund:<order id>`` as the refund key, so a redelivered
  event, or a retry after a crash between the provider's answer and our commit, is harmless.
- A **decline** is a final answer (``ChargeResult.succeeded`` false, with a stable code).
- A **temporary failure** (network, provider overloaded) raises :class:`TemporaryProviderError`;
  the caller may retry with the same key.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, TypeVar

_Remembered = TypeVar("_Remembered")


class TemporaryProviderError(Exception):
    """The provider could not answer now; retrying with the same idempotency key is safe."""


class RefundRefusedError(Exception):
    """The provider refused a refund for good; an operator must look at the payment."""


@dataclass(frozen=True)
class ChargeResult:
    """The provider's final answer to a charge."""

    succeeded: bool
    # The provider's reference of the charge (present when it succeeded).
    charge_ref: str | None = None
    # Stable decline code when it did not, e.g. ``card_declined``.
    decline_code: str | None = None


@dataclass(frozen=True)
class RefundResult:
    """The provider's answer to a successful refund."""

    refund_ref: str


class PaymentProvider(Protocol):
    """What payments needs from a payment provider."""

    async def charge(
        self, idempotency_key: str, amount: Decimal, currency: str, token: str | None
    ) -> ChargeResult:
        """Charge ``amount`` to the payment method ``token``, at most once per key."""
        ...

    async def refund(
        self, idempotency_key: str, charge_ref: str, amount: Decimal, currency: str
    ) -> RefundResult:
        """Refund ``amount`` of the charge ``charge_ref``, at most once per key."""
        ...


def method_type(token: str | None) -> str:
    """Return the part of a payment token that is safe to log and store (``pm_card``).

    Tokens look like ``pm_<type>_<detail>``; only ``pm_<type>`` is kept. Anything else (a
    pasted card number, say) becomes ``other`` and is never echoed.
    """
    if not token:
        return "none"
    parts = token.split("_")
    if len(parts) >= 2 and parts[0] == "pm" and parts[1].isalpha() and len(parts[1]) <= 16:
        return f"pm_{parts[1]}"
    return "other"


VISA, DECLINED, RETRY = "pm_card_visa", "pm_card_declined", "pm_card_retry"


class BoundedMemory(OrderedDict[str, _Remembered]):
    """A dict that forgets its oldest keys beyond ``limit`` entries."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def __setitem__(self, key: str, value: _Remembered) -> None:
        """Remember ``value``, forgetting the oldest key when over the limit."""
        super().__setitem__(key, value)
        if len(self) > self.limit:
            self.popitem(last=False)


class SimulatedProvider:
    """A deterministic in-process provider for development and tests.

    ``pm_card_visa`` succeeds; ``pm_card_declined`` is declined (``card_declined``);
    ``pm_card_retry`` fails temporarily on the first call for a key and succeeds on the next;
    a missing token is declined (``missing_payment_method``), any other token
    (``unknown_payment_method``). Results are remembered per key, as a real provider does,
    for the last ``remember`` keys: enough for any redelivery (a real provider forgets keys
    after a day). Unbounded, the simulation grew with every order (~300 bytes each), which the
    benchmark's soak caught; bounded, it levels off at about 1.5 MiB.
    """

    def __init__(self, remember: int = 5_000) -> None:
        self.charges: BoundedMemory[ChargeResult] = BoundedMemory(remember)
        self.refunds: BoundedMemory[RefundResult] = BoundedMemory(remember)
        self.calls = 0
        self._failed_once: BoundedMemory[bool] = BoundedMemory(remember)

    async def charge(
        self, idempotency_key: str, amount: Decimal, currency: str, token: str | None
    ) -> ChargeResult:
        """Charge by the test token's rule; a repeated key returns the first result."""
        self.calls += 1
        if idempotency_key in self.charges:
            return self.charges[idempotency_key]
        if token == RETRY and idempotency_key not in self._failed_once:
            self._failed_once[idempotency_key] = True
            raise TemporaryProviderError("simulated provider timeout")
        if token in (VISA, RETRY):
            result = ChargeResult(succeeded=True, charge_ref=f"ch_{uuid.uuid4().hex}")
        elif token == DECLINED:
            result = ChargeResult(succeeded=False, decline_code="card_declined")
        elif not token:
            result = ChargeResult(succeeded=False, decline_code="missing_payment_method")
        else:
            result = ChargeResult(succeeded=False, decline_code="unknown_payment_method")
        self.charges[idempotency_key] = result
        return result

    async def refund(
        self, idempotency_key: str, charge_ref: str, amount: Decimal, currency: str
    ) -> RefundResult:
        """Refund a charge this provider made; a repeated key returns the first refund."""
        self.calls += 1
        if idempotency_key not in self.refunds:
            if not charge_ref.startswith("ch_"):  # not a charge this provider makes
                raise RefundRefusedError("unknown charge")
            self.refunds[idempotency_key] = RefundResult(refund_ref=f"re_{uuid.uuid4().hex}")
        return self.refunds[idempotency_key]


def build_provider(name: str) -> PaymentProvider:
    """Return the provider named by the ``PAYMENT_PROVIDER`` setting."""
    if name == "simulated":
        return SimulatedProvider()
    raise ValueError(f"unknown payment provider {name!r}")
