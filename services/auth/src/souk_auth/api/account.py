"""Routes for one's own account: ``POST /api/auth/register`` and ``GET /api/auth/me``."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from souk_auth.api.deps import ComponentsDep, OutboxDep
from souk_auth.schemas import RegisterRequest, UserOut
from souk_auth.service import current_user, register_user
from souk_common.db import SessionDep
from souk_common.security import CurrentUser, optional_principal

router = APIRouter(prefix="/api/auth", tags=["account"])


@router.post("/register", status_code=status.HTTP_201_CREATED)
async def register(
    body: RegisterRequest,
    request: Request,
    session: SessionDep,
    outbox: OutboxDep,
    parts: ComponentsDep,
) -> UserOut:
    """Create an account (``admin`` only when an admin asks) and emit ``user.registered``."""
    # Credentials matter only for creating an admin; otherwise they are ignored, so a stale
    # access-token cookie in the browser never stops someone from signing up.
    caller = await optional_principal(request) if body.role == "admin" else None
    may_grant_admin = caller is not None and caller.is_admin
    user = await register_user(
        session, outbox, parts.passwords, body, may_grant_admin=may_grant_admin
    )
    return UserOut.model_validate(user)


@router.get("/me")
async def me(session: SessionDep, caller: CurrentUser) -> UserOut:
    """Return the caller's account."""
    return UserOut.model_validate(await current_user(session, caller))
