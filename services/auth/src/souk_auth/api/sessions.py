"""Routes for sessions: log in, refresh (rotate) and log out.

Tokens are returned in the body and set as httpOnly cookies, so browsers can rely on the
cookies while other clients use the body; refresh and logout accept either.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from souk_auth.api.cookies import REFRESH_TOKEN_COOKIE, clear_token_cookies, set_token_cookies
from souk_auth.api.deps import ClientAddressDep, ComponentsDep
from souk_auth.exceptions import InvalidRefreshTokenError
from souk_auth.schemas import LoginRequest, RefreshRequest, TokenResponse
from souk_auth.service import log_in, log_out, refresh_session
from souk_auth.tokens import TokenPair
from souk_common.db import SessionDep

router = APIRouter(prefix="/api/auth", tags=["sessions"])


def _presented_refresh_token(body: RefreshRequest | None, request: Request) -> str | None:
    if body is not None and body.refresh_token:
        return body.refresh_token
    return request.cookies.get(REFRESH_TOKEN_COOKIE)


def _token_response(pair: TokenPair) -> TokenResponse:
    return TokenResponse(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


@router.post("/login")
async def login(
    body: LoginRequest,
    response: Response,
    session: SessionDep,
    parts: ComponentsDep,
    address: ClientAddressDep,
) -> TokenResponse:
    """Exchange email and password for an access and a refresh token."""
    pair = await log_in(
        session,
        parts.passwords,
        parts.throttle,
        parts.issuer,
        email=body.email,
        password=body.password.get_secret_value(),
        client_address=address,
    )
    set_token_cookies(response, pair, parts.settings)
    return _token_response(pair)


@router.post("/refresh")
async def refresh(
    request: Request,
    response: Response,
    session: SessionDep,
    parts: ComponentsDep,
    body: RefreshRequest | None = None,
) -> TokenResponse:
    """Rotate the refresh token (body or cookie) and return a new pair."""
    token = _presented_refresh_token(body, request)
    if token is None:
        raise InvalidRefreshTokenError("No refresh token was presented.")
    pair = await refresh_session(session, parts.issuer, token)
    set_token_cookies(response, pair, parts.settings)
    return _token_response(pair)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    request: Request,
    session: SessionDep,
    parts: ComponentsDep,
    body: RefreshRequest | None = None,
) -> Response:
    """Revoke the presented refresh token's family and clear the cookies."""
    await log_out(session, _presented_refresh_token(body, request))
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_token_cookies(response, parts.settings)
    return response
