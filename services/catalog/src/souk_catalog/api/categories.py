"""``/api/catalog/categories``: the public category tree; admins add categories."""

from __future__ import annotations

from fastapi import APIRouter, status

from souk_catalog import service
from souk_catalog.schemas import CategoryCreate, CategoryOut
from souk_common.db import SessionDep
from souk_common.security import AdminUser

router = APIRouter(prefix="/api/catalog/categories", tags=["categories"])


@router.get("", response_model=list[CategoryOut])
async def list_categories(session: SessionDep) -> list[CategoryOut]:
    """List every category, top-level ones with their children."""
    return await service.list_categories(session)


@router.post("", response_model=CategoryOut, status_code=status.HTTP_201_CREATED)
async def create_category(body: CategoryCreate, _: AdminUser, session: SessionDep) -> CategoryOut:
    """Create a category (admin only)."""
    return await service.create_category(session, body)
