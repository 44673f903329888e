"""Categories, products (with a full-text search column), reservations, event outbox/inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

from souk_catalog.models import SEARCH_DOCUMENT
from souk_common.events.tables import create_event_tables, drop_event_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("slug", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column(
            "parent_id",
            sa.Uuid(),
            sa.ForeignKey("categories.id", ondelete="RESTRICT"),
            nullable=True,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_index("ix_categories_parent_id", "categories", ["parent_id"])
    op.create_table(
        "products",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("seller_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), sa.ForeignKey("categories.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_timestamps(),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "search", TSVECTOR(), sa.Computed(SEARCH_DOCUMENT, persisted=True), nullable=False
        ),
        sa.CheckConstraint("stock >= 0", name="ck_products_stock_non_negative"),
        sa.CheckConstraint("price > 0", name="ck_products_price_positive"),
    )
    op.create_index("ix_products_search", "products", ["search"], postgresql_using="gin")
    op.create_index("ix_products_created", "products", ["created_at", "id"])
    op.create_index("ix_products_price", "products", ["price", "id"])
    op.create_index("ix_products_seller", "products", ["seller_id", "created_at"])
    op.create_index("ix_products_category", "products", ["category_id"])
    op.create_table(
        "stock_orders",
        sa.Column("order_id", sa.Uuid(), primary_key=True),
        sa.Column("buyer_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        *_timestamps(),
    )
    op.create_table(
        "reservations",
        sa.Column(
            "order_id", sa.Uuid(), sa.ForeignKey("stock_orders.order_id"), primary_key=True
        ),
        sa.Column("product_id", sa.Uuid(), sa.ForeignKey("products.id"), primary_key=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        *_timestamps(),
    )
    op.create_index("ix_reservations_product_id", "reservations", ["product_id"])
    create_event_tables(op.get_bind())


def downgrade() -> None:
    drop_event_tables(op.get_bind())
    op.drop_table("reservations")
    op.drop_table("stock_orders")
    op.drop_table("products")
    op.drop_table("categories")
