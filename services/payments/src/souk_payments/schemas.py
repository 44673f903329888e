"""Response bodies of the payments API (amounts as decimal strings, like every Souk price)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class PaymentOut(BaseModel):
    """One order's payment as its buyer (or an admin) sees it.

    ``amount`` and ``currency`` are null for an order cancelled before it was ever charged
    (status ``voided``). The payment token is never shown, only its type (``pm_card``).
    """

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    order_id: uuid.UUID
    buyer_id: uuid.UUID
    status: str
    amount: Decimal | None
    currency: str | None
    method_type: str | None
    failure_reason: str | None
    refund_id: uuid.UUID | None
    refunded_amount: Decimal | None
    created_at: datetime
    updated_at: datetime
