"""A request's transaction commits before its response is sent.

Otherwise (FastAPI runs the code after a dependency's ``yield`` after the response by
default) a client could be told 201 for a write that then fails to commit, or read before
the write is visible.
"""

import asyncpg
import httpx
from asgi_lifespan import LifespanManager
from fastapi import APIRouter
from sqlalchemy import text

from souk_common.app import ServiceDefinition, create_service_app
from souk_common.db import SessionDep
from souk_common.settings import ServiceSettings
from souk_common.testing import service_test_settings

router = APIRouter()


@router.post("/twice", status_code=201)
async def insert_twice(session: SessionDep) -> dict[str, str]:
    # The unique constraint is deferred: both inserts pass, the COMMIT fails.
    await session.execute(text("INSERT INTO deferred_unique (id) VALUES (1), (1)"))
    return {"status": "created"}


async def test_a_commit_that_fails_is_answered_with_an_error(database_url, redis_prefix):
    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    await connection.execute(
        "CREATE TABLE deferred_unique (id int UNIQUE DEFERRABLE INITIALLY DEFERRED)"
    )
    settings = service_test_settings(
        ServiceSettings, database_url, redis_prefix, service_name="committest", run_workers=False
    )
    app = create_service_app(
        settings,
        ServiceDefinition(
            title="commit test", migrations_package="souk_notifications", routers=[router]
        ),
    )
    try:
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.post("/twice")
        assert response.status_code == 500
        assert await connection.fetchval("SELECT count(*) FROM deferred_unique") == 0
    finally:
        await connection.close()
