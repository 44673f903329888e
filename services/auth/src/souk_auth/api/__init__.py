"""HTTP routes of the auth service, one router per resource."""

from souk_auth.api.account import router as account_router
from souk_auth.api.jwks import router as jwks_router
from souk_auth.api.sessions import router as sessions_router
from souk_auth.api.users import router as users_router

ROUTERS = (account_router, sessions_router, users_router, jwks_router)

__all__ = ["ROUTERS"]
