"""Admin user management under ``/api/auth/users`` (every route requires the admin role)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from souk_auth.administration import deactivate_user, get_user, list_users, update_user
from souk_auth.schemas import Role, UserOut, UserPage, UserUpdate
from souk_common.db import SessionDep
from souk_common.inputs import Offset
from souk_common.security import AdminUser

router = APIRouter(prefix="/api/auth/users", tags=["users"])


@router.get("")
async def list_accounts(
    session: SessionDep,
    _admin: AdminUser,
    role: Role | None = None,
    email: Annotated[str | None, Query(max_length=320, description="substring match")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> UserPage:
    """List users, newest first, optionally filtered by role and email."""
    users, total = await list_users(session, role=role, email=email, limit=limit, offset=offset)
    items = [UserOut.model_validate(user) for user in users]
    return UserPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/{user_id}")
async def get_account(user_id: uuid.UUID, session: SessionDep, _admin: AdminUser) -> UserOut:
    """Return one user."""
    return UserOut.model_validate(await get_user(session, user_id))


@router.patch("/{user_id}")
async def update_account(
    user_id: uuid.UUID, changes: UserUpdate, session: SessionDep, admin: AdminUser
) -> UserOut:
    """Change a user's role, active flag or display name."""
    return UserOut.model_validate(await update_user(session, admin, user_id, changes))


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def deactivate_account(user_id: uuid.UUID, session: SessionDep, admin: AdminUser) -> Response:
    """Deactivate a user (accounts are never hard-deleted; see souk_auth.administration)."""
    await deactivate_user(session, admin, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
