"""Settings of the payments service, read from the environment and validated at start-up."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from souk_common.settings import ServiceSettings


class PaymentsSettings(ServiceSettings):
    """Settings of payments (environment variable = field name in upper case)."""

    # Name of the service in logs, metrics, the consumer group and its events' `source`.
    service_name: str = Field(default="payments", min_length=1, pattern=r"^[a-z][a-z0-9-]*$")
    # Which payment provider charges and refunds; only the simulated one exists today.
    payment_provider: Literal["simulated"] = "simulated"
    # Attempts per provider call inside one delivery when the provider fails temporarily;
    # after the last one the delivery fails and the stream redelivers it later.
    provider_attempts: int = Field(default=3, ge=1, le=10)
    # Delay before the second attempt, doubled for each further one (milliseconds).
    provider_backoff_ms: int = Field(default=50, ge=0, le=5_000)
