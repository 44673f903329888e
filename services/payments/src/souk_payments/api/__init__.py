"""HTTP routers of the payments service."""

from souk_payments.api.payments import router as payments_router

ROUTERS = (payments_router,)
