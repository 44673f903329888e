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

import json
import uuid
from collections import OrderedDict
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Protocol, TypeVar

from redis.asyncio import Redis

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


class ProviderMemory(Protocol):
    """Where the simulated provider keeps its answer per idempotency key."""

    async def recall(self, key: str) -> str | None:
        """Return what is kept under ``key``, or None."""
        ...

    async def remember(self, key: str, value: str) -> str:
        """Keep ``value`` under ``key`` unless something is there; return what is kept."""
        ...


class LocalMemory:
    """The provider's memory in this process: the last ``limit`` keys (tests, one replica)."""

    def __init__(self, limit: int = 5_000) -> None:
        self.entries: BoundedMemory[str] = BoundedMemory(limit)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, key: object) -> bool:
        return key in self.entries

    async def recall(self, key: str) -> str | None:
        """Return what is kept under ``key``, or None."""
        return self.entries.get(key)

    async def remember(self, key: str, value: str) -> str:
        """Keep ``value`` under ``key`` unless something is there; return what is kept."""
        if key in self.entries:
            return self.entries[key]
        self.entries[key] = value
        return value


class RedisMemory:
    """The provider's memory in Redis, shared by every payments replica, for a day per key.

    ``SET NX EX`` keeps the first answer: two replicas charging the same key at once get the
    same charge, as a real provider's server-side idempotency gives them.
    """

    def __init__(self, redis: Redis, prefix: str, ttl_seconds: int = 86_400) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds

    async def recall(self, key: str) -> str | None:
        """Return what is kept under ``key``, or None."""
        value = await self.redis.get(self.prefix + key)
        return None if value is None else _text(value)

    async def remember(self, key: str, value: str) -> str:
        """Keep ``value`` under ``key`` unless something is there; return what is kept."""
        name = self.prefix + key
        if await self.redis.set(name, value, nx=True, ex=self.ttl_seconds):
            return value
        kept = await self.redis.get(name)
        return value if kept is None else _text(kept)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class SimulatedProvider:
    """A deterministic provider for development and tests.

    ``pm_card_visa`` succeeds; ``pm_card_declined`` is declined (``card_declined``);
    ``pm_card_retry`` fails temporarily on the first call for a key and succeeds on the next;
    a missing token is declined (``missing_payment_method``), any other token
    (``unknown_payment_method``). Answers are remembered per key, as a real provider does:
    in the service, in Redis for a day (:class:`RedisMemory`, shared by all replicas); by
    default, in this process for the last 5,000 keys (:class:`LocalMemory`; unbounded, it grew
    with every order, which the benchmark's soak caught).
    """

    def __init__(self, memory: ProviderMemory | None = None) -> None:
        self.memory: ProviderMemory = memory if memory is not None else LocalMemory()
        self.calls = 0
        # Charges and refunds this instance made and kept (a repeated key adds nothing).
        self.charges_made = 0
        self.refunds_made = 0

    async def charge(
        self, idempotency_key: str, amount: Decimal, currency: str, token: str | None
    ) -> ChargeResult:
        """Charge by the test token's rule; a repeated key returns the first result."""
        self.calls += 1
        key = f"charge:{idempotency_key}"
        kept = await self.memory.recall(key)
        if kept is not None:
            return ChargeResult(**json.loads(kept))
        if token == RETRY and await self.memory.recall(f"retry:{idempotency_key}") is None:
            await self.memory.remember(f"retry:{idempotency_key}", "1")
            raise TemporaryProviderError("simulated provider timeout")
        if token in (VISA, RETRY):
            result = ChargeResult(succeeded=True, charge_ref=f"ch_{uuid.uuid4().hex}")
        elif token == DECLINED:
            result = ChargeResult(succeeded=False, decline_code="card_declined")
        elif not token:
            result = ChargeResult(succeeded=False, decline_code="missing_payment_method")
        else:
            result = ChargeResult(succeeded=False, decline_code="unknown_payment_method")
        value = json.dumps(asdict(result))
        kept = await self.memory.remember(key, value)
        if kept == value:
            self.charges_made += 1
        return ChargeResult(**json.loads(kept))

    async def refund(
        self, idempotency_key: str, charge_ref: str, amount: Decimal, currency: str
    ) -> RefundResult:
        """Refund a charge this provider made; a repeated key returns the first refund."""
        self.calls += 1
        key = f"refund:{idempotency_key}"
        kept = await self.memory.recall(key)
        if kept is None:
            if not charge_ref.startswith("ch_"):  # not a charge this provider makes
                raise RefundRefusedError("unknown charge")
            value = json.dumps(asdict(RefundResult(refund_ref=f"re_{uuid.uuid4().hex}")))
            kept = await self.memory.remember(key, value)
            if kept == value:
                self.refunds_made += 1
        return RefundResult(**json.loads(kept))


def build_provider(name: str, memory: ProviderMemory | None = None) -> PaymentProvider:
    """Return the provider named by the ``PAYMENT_PROVIDER`` setting.

    ``memory`` is the simulated provider's idempotency memory (in-process when None).
    """
    if name == "simulated":
        return SimulatedProvider(memory)
    raise ValueError(f"unknown payment provider {name!r}")
