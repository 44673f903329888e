"""Migrations are serialized per database by an advisory lock, so replicas' init containers
starting at once apply each revision exactly once.

Runners are processes, as in Kubernetes (Alembic's ``context`` is process-global).
"""

import asyncio
import os
import sys

import asyncpg
import pytest

from souk_common.migrations import MIGRATION_LOCK_KEY


async def _migrate(database_url: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "souk_notifications",
        "migrate",
        env={**os.environ, "DATABASE_URL": database_url, "LOG_FORMAT": "json"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def test_a_runner_waits_while_another_holds_the_migration_lock(database_url):
    holder = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
        runner = await _migrate(database_url)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(runner.wait()), 6)
        assert await holder.fetchval("SELECT to_regclass('alembic_version')") is None
        await transaction.rollback()
        output, _ = await asyncio.wait_for(runner.communicate(), 60)
        assert runner.returncode == 0, output.decode()
        assert await holder.fetchval("SELECT count(*) FROM alembic_version") == 1
    finally:
        await holder.close()


async def test_concurrent_migrate_commands_all_succeed(database_url):
    runners = [await _migrate(database_url) for _ in range(3)]
    outputs = await asyncio.wait_for(asyncio.gather(*(r.communicate() for r in runners)), 120)

    for runner, (output, _) in zip(runners, outputs, strict=True):
        assert runner.returncode == 0, output.decode()
    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        assert await connection.fetchval("SELECT count(*) FROM alembic_version") == 1
    finally:
        await connection.close()
