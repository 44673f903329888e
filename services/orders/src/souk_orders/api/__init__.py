"""HTTP routers of the orders service."""

from souk_orders.api.feed import router as feed_router
from souk_orders.api.orders import router as orders_router

ROUTERS = (orders_router, feed_router)
