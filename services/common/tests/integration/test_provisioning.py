"""Provisioning against real PostgreSQL and Redis: databases, roles, passwords and streams.

The shared server trusts local connections, so a login there proves nothing about a password:
password tests read ``pg_authid`` and cross-check with PostgreSQL's own verifiers, and a
throwaway cluster with ``scram-sha-256`` authentication (started by ``initdb``/``pg_ctl``)
proves that the role logs in with its password and only with it.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from redis.asyncio import Redis

from souk_common.provisioning import (
    InvalidNameError,
    PermanentProvisioningError,
    StreamGroup,
    TemporaryProvisioningError,
    database_name,
    describe_service_database,
    drop_service_database,
    ensure_service_database,
    ensure_streams,
    missing_groups,
    scram_sha256_matches,
    service_credentials,
)
from souk_common.testing import PG_ADMIN_URL
from souk_contracts.topology import subscriptions


def with_user(dsn: str, user: str, password: str | None = None) -> str:
    """Return ``dsn`` connecting as ``user`` (with ``password``)."""
    parts = urlsplit(dsn)
    auth = f"{user}:{password}" if password else user
    return urlunsplit(parts._replace(netloc=f"{auth}@{parts.netloc.rpartition('@')[2]}"))


async def stored_verifier(name: str) -> str | None:
    connection = await asyncpg.connect(PG_ADMIN_URL)
    try:
        value = await connection.fetchval(
            "SELECT rolpassword FROM pg_authid WHERE rolname=$1", name
        )
        return None if value is None else str(value)
    finally:
        await connection.close()


async def admin_execute(*statements: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_URL)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
async def names() -> AsyncIterator[list[str]]:
    """Unique service database names; whatever a test created under them is dropped after."""
    run = f"souktest_{uuid.uuid4().hex[:8]}"
    made = [database_name(run, service) for service in ("catalog", "orders")]
    try:
        yield made
    finally:
        for name in made:
            await drop_service_database(PG_ADMIN_URL, name)


@pytest.fixture
async def limited_admin() -> AsyncIterator[str]:
    """A DSN for a non-superuser admin with CREATEDB and CREATEROLE (as managed clouds give)."""
    role = f"souktest_admin_{uuid.uuid4().hex[:8]}"
    await admin_execute(f'CREATE ROLE "{role}" LOGIN CREATEDB CREATEROLE')
    try:
        yield with_user(PG_ADMIN_URL, role)
    finally:
        await admin_execute(f'DROP ROLE IF EXISTS "{role}"')


async def test_ensure_creates_a_role_that_owns_and_uses_its_database(names):
    name, other = names
    result = await ensure_service_database(PG_ADMIN_URL, name, "first-password")
    assert result.changed
    assert f"created role {name}" in result.actions
    assert f"created database {name}" in result.actions

    status = await describe_service_database(PG_ADMIN_URL, name)
    assert (status.role_exists, status.role_can_login, status.database_exists) == (True,) * 3
    assert status.owner == name

    credentials = service_credentials(PG_ADMIN_URL, name, "first-password")
    connection = await asyncpg.connect(credentials.database_url)
    try:
        await connection.execute("CREATE TABLE products (id int PRIMARY KEY, name text)")
        await connection.execute("INSERT INTO products VALUES (1, 'lamp')")
        assert await connection.fetchval("SELECT name FROM products") == "lamp"
        assert await connection.fetchval("SELECT current_user") == name
        assert not await connection.fetchval(
            "SELECT rolsuper OR rolcreatedb OR rolcreaterole FROM pg_roles"
            " WHERE rolname = current_user"
        )
    finally:
        await connection.close()

    await ensure_service_database(PG_ADMIN_URL, other, "other-password")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied for database"):
        await asyncpg.connect(with_user(credentials.database_url, other))


async def test_a_second_ensure_changes_nothing(names):
    name = names[0]
    await ensure_service_database(PG_ADMIN_URL, name, "same-password")
    before = await stored_verifier(name)
    again = await ensure_service_database(PG_ADMIN_URL, name, "same-password")
    assert (again.changed, again.actions) == (False, [])
    assert await stored_verifier(name) == before  # not even re-salted


async def test_a_new_password_is_applied(names):
    name = names[0]
    await ensure_service_database(PG_ADMIN_URL, name, "old-password")
    result = await ensure_service_database(PG_ADMIN_URL, name, "new-password")
    assert result.actions == [f"changed password of role {name}"]
    stored = await stored_verifier(name)
    assert scram_sha256_matches(stored, "new-password")
    assert not scram_sha256_matches(stored, "old-password")


@pytest.mark.parametrize(
    ("set_by_postgres", "ensured"),
    [("plain-ascii", "plain-ascii"), ("pässwörd", "pässwörd"), ("a\u00a0b\u00ad", "a b")],
)
async def test_a_password_postgresql_hashed_itself_is_recognised(names, set_by_postgres, ensured):
    name = names[0]
    await ensure_service_database(PG_ADMIN_URL, name, "initial")
    literal = set_by_postgres.replace("'", "''")
    connection = await asyncpg.connect(PG_ADMIN_URL)
    try:
        async with connection.transaction():
            await connection.execute("SET LOCAL password_encryption = 'scram-sha-256'")
            await connection.execute(f"ALTER ROLE \"{name}\" PASSWORD '{literal}'")
    finally:
        await connection.close()
    assert scram_sha256_matches(await stored_verifier(name), ensured)
    again = await ensure_service_database(PG_ADMIN_URL, name, ensured)
    assert (again.changed, again.actions) == (False, [])


async def test_drifted_role_attributes_are_reset(names):
    name = names[0]
    await ensure_service_database(PG_ADMIN_URL, name, "pw")
    await admin_execute(f'ALTER ROLE "{name}" NOLOGIN CREATEDB')
    result = await ensure_service_database(PG_ADMIN_URL, name, "pw")
    assert result.actions == [f"reset attributes of role {name}: NOCREATEDB LOGIN"]
    assert (await describe_service_database(PG_ADMIN_URL, name)).role_can_login


async def test_connect_restrictions_are_restored(names):
    name = names[0]
    await ensure_service_database(PG_ADMIN_URL, name, "pw")
    await admin_execute(f'GRANT CONNECT ON DATABASE "{name}" TO PUBLIC')
    result = await ensure_service_database(PG_ADMIN_URL, name, "pw")
    assert result.actions == [f"revoked CONNECT on database {name} from PUBLIC"]


async def test_concurrent_ensures_both_succeed_and_create_once(names):
    name = names[0]
    results = await asyncio.gather(
        *(ensure_service_database(PG_ADMIN_URL, name, "pw") for _ in range(3))
    )
    actions = [action for result in results for action in result.actions]
    assert actions.count(f"created role {name}") == 1
    assert actions.count(f"created database {name}") == 1


async def test_drop_removes_database_and_role_even_with_open_sessions(names):
    name = names[0]
    await ensure_service_database(PG_ADMIN_URL, name, "pw")
    session = await asyncpg.connect(service_credentials(PG_ADMIN_URL, name, "pw").database_url)
    try:
        result = await drop_service_database(PG_ADMIN_URL, name)
    finally:
        session.terminate()
    assert result.actions == [f"dropped database {name}", f"dropped role {name}"]
    status = await describe_service_database(PG_ADMIN_URL, name)
    assert (status.role_exists, status.database_exists, status.owner) == (False, False, None)
    again = await drop_service_database(PG_ADMIN_URL, name)
    assert (again.changed, again.actions) == (False, [])


async def test_a_non_superuser_admin_can_provision_and_drop(names, limited_admin):
    name = names[0]
    result = await ensure_service_database(limited_admin, name, "pw")
    assert f"created database {name}" in result.actions
    assert (await describe_service_database(PG_ADMIN_URL, name)).owner == name
    assert scram_sha256_matches(await stored_verifier(name), "pw")
    # It cannot read pg_authid, so it can only set the password again (and says so).
    again = await ensure_service_database(limited_admin, name, "pw")
    assert len(again.actions) == 1
    assert "cannot read pg_authid" in again.actions[0]
    dropped = await drop_service_database(limited_admin, name)
    assert dropped.actions == [f"dropped database {name}", f"dropped role {name}"]


async def test_an_admin_without_createrole_gets_a_permanent_error_saying_so(names):
    role = f"souktest_weak_{uuid.uuid4().hex[:8]}"
    await admin_execute(f'CREATE ROLE "{role}" LOGIN CREATEDB')
    try:
        with pytest.raises(PermanentProvisioningError, match="CREATEROLE"):
            await ensure_service_database(with_user(PG_ADMIN_URL, role), names[0], "pw")
    finally:
        await admin_execute(f'DROP ROLE "{role}"')
    assert not (await describe_service_database(PG_ADMIN_URL, names[0])).role_exists


async def test_the_admins_own_role_is_refused(limited_admin):
    own = urlsplit(limited_admin).username or ""
    with pytest.raises(PermanentProvisioningError, match="own role"):
        await ensure_service_database(limited_admin, own, "pw")
    with pytest.raises(InvalidNameError):
        await ensure_service_database(PG_ADMIN_URL, "postgres", "pw")


async def test_an_unreachable_server_is_a_temporary_error():
    with pytest.raises(TemporaryProvisioningError, match="unreachable") as raised:
        await ensure_service_database(
            "postgresql://admin:topsecret@127.0.0.1:1/postgres", "souktest_x", "pw"
        )
    assert "topsecret" not in str(raised.value)


# --- a throwaway cluster that really checks passwords -------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def scram_cluster() -> Iterator[str]:
    """Start a PostgreSQL with ``scram-sha-256`` on 127.0.0.1; yield its superuser DSN."""
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        pytest.skip("no pg_config on PATH to find initdb for a password-checking cluster")
    bindir = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout.strip()
    initdb, pg_ctl = Path(bindir, "initdb"), Path(bindir, "pg_ctl")
    if not (initdb.exists() and pg_ctl.exists()):
        pytest.skip("no initdb/pg_ctl (pg_config --bindir) to start a password-checking cluster")
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root without a 'postgres' user to start PostgreSQL as")
        if not shutil.which("runuser"):
            pytest.skip("running as root without runuser to start PostgreSQL as 'postgres'")
        as_user = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="souk-scram-"))
    password, port = uuid.uuid4().hex, _free_port()
    (base / "pw").write_text(password)
    if as_user:
        shutil.chown(base, "postgres")
        shutil.chown(base / "pw", "postgres")
    data = base / "data"
    run = [*as_user, str(initdb), "-D", str(data), "-A", "scram-sha-256", "-U", "admin"]
    subprocess.run([*run, f"--pwfile={base / 'pw'}", "-N"], check=True, capture_output=True)
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = [*as_user, str(pg_ctl), "-D", str(data), "-l", str(base / "log"), "-w", "-o", options]
    subprocess.run([*start, "start"], check=True, capture_output=True)
    try:
        yield f"postgresql://admin:{password}@127.0.0.1:{port}/postgres"
    finally:
        stop = [*as_user, str(pg_ctl), "-D", str(data), "-m", "immediate", "stop"]
        subprocess.run(stop, check=False, capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


async def test_with_password_authentication_only_the_ensured_password_logs_in(scram_cluster):
    name = f"souktest_{uuid.uuid4().hex[:8]}_auth"
    odd = "p@ss:w/o rd%?#&'\"é\\"
    try:
        await ensure_service_database(scram_cluster, name, odd)
        url = service_credentials(scram_cluster, name, odd).database_url
        connection = await asyncpg.connect(url)
        assert await connection.fetchval("SELECT current_user") == name
        await connection.close()
        await ensure_service_database(scram_cluster, name, "rotated")
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(url)
        rotated = service_credentials(scram_cluster, name, "rotated").database_url
        await (await asyncpg.connect(rotated)).close()
        again = await ensure_service_database(scram_cluster, name, "rotated")
        assert not again.changed
    finally:
        await drop_service_database(scram_cluster, name)


async def test_a_wrong_admin_password_is_a_permanent_error(scram_cluster):
    bad = with_user(scram_cluster, "admin", "not-the-password")
    with pytest.raises(PermanentProvisioningError, match="refused the admin credentials") as raised:
        await ensure_service_database(bad, "souktest_never", "pw")
    assert "not-the-password" not in str(raised.value)


# --- Redis streams -------------------------------------------------------------------------


async def group_info(redis: Redis, stream: str) -> dict[str, dict[str, object]]:
    groups = await redis.xinfo_groups(stream)
    return {group["name"].decode(): group for group in groups}


async def test_ensure_streams_creates_groups_and_empty_dead_letter_streams(
    redis_client, redis_prefix
):
    plan = subscriptions()
    result = await ensure_streams(redis_client, redis_prefix, plan)
    assert result.changed
    for group, producers in plan.items():
        for producer in producers:
            groups = await group_info(redis_client, f"{redis_prefix}{producer}.events")
            assert group in groups
        dead_letters = f"{redis_prefix}dlq.{group}"
        assert await redis_client.type(dead_letters) == b"stream"
        assert await redis_client.xlen(dead_letters) == 0
        assert await redis_client.xinfo_groups(dead_letters) == []
    assert await missing_groups(redis_client, redis_prefix, plan) == []
    again = await ensure_streams(redis_client, redis_prefix, plan)
    assert (again.changed, again.actions) == (False, [])


async def test_a_new_group_reads_events_published_before_it_existed(redis_client, redis_prefix):
    stream = f"{redis_prefix}orders.events"
    early = await redis_client.xadd(stream, {"type": "order.placed"})
    await ensure_streams(redis_client, redis_prefix, {"catalog": ["orders"]})
    delivered = await redis_client.xreadgroup("catalog", "c1", {stream: ">"}, count=10)
    assert [entry_id for _, entries in delivered for entry_id, _ in entries] == [early]


async def test_a_group_deleted_by_hand_is_reported_and_recreated(redis_client, redis_prefix):
    plan = subscriptions()
    await ensure_streams(redis_client, redis_prefix, plan)
    stream = f"{redis_prefix}payments.events"
    await redis_client.xgroup_destroy(stream, "orders")
    assert await missing_groups(redis_client, redis_prefix, plan) == [StreamGroup(stream, "orders")]
    result = await ensure_streams(redis_client, redis_prefix, plan)
    assert result.actions == [f"created consumer group orders on {stream} from id 0"]
    assert await missing_groups(redis_client, redis_prefix, plan) == []


async def test_missing_streams_mean_missing_groups(redis_client, redis_prefix):
    missing = await missing_groups(redis_client, redis_prefix, {"catalog": ["orders"]})
    assert missing == [StreamGroup(f"{redis_prefix}orders.events", "catalog")]


async def test_a_key_of_another_type_is_a_permanent_error(redis_client, redis_prefix):
    await redis_client.set(f"{redis_prefix}dlq.catalog", "oops")
    with pytest.raises(PermanentProvisioningError, match="not a stream"):
        await ensure_streams(redis_client, redis_prefix, {"catalog": ["orders"]})
    await redis_client.set(f"{redis_prefix}orders.events", "oops")
    with pytest.raises(PermanentProvisioningError, match="not a stream"):
        await ensure_streams(redis_client, redis_prefix, {"catalog": ["orders"]})


async def test_an_unreachable_redis_is_a_temporary_error():
    redis = Redis.from_url("redis://127.0.0.1:1/0")
    try:
        with pytest.raises(TemporaryProvisioningError):
            await ensure_streams(redis, "x:", {"catalog": ["orders"]})
    finally:
        await redis.aclose()
