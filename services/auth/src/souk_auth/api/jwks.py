"""``GET /.well-known/jwks.json``: the public keys other services verify access tokens with.

Also served under ``/api/auth/.well-known/jwks.json`` so an Ingress that routes ``/api/auth``
exposes it to outside clients too. Clients may cache it for five minutes; services refetch
early when they meet an unknown ``kid``, which is how a key rotation reaches them.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from souk_auth.api.deps import ComponentsDep

router = APIRouter(tags=["keys"])
JWKS_CACHE_CONTROL = "public, max-age=300"


@router.get("/.well-known/jwks.json")
@router.get("/api/auth/.well-known/jwks.json", include_in_schema=False)
async def jwks(parts: ComponentsDep) -> JSONResponse:
    """Return every non-retired public signing key as a JWKS document."""
    document = await parts.keys.jwks()
    return JSONResponse(document, headers={"Cache-Control": JWKS_CACHE_CONTROL})
