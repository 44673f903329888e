"""Alembic integration: every service keeps its migrations in ``<package>/migrations``.

A service's ``env.py`` is two lines that call :func:`run_alembic_env` with its metadata.
:func:`upgrade_to_head` applies migrations programmatically (the service's ``migrate``
command, the local stack and the tests use it), and :func:`pending_migrations` backs the
readiness check.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from importlib import resources
from typing import Any

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def migrations_location(package: str) -> str:
    """Return the filesystem path of ``<package>/migrations``."""
    return str(resources.files(package).joinpath("migrations"))


def alembic_config(package: str, url: str) -> Config:
    """Return an Alembic config for ``package``'s migrations against ``url``."""
    config = Config()
    config.set_main_option("script_location", migrations_location(package))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade_to_head(package: str, url: str) -> None:
    """Apply every pending migration of ``package`` to the database at ``url``."""
    config = alembic_config(package, url)
    # env.py runs its own event loop, so run Alembic in a worker thread.
    await asyncio.to_thread(command.upgrade, config, "head")


@lru_cache(maxsize=16)
def _script_heads(package: str) -> frozenset[str]:
    script = ScriptDirectory(migrations_location(package))
    return frozenset(script.get_heads())


async def pending_migrations(engine: AsyncEngine, package: str) -> bool:
    """Return True when the database is not at ``package``'s migration head."""

    def current_heads(connection: Connection) -> frozenset[str]:
        return frozenset(MigrationContext.configure(connection).get_current_heads())

    async with engine.connect() as connection:
        heads = await connection.run_sync(current_heads)
    return heads != _script_heads(package)


async def schema_drift(url: str, metadata: MetaData) -> list[Any]:
    """Return Alembic's differences between the database at ``url`` and ``metadata``.

    Empty when the migrations create exactly what the models describe; each service's test
    suite asserts that, so the models and the migrations cannot drift apart unnoticed.
    """
    from alembic.autogenerate import compare_metadata

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


# Key of the transaction-scoped advisory lock that serializes migrations per database, so
# several replicas (or init containers) starting at once apply each revision exactly once.
MIGRATION_LOCK_KEY = 0x50_55_4B_4D  # "SOUKM"-ish; any constant shared by every runner works


def _run_sync_migrations(connection: Connection, metadata: MetaData) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        # Taken before Alembic reads the version table: a runner that waited sees the new head.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()


async def _run_async_migrations(url: str, metadata: MetaData) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync_migrations, metadata)
            await connection.commit()
    finally:
        await engine.dispose()


def run_alembic_env(metadata: MetaData, **_: Any) -> None:
    """Body of every service's ``env.py``: run migrations online over asyncpg."""
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("sqlalchemy.url is not set in the Alembic config")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_async_migrations(url, metadata))
