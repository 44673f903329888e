"""Database tables of the auth service (SQLAlchemy 2 declarative, typed with ``Mapped``).

Emails are stored lower-cased and unique on ``lower(email)`` so uniqueness holds even if a
row were ever written without normalisation. Refresh tokens are stored only as the SHA-256
of the opaque token: a database leak yields nothing that can be presented.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from souk_common.events.tables import event_tables


class Base(DeclarativeBase):
    """Declarative base of the auth models (one metadata with the event tables).

    No naming convention: the shared event tables are created by souk_common with
    PostgreSQL's default constraint names, and a convention here would make the metadata
    disagree with the database (``test_models_and_migrations_agree`` checks this).
    """

    metadata = MetaData()


class User(Base):
    """An account: buyer, seller or admin."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('buyer', 'seller', 'admin')", name="ck_users_role"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


# Uniqueness is case-insensitive; lookups use ``lower(email)`` so they hit this index.
Index("ux_users_email_lower", func.lower(User.email), unique=True)


class RefreshToken(Base):
    """One issued refresh token; tokens rotated from one login share a ``family_id``."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # SHA-256 (hex) of the opaque token; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replaced_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("refresh_tokens.id", ondelete="SET NULL")
    )


class SigningKeyRow(Base):
    """A token signing key; at most one is ``active`` (it signs), others only verify."""

    __tablename__ = "signing_keys"
    __table_args__ = (
        Index(
            "ux_signing_keys_one_active",
            "active",
            unique=True,
            postgresql_where=text("active"),
        ),
    )

    # RFC 7638 thumbprint of the public key.
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    # PKCS#8 PEM of a key auth generated itself; NULL for a key supplied by configuration
    # (the Secret stays its only home).
    private_key_pem: Mapped[str | None] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # After this moment the key is no longer published (tokens it signed have expired).
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


tables = event_tables(Base.metadata)
