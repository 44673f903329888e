r"""PostgreSQL adapter: one login role and one database of the same name per service.

Every function opens its own connection from an admin DSN (a role with CREATEDB and
CREATEROLE; a superuser works too), converges the server on the desired state and says what
it changed. Runs are serialized per name with a session advisory lock, and a
``duplicate_object``/``duplicate_database`` (or the catalog's ``unique_violation``) from a
peer that does not take it counts as "exists".

Passwords travel as SCRAM-SHA-256 verifiers computed here (what ``psql``'s ``\\password``
does), so the plaintext never reaches the server, its statement logs or ``pg_stat_activity``.
A superuser can read ``pg_authid``, so an unchanged password is left alone; a non-superuser
admin cannot compare and sets it on every run (reported as an action).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

from souk_common.provisioning.plan import (
    PermanentProvisioningError,
    ProvisioningError,
    ProvisionResult,
    TemporaryProvisioningError,
    redact_dsn,
    scram_sha256_matches,
    scram_sha256_verifier,
    validate_identifier,
)

APPLICATION_NAME = "souk-provisioning"
# SQLSTATE classes worth a retry: connection, rollback (deadlock, serialization), resources,
# object in use / lock not available, operator intervention (shutdown, cancel), system error.
_TEMPORARY_CLASSES = ("08", "40", "53", "55", "57", "58")
_ADMIN_HINT = "give the admin role CREATEDB and CREATEROLE (or use a superuser)"
_DRIVER_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
# (pg_roles column, value that is wrong for a service role, the ALTER ROLE option fixing it)
_ROLE_FIXES = (
    ("rolsuper", True, "NOSUPERUSER"),
    ("rolcreatedb", True, "NOCREATEDB"),
    ("rolcreaterole", True, "NOCREATEROLE"),
    ("rolcanlogin", False, "LOGIN"),
)


@dataclass(frozen=True)
class DatabaseStatus:
    """What the server holds for one service name, for an operator's status."""

    name: str
    role_exists: bool
    role_can_login: bool
    database_exists: bool
    owner: str | None


def quote_ident(name: str) -> str:
    """Return ``name`` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """Return ``value`` as a SQL string literal, like PostgreSQL's ``quote_literal``."""
    if "\x00" in value:
        raise ValueError("a SQL literal cannot contain NUL")
    escaped = value.replace("'", "''")
    return f"E'{escaped.replace(chr(92), chr(92) * 2)}'" if "\\" in value else f"'{escaped}'"


def _translate(error: Exception, admin_dsn: str) -> ProvisioningError:
    """Map a driver or network error on the admin DSN to a temporary or permanent one."""
    where = f"PostgreSQL at {redact_dsn(admin_dsn)}"
    if isinstance(error, OSError | TimeoutError | asyncpg.InterfaceError):
        reason = str(error) or type(error).__name__
        return TemporaryProvisioningError(f"{where} is unreachable or timed out: {reason}")
    sqlstate = getattr(error, "sqlstate", None) or ""
    if sqlstate.startswith(_TEMPORARY_CLASSES) or "concurrently" in str(error):
        return TemporaryProvisioningError(f"{where} failed temporarily: {error}")
    if sqlstate.startswith("28"):
        return PermanentProvisioningError(f"{where} refused the admin credentials: {error}")
    if sqlstate == "42501":
        return PermanentProvisioningError(f"{where} denied a privilege ({error}): {_ADMIN_HINT}")
    return PermanentProvisioningError(f"{where} failed: {error}")


@asynccontextmanager
async def _connect(
    admin_dsn: str, command_timeout: float, database: str | None = None
) -> AsyncIterator[asyncpg.Connection]:
    """Yield an admin connection; every error inside becomes a :class:`ProvisioningError`."""
    try:
        connection = await asyncpg.connect(
            admin_dsn,
            database=database,
            timeout=command_timeout,
            command_timeout=command_timeout,
            server_settings={"application_name": APPLICATION_NAME},
        )
    except _DRIVER_ERRORS as error:
        raise _translate(error, admin_dsn) from error
    try:
        yield connection
    except _DRIVER_ERRORS as error:
        raise _translate(error, admin_dsn) from error
    finally:
        try:
            await connection.close(timeout=command_timeout)
        except _DRIVER_ERRORS:
            connection.terminate()


async def _lock(connection: asyncpg.Connection, name: str) -> None:
    """Wait for this name's advisory lock (released when the connection closes)."""
    await connection.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", f"souk:{name}")


async def _check_admin(connection: asyncpg.Connection, name: str) -> bool:
    """Refuse an admin that cannot provision (or is ``name`` itself); return ``is superuser``."""
    row = await connection.fetchrow(
        "SELECT current_user AS me, current_database() AS db, rolsuper, rolcreatedb,"
        " rolcreaterole FROM pg_roles WHERE rolname = current_user"
    )
    assert row is not None
    if name in (row["me"], row["db"]):
        raise PermanentProvisioningError(
            f"{name!r} is the admin connection's own role or database; provision another name"
        )
    if not row["rolsuper"] and not (row["rolcreatedb"] and row["rolcreaterole"]):
        raise PermanentProvisioningError(
            f"admin role {row['me']!r} cannot provision: {_ADMIN_HINT}"
        )
    return bool(row["rolsuper"])


async def _ensure_role(
    connection: asyncpg.Connection, name: str, password: str, superuser: bool
) -> list[str]:
    """Create the login role, or reset its attributes and password where they differ."""
    role, verifier = quote_ident(name), quote_literal(scram_sha256_verifier(password))
    sql = "SELECT rolsuper, rolcreatedb, rolcreaterole, rolcanlogin FROM pg_roles WHERE rolname=$1"
    row = await connection.fetchrow(sql, name)
    if row is None:
        try:
            await connection.execute(
                f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {verifier}"
            )
            return [f"created role {name}"]
        except (asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):  # a racing peer
            row = await connection.fetchrow(sql, name)
            assert row is not None
    if row["rolsuper"] and not superuser:
        raise PermanentProvisioningError(
            f"role {name} exists and is a superuser; only a superuser admin can take it over"
        )
    actions: list[str] = []
    fixes = [option for column, wrong, option in _ROLE_FIXES if row[column] == wrong]
    if fixes:
        await connection.execute(f"ALTER ROLE {role} {' '.join(fixes)}")
        actions.append(f"reset attributes of role {name}: {' '.join(fixes)}")
    try:
        stored = await connection.fetchval(
            "SELECT rolpassword FROM pg_authid WHERE rolname=$1", name
        )
    except asyncpg.InsufficientPrivilegeError:
        await connection.execute(f"ALTER ROLE {role} PASSWORD {verifier}")
        return [*actions, f"set password of role {name} (admin cannot read pg_authid to compare)"]
    if not scram_sha256_matches(stored, password):
        await connection.execute(f"ALTER ROLE {role} PASSWORD {verifier}")
        actions.append(f"changed password of role {name}")
    return actions


async def _ensure_database(connection: asyncpg.Connection, name: str, superuser: bool) -> list[str]:
    """Create the database owned by the role (or hand it over), then restrict CONNECT to it."""
    actions: list[str] = []
    ident = quote_ident(name)
    if not superuser and not await connection.fetchval(
        "SELECT pg_has_role(current_user, $1, 'USAGE')", name
    ):  # a non-superuser may only create, own or drop databases of roles it belongs to
        await connection.execute(f"GRANT {ident} TO CURRENT_USER")
        actions.append(f"granted role {name} to the admin role")
    sql = "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1"
    owner = await connection.fetchval(sql, name)
    if owner is None:
        try:
            await connection.execute(f"CREATE DATABASE {ident} OWNER {ident}")
            actions.append(f"created database {name}")
            owner = name
        except (asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):  # a racing peer
            owner = await connection.fetchval(sql, name)
    if owner != name:
        await connection.execute(f"ALTER DATABASE {ident} OWNER TO {ident}")
        actions.append(f"changed owner of database {name} from {owner} to {name}")
    acl = await connection.fetchrow(
        "SELECT coalesce(bool_or(a.grantee = 0), false) AS public,"
        " coalesce(bool_or(a.grantee = r.oid), false) AS role"
        " FROM pg_database d JOIN pg_roles r ON r.rolname = d.datname,"
        " aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a"
        " WHERE d.datname = $1 AND a.privilege_type = 'CONNECT'",
        name,
    )
    if acl is None or acl["public"]:
        await connection.execute(f"REVOKE CONNECT ON DATABASE {ident} FROM PUBLIC")
        actions.append(f"revoked CONNECT on database {name} from PUBLIC")
    if acl is None or not acl["role"]:
        await connection.execute(f"GRANT CONNECT ON DATABASE {ident} TO {ident}")
        actions.append(f"granted CONNECT on database {name} to role {name}")
    return actions


async def _ensure_public_schema(connection: asyncpg.Connection, name: str) -> list[str]:
    """Let the owner create in schema ``public`` whatever the template made of it."""
    row = await connection.fetchrow(
        "SELECT has_schema_privilege($1, oid, 'CREATE') AND has_schema_privilege($1, oid, 'USAGE')"
        " AS ok FROM pg_namespace WHERE nspname = 'public'",
        name,
    )
    ident = quote_ident(name)
    if row is None:
        await connection.execute(f"CREATE SCHEMA public AUTHORIZATION {ident}")
        return [f"created schema public in database {name}"]
    if not row["ok"]:
        await connection.execute(f"ALTER SCHEMA public OWNER TO {ident}")
        return [f"made role {name} owner of schema public in database {name}"]
    return []


async def ensure_service_database(
    admin_dsn: str, name: str, password: str, *, command_timeout: float = 30.0
) -> ProvisionResult:
    """Converge on role ``name`` (LOGIN, ``password``) owning database ``name``; idempotent."""
    validate_identifier(name)
    async with _connect(admin_dsn, command_timeout) as connection:
        await _lock(connection, name)
        superuser = await _check_admin(connection, name)
        actions = await _ensure_role(connection, name, password, superuser)
        actions += await _ensure_database(connection, name, superuser)
        async with _connect(admin_dsn, command_timeout, database=name) as in_database:
            actions += await _ensure_public_schema(in_database, name)
    return ProvisionResult.from_actions(actions)


async def drop_service_database(
    admin_dsn: str, name: str, *, command_timeout: float = 30.0
) -> ProvisionResult:
    """Drop database ``name`` (ending its sessions) and role ``name``; idempotent."""
    validate_identifier(name)
    actions: list[str] = []
    async with _connect(admin_dsn, command_timeout) as connection:
        await _lock(connection, name)
        await _check_admin(connection, name)
        ident = quote_ident(name)
        if await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f"DROP DATABASE IF EXISTS {ident} WITH (FORCE)")
            actions.append(f"dropped database {name}")
        if await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", name):
            try:
                await connection.execute(f"DROP ROLE IF EXISTS {ident}")
            except asyncpg.DependentObjectsStillExistError as error:
                raise PermanentProvisioningError(
                    f"role {name} still owns objects or holds privileges elsewhere ({error});"
                    f" run REASSIGN OWNED BY {ident} / DROP OWNED BY {ident} where it does"
                ) from error
            actions.append(f"dropped role {name}")
    return ProvisionResult.from_actions(actions)


async def describe_service_database(
    admin_dsn: str, name: str, *, command_timeout: float = 30.0
) -> DatabaseStatus:
    """Return whether role and database ``name`` exist, and who owns the database."""
    validate_identifier(name)
    async with _connect(admin_dsn, command_timeout) as connection:
        row = await connection.fetchrow(
            "SELECT (SELECT rolcanlogin FROM pg_roles WHERE rolname = $1) AS login,"
            " (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1) AS owner,"
            " EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS db",
            name,
        )
    assert row is not None
    return DatabaseStatus(
        name=name,
        role_exists=row["login"] is not None,
        role_can_login=bool(row["login"]),
        database_exists=bool(row["db"]),
        owner=row["owner"],
    )
