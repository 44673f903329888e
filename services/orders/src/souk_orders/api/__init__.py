"""HTTP routers of the orders service."""

from souk_orders.api.orders import router as orders_router
from souk_orders.api.status_stream import router as status_stream_router

ROUTERS = (orders_router, status_stream_router)
