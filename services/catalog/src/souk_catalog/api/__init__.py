"""HTTP routers of the catalog service."""

from souk_catalog.api.categories import router as categories_router
from souk_catalog.api.products import router as products_router

ROUTERS = (products_router, categories_router)
