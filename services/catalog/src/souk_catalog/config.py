"""Settings of the catalog service, read from the environment and validated at start-up."""

from __future__ import annotations

from pydantic import Field

from souk_common.settings import ServiceSettings


class CatalogSettings(ServiceSettings):
    """Settings of catalog (environment variable = field name in upper case)."""

    # Name of the service in logs, metrics, the consumer group and its events' `source`.
    service_name: str = Field(default="catalog", min_length=1, pattern=r"^[a-z][a-z0-9-]*$")
    # A reservation that leaves a product at or below this many units emits product.low_stock
    # (once, when the stock crosses the threshold downwards).
    low_stock_threshold: int = Field(default=5, ge=0)
    # Seconds a public listing page is kept in memory (0 turns the cache off); see
    # souk_catalog/listing_cache.py for what may be stale and for how long.
    listing_cache_seconds: float = Field(default=1.0, ge=0, le=300)
    # Listing pages kept at most (the least recently used go first).
    listing_cache_entries: int = Field(default=1024, ge=1, le=100_000)
    # Base URL of auth, used only by `seed` to find the demo seller's id through auth's HTTP
    # API; when unset it is derived from AUTH_JWKS_URL (everything before /.well-known/).
    auth_url: str | None = None

    def auth_base_url(self) -> str:
        """Return auth's base URL (``AUTH_URL``, else derived from ``AUTH_JWKS_URL``)."""
        if self.auth_url:
            return self.auth_url.rstrip("/")
        if self.auth_jwks_url and "/.well-known/" in self.auth_jwks_url:
            return self.auth_jwks_url.split("/.well-known/", 1)[0]
        raise ValueError("set AUTH_URL (or AUTH_JWKS_URL) so the seed can reach auth")
