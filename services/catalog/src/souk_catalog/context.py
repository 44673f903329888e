"""The catalog service's context: what it builds once at start-up and hands to every part.

Routes take it through :data:`ContextDep`; the stream handlers are built from it. None of them
looks anything up by a string key or checks a type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from souk_catalog.config import CatalogSettings
from souk_catalog.inventory import StockPolicy
from souk_catalog.listing_cache import ListingCache
from souk_common.app import ServiceRuntime, service_context
from souk_common.events.outbox import Outbox


@dataclass(frozen=True)
class CatalogContext:
    """The settings, the outbox, the stock policy and the public listings' cache."""

    settings: CatalogSettings
    outbox: Outbox
    policy: StockPolicy
    listings: ListingCache


async def build_context(runtime: ServiceRuntime[CatalogSettings]) -> CatalogContext:
    """Build the context (``ServiceDefinition.context``)."""
    settings = runtime.settings
    return CatalogContext(
        settings=settings,
        outbox=runtime.outbox,
        policy=StockPolicy(settings.low_stock_threshold),
        listings=ListingCache(settings.listing_cache_seconds, settings.listing_cache_entries),
    )


ContextDep = Annotated[CatalogContext, Depends(service_context)]
