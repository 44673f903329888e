"""The httpOnly token cookies set by login and refresh and cleared by logout.

``access_token`` (path ``/``) is what every service accepts instead of a Bearer header;
``refresh_token`` is scoped to ``/api/auth`` so it travels only to auth. Both are httpOnly
(no script can read them) and ``SameSite=Lax`` (not sent on cross-site POSTs, which is the
CSRF defence for cookie-authenticated calls); ``Secure`` follows ``COOKIE_SECURE``.
"""

from __future__ import annotations

from fastapi import Response

from souk_auth.config import AuthSettings
from souk_auth.tokens import TokenPair
from souk_common.security import ACCESS_TOKEN_COOKIE

REFRESH_TOKEN_COOKIE = "refresh_token"  # noqa: S105 - a cookie name, not a secret
REFRESH_TOKEN_COOKIE_PATH = "/api/auth"  # noqa: S105 - a path


def set_token_cookies(response: Response, pair: TokenPair, settings: AuthSettings) -> None:
    """Set both token cookies on ``response``."""
    response.set_cookie(
        ACCESS_TOKEN_COOKIE,
        pair.access_token,
        max_age=pair.expires_in,
        path="/",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )
    response.set_cookie(
        REFRESH_TOKEN_COOKIE,
        pair.refresh_token,
        max_age=pair.refresh_expires_in,
        path=REFRESH_TOKEN_COOKIE_PATH,
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )
    # Token responses must not be cached (RFC 6749, section 5.1).
    response.headers["Cache-Control"] = "no-store"


def clear_token_cookies(response: Response, settings: AuthSettings) -> None:
    """Expire both token cookies on ``response``."""
    for name, path in (
        (ACCESS_TOKEN_COOKIE, "/"),
        (REFRESH_TOKEN_COOKIE, REFRESH_TOKEN_COOKIE_PATH),
    ):
        response.delete_cookie(
            name, path=path, secure=settings.cookie_secure, httponly=True, samesite="lax"
        )
