"""What a marketplace needs underneath, as pure functions: names, secrets, streams, credentials.

Nothing here performs I/O, so the local stack and the operator compute the same plan and it
is unit-tested without servers; :mod:`.postgres` and :mod:`.streams` carry it out. The SCRAM
functions let the PostgreSQL adapter send a password as a verifier (the plaintext never
reaches the server, its logs or ``pg_stat_activity``) and compare a role's stored verifier
with the desired password, so a second "ensure" changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import stringprep
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

from souk_common.streams import dead_letter_key, stream_key

SCRAM_ITERATIONS = 4096  # PostgreSQL's default (scram_iterations)
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# Names PostgreSQL refuses for roles even when quoted, and databases we must never claim.
_RESERVED = frozenset(
    {"public", "none", "current_user", "session_user", "current_role", "postgres",
     "template0", "template1"}
)  # fmt: skip
_VERIFIER = re.compile(
    r"SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)"
)


class ProvisioningError(Exception):
    """Base of every provisioning failure; ``str(error)`` is a message for the user."""


class TemporaryProvisioningError(ProvisioningError):
    """A failure that may go away (server unreachable, timeout, contention): retry later."""

    def __init__(self, message: str, *, retry_after: float = 10.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentProvisioningError(ProvisioningError):
    """A failure retrying will not fix; the message says what the user has to change."""


class InvalidNameError(PermanentProvisioningError, ValueError):
    """A database or role name that is not a safe PostgreSQL identifier."""


@dataclass(frozen=True)
class ProvisionResult:
    """What one ensure/drop run did: ``changed`` is False exactly when ``actions`` is empty."""

    changed: bool
    actions: list[str] = field(default_factory=list)

    @classmethod
    def from_actions(cls, actions: Iterable[str]) -> ProvisionResult:
        """Build a result whose ``changed`` flag follows from the actions taken."""
        taken = list(actions)
        return cls(changed=bool(taken), actions=taken)


def validate_identifier(name: str) -> str:
    """Return ``name`` if it is a safe lowercase identifier, else raise :class:`InvalidNameError`.

    PostgreSQL silently truncates names beyond 63 bytes, so longer ones are refused rather
    than risking two services sharing a truncated name; ``pg_`` names are reserved for roles.
    """
    if not _IDENTIFIER.fullmatch(name):
        raise InvalidNameError(
            f"{name!r} is not a valid database/role name: use 1 to 63 characters from a-z, "
            "0-9 and _, not starting with a digit"
        )
    if name.startswith("pg_") or name in _RESERVED:
        raise InvalidNameError(f"{name!r} is reserved by PostgreSQL and cannot be provisioned")
    return name


def database_name(marketplace_or_prefix: str, service: str) -> str:
    """Return the database (and role) name of a service: ``shop`` + ``catalog`` → ``shop_catalog``.

    Accepts a marketplace name (``my-shop``; ``-`` becomes ``_``) or a stream prefix
    (``shop:``); an empty one yields the bare service name, as the local stack may use.
    """
    base = marketplace_or_prefix.removesuffix(":").replace("-", "_")
    return validate_identifier(f"{base}_{service}" if base else service)


def generate_password(nbytes: int = 32) -> str:
    """Return a new random URL-safe password (``nbytes`` of entropy, 43 characters by default)."""
    return secrets.token_urlsafe(max(nbytes, 24))


@dataclass(frozen=True, order=True)
class StreamGroup:
    """One consumer group on one producer stream."""

    stream: str
    group: str


def desired_streams(prefix: str, subscriptions: Mapping[str, Iterable[str]]) -> list[StreamGroup]:
    """Return every (producer stream, consumer group) pair of ``{group: producers}``, sorted."""
    return sorted(
        {
            StreamGroup(stream_key(prefix, producer), group)
            for group, producers in subscriptions.items()
            for producer in producers
        }
    )


def dead_letter_streams(prefix: str, groups: Iterable[str]) -> dict[str, str]:
    """Return ``{group: dead-letter stream key}`` for consumer groups (or a subscriptions map)."""
    return {group: dead_letter_key(prefix, group) for group in sorted(groups)}


def marketplace_stream_keys(prefix: str, services: Iterable[str]) -> list[str]:
    """Return every stream key services may own: their event streams and their dead letters."""
    names = sorted(set(services))
    return [stream_key(prefix, s) for s in names] + [dead_letter_key(prefix, s) for s in names]


@dataclass(frozen=True)
class ServiceCredentials:
    """How one service reaches its database; ``repr`` never shows the password."""

    database: str
    role: str
    password: str = field(repr=False)
    host: str
    port: int = 5432

    @property
    def database_url(self) -> str:
        """Return a ``postgresql://`` URL with user, password and database percent-encoded."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = f"{quote(self.role, safe='')}:{quote(self.password, safe='')}"
        return f"postgresql://{user}@{host}:{self.port}/{quote(self.database, safe='')}"

    def libpq_env(self) -> dict[str, str]:
        """Return the libpq variables ``PGHOST PGPORT PGDATABASE PGUSER PGPASSWORD``."""
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGDATABASE": self.database,
            "PGUSER": self.role,
            "PGPASSWORD": self.password,
        }

    def environment(self) -> dict[str, str]:
        """Return ``DATABASE_URL`` and the libpq variables: the content of a service's Secret."""
        return {"DATABASE_URL": self.database_url, **self.libpq_env()}


def service_credentials(
    admin_dsn: str, name: str, password: str, *, host: str | None = None, port: int | None = None
) -> ServiceCredentials:
    """Return credentials for database/role ``name`` on the admin DSN's server (or ``host``)."""
    parts = urlsplit(admin_dsn)
    socket_dir = parse_qs(parts.query).get("host", [None])[0]
    return ServiceCredentials(
        database=name,
        role=name,
        password=password,
        host=host or parts.hostname or socket_dir or "localhost",
        port=port or parts.port or 5432,
    )


def redact_dsn(dsn: str) -> str:
    """Return ``dsn`` with any password replaced by ``***``, fit for messages and logs."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = f"{parts.username or ''}:***@{parts.netloc.rpartition('@')[2]}"
    return urlunsplit(parts._replace(netloc=netloc))


def _saslprep(password: str) -> bytes:
    """Normalize a password as PostgreSQL does before SCRAM (RFC 4013 SASLprep).

    Like PostgreSQL's ``pg_saslprep`` caller, a password SASLprep refuses (prohibited or
    unassigned characters, bad bidirectional text) is used as its raw UTF-8 bytes.
    """
    raw = password.encode("utf-8")
    if password.isascii():
        return raw
    mapped = "".join(
        " " if stringprep.in_table_c12(c) else c for c in password if not stringprep.in_table_b1(c)
    )
    text = unicodedata.normalize("NFKC", mapped)
    prohibited = (
        stringprep.in_table_c12, stringprep.in_table_c21_c22, stringprep.in_table_c3,
        stringprep.in_table_c4, stringprep.in_table_c5, stringprep.in_table_c6,
        stringprep.in_table_c7, stringprep.in_table_c8, stringprep.in_table_c9,
        stringprep.in_table_a1,
    )  # fmt: skip
    if not text or any(check(c) for c in text for check in prohibited):
        return raw
    if any(stringprep.in_table_d1(c) for c in text) and (
        any(stringprep.in_table_d2(c) for c in text)
        or not (stringprep.in_table_d1(text[0]) and stringprep.in_table_d1(text[-1]))
    ):
        return raw
    return text.encode("utf-8")


def _scram_keys(password: str, salt: bytes, iterations: int) -> tuple[bytes, bytes]:
    """Return ``(StoredKey, ServerKey)`` of RFC 5802 for SHA-256."""
    salted = hashlib.pbkdf2_hmac("sha256", _saslprep(password), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return hashlib.sha256(client_key).digest(), server_key


def scram_sha256_verifier(
    password: str, *, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS
) -> str:
    """Return a PostgreSQL ``SCRAM-SHA-256$iter:salt$StoredKey:ServerKey`` verifier."""
    salt = secrets.token_bytes(16) if salt is None else salt
    stored_key, server_key = _scram_keys(password, salt, iterations)
    b64 = [base64.b64encode(part).decode("ascii") for part in (salt, stored_key, server_key)]
    return f"SCRAM-SHA-256${iterations}:{b64[0]}${b64[1]}:{b64[2]}"


def scram_sha256_matches(stored_verifier: str | None, password: str) -> bool:
    """Return True when ``password`` is the one a stored SCRAM-SHA-256 verifier was built from.

    Anything else (``NULL``, an MD5 hash, a malformed value) does not match, so the caller
    resets the password and the role converges on SCRAM.
    """
    match = _VERIFIER.fullmatch(stored_verifier or "")
    if match is None:
        return False
    try:
        iterations = int(match[1])
        salt, stored_key, server_key = (
            base64.b64decode(match[i], validate=True) for i in (2, 3, 4)
        )
    except (ValueError, binascii.Error):
        return False
    if iterations < 1:
        return False
    expected_stored, expected_server = _scram_keys(password, salt, iterations)
    stored_ok = hmac.compare_digest(expected_stored, stored_key)
    return hmac.compare_digest(expected_server, server_key) and stored_ok
