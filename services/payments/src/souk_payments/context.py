"""The payments service's context: what it builds once at start-up and hands to its handlers."""

from __future__ import annotations

from dataclasses import dataclass

from souk_common.app import ServiceRuntime
from souk_common.events.outbox import Outbox
from souk_common.streams import service_key_prefix
from souk_payments import charging
from souk_payments.config import PaymentsSettings
from souk_payments.provider import PaymentProvider, RedisMemory, build_provider


@dataclass(frozen=True)
class PaymentsContext:
    """What payments builds once at start-up: its outbox, provider and retry policy."""

    outbox: Outbox
    provider: PaymentProvider
    policy: charging.RetryPolicy


async def build_context(runtime: ServiceRuntime[PaymentsSettings]) -> PaymentsContext:
    """Build the context (``ServiceDefinition.context``); a test may read its provider."""
    settings = runtime.settings
    # The simulated provider's idempotency memory lives in Redis, shared by every replica.
    memory = RedisMemory(
        runtime.redis, service_key_prefix(settings.stream_prefix, "payments", "provider")
    )
    return PaymentsContext(
        outbox=runtime.outbox,
        provider=build_provider(settings.payment_provider, memory),
        policy=charging.RetryPolicy(
            settings.provider_attempts, settings.provider_backoff_ms / 1000
        ),
    )
