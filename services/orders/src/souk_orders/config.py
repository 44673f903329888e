"""Settings of the orders service, read from the environment and validated at start-up."""

from __future__ import annotations

from pydantic import Field

from souk_common.settings import ServiceSettings

DEFAULT_PAYMENT_METHODS = frozenset({"pm_card_visa", "pm_card_declined", "pm_card_retry"})


class OrdersSettings(ServiceSettings):
    """Settings of orders (environment variable = field name in upper case)."""

    # Name of the service in logs, metrics, the consumer group and its events' `source`.
    service_name: str = Field(default="orders", min_length=1, pattern=r"^[a-z][a-z0-9-]*$")
    # An order still PENDING or RESERVED this long after it was placed is cancelled (`timeout`)
    # by the deadline sweeper, which releases its stock and refunds any capture.
    order_deadline_seconds: float = Field(default=900.0, gt=0)
    # How often the deadline sweeper looks for overdue orders, and how many it takes per pass.
    order_sweep_interval_seconds: float = Field(default=5.0, gt=0)
    order_sweep_batch_size: int = Field(default=100, ge=1, le=10_000)
    # Payment method tokens a buyer may name (test tokens of the simulated provider; never
    # card data). JSON list in the environment, e.g. '["pm_card_visa"]'.
    payment_methods: frozenset[str] = Field(default=DEFAULT_PAYMENT_METHODS, min_length=1)
    # The live status feed (SSE): longest lifetime of one stream, how often it re-reads the
    # order in case a change notification was missed, and the keep-alive comment interval.
    status_feed_max_seconds: float = Field(default=300.0, gt=0)
    status_feed_poll_seconds: float = Field(default=2.0, gt=0)
    status_feed_keepalive_seconds: float = Field(default=15.0, gt=0)
