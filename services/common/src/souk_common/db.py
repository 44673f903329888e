"""Async SQLAlchemy engine and session handling shared by every service.

One :class:`Database` per process, created in the app's lifespan (nothing connects at import
time) and kept on ``app.state.database``. Route handlers receive a session through
:data:`SessionDep`; the session commits when the handler returns and rolls back when it raises.

What must happen only once a transaction has committed (a business metric, a status
notification, waking the outbox relay) is registered with :func:`on_commit`: the one hook.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import ColumnElement, Table, delete, event, select, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

_ON_COMMIT = "souk_on_commit"


def on_commit(session: AsyncSession | Session, fn: Callable[[], object]) -> None:
    """Call ``fn()`` when, and only when, the session's transaction commits.

    Callbacks wait in the session's ``info`` and run in registration order right after the
    commit, on the event loop's thread (SQLAlchemy's ``after_commit`` fires on the sync session
    inside the async one); a rollback drops them. So a rolled-back or redelivered unit of work
    is never counted, announced or published twice. ``fn`` must be quick and must not raise:
    start a task for anything that does I/O.
    """
    session.info.setdefault(_ON_COMMIT, []).append(fn)


@event.listens_for(Session, "after_commit")
def _run_on_commit(session: Session) -> None:
    for fn in session.info.pop(_ON_COMMIT, ()):
        fn()


@event.listens_for(Session, "after_rollback")
def _drop_on_commit(session: Session) -> None:
    session.info.pop(_ON_COMMIT, None)


class Database:
    """An async engine and its session factory."""

    def __init__(
        self, url: str, *, pool_size: int = 10, max_overflow: int | None = None, echo: bool = False
    ) -> None:
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size // 2 if max_overflow is None else max_overflow,
            # No pre-ping: it costs a round trip on every checkout (every transaction). A
            # connection that died with the server fails its first use instead; SQLAlchemy
            # then invalidates the whole pool, and callers retry (consumers back off, HTTP
            # answers 503). Recycling bounds the age of idle connections.
            pool_pre_ping=False,
            pool_recycle=1800,
            # Keep bound values (password hashes, keys) out of error messages and logs.
            hide_parameters=True,
            echo=echo,
        )
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False
        )

    async def ping(self) -> None:
        """Run ``SELECT 1``; raises when the database is unreachable."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def sql_values(values: Iterable[str]) -> str:
    """Return ``values`` as a SQL list of literals (``'A', 'B'``), for a CHECK constraint.

    Only for values defined in code (a ``StrEnum``'s members), never for user input.
    """
    return ", ".join(f"'{value}'" for value in values)


def get_database(request: Request) -> Database:
    """Return the process's :class:`Database` from the app state."""
    database: Database = request.app.state.database
    return database


async def session_dependency(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield a session in a transaction that commits on success and rolls back on error."""
    database = get_database(request)
    async with database.sessions() as session, session.begin():
        yield session


# scope="function": the transaction commits before the response is sent, so a client that
# got 2xx can read its write, and a failing commit is answered with an error, not a 2xx.
SessionDep = Annotated[AsyncSession, Depends(session_dependency, scope="function")]


async def database_dependency(request: Request) -> Database:
    """Dependency: the process's :class:`Database`.

    ``async`` on purpose: FastAPI runs a plain ``def`` dependency in a worker thread.
    """
    return get_database(request)


DatabaseDep = Annotated[Database, Depends(database_dependency)]


async def delete_in_chunks(
    sessions: async_sessionmaker[AsyncSession],
    table: Table,
    key: ColumnElement[Any],
    condition: ColumnElement[bool],
    chunk: int = 5000,
) -> int:
    """Delete ``table``'s rows matching ``condition``, ``chunk`` rows per transaction.

    Bounded chunks keep each transaction (and its locks) short on a large table; ``key``
    is the column that identifies a row (the primary key). Returns how many were deleted.
    """
    deleted = 0
    while True:
        doomed = select(key).where(condition).limit(chunk).scalar_subquery()
        async with sessions() as session, session.begin():
            result = await session.execute(delete(table).where(key.in_(doomed)))
        count = int(getattr(result, "rowcount", 0) or 0)
        deleted += count
        if count < chunk:
            return deleted
