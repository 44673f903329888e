"""The provisioning plan: names, passwords, stream plans, connection settings and SCRAM."""

from __future__ import annotations

import base64
import hashlib
import hmac
import string
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy.engine import make_url

from souk_common.provisioning import (
    InvalidNameError,
    PermanentProvisioningError,
    ProvisionResult,
    ServiceCredentials,
    StreamGroup,
    database_name,
    dead_letter_streams,
    desired_streams,
    generate_password,
    marketplace_stream_keys,
    redact_dsn,
    scram_sha256_matches,
    scram_sha256_verifier,
    service_credentials,
    validate_identifier,
)
from souk_common.provisioning.postgres import quote_ident, quote_literal
from souk_contracts.topology import subscriptions

# Produced by PostgreSQL 15 itself: SET password_encryption = 'scram-sha-256';
# CREATE ROLE r PASSWORD 'correct horse battery staple'; SELECT rolpassword FROM pg_authid.
POSTGRES_VERIFIER = (
    "SCRAM-SHA-256$4096:0cRqzmq25HuHllTf08LBbg==$Dpcfqugw5z29PofQGDW4KxFOgGgt+UgBoRqSDgRXq/o="
    ":mqs5qMo4ljAErPFcrgdBlFMAta0HaKhqM+3jJbjw4hg="
)
ODD_PASSWORD = "p@ss:w/o rd%?#&'\"é\\+="


@pytest.mark.parametrize(
    ("marketplace", "service", "expected"),
    [
        ("shop", "catalog", "shop_catalog"),
        ("shop:", "orders", "shop_orders"),
        ("my-shop", "auth", "my_shop_auth"),
        ("", "payments", "payments"),
    ],
)
def test_database_name_joins_marketplace_and_service(marketplace, service, expected):
    assert database_name(marketplace, service) == expected


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Shop",
        "1shop",
        "shop-catalog",
        "shop.catalog",
        'a"b',
        "a;drop role postgres",
        "café",
        "a" * 64,
        "pg_catalog_x",
        "public",
        "postgres",
        "template1",
        "current_user",
    ],
)
def test_validate_identifier_rejects_unsafe_or_reserved_names(name):
    with pytest.raises(InvalidNameError):
        validate_identifier(name)


def test_validate_identifier_accepts_the_full_range():
    for name in ("_x", "a", "a" * 63, "shop_catalog_2"):
        assert validate_identifier(name) == name


def test_invalid_name_is_a_permanent_error_and_a_value_error():
    with pytest.raises(PermanentProvisioningError, match="1 to 63"):
        database_name("x" * 60, "catalog")
    assert issubclass(InvalidNameError, ValueError)


def test_generated_passwords_are_long_url_safe_and_unique():
    passwords = {generate_password() for _ in range(50)}
    assert len(passwords) == 50
    alphabet = set(string.ascii_letters + string.digits + "-_")
    assert all(len(p) >= 32 and set(p) <= alphabet for p in passwords)
    assert len(generate_password(4)) >= 32


def test_desired_streams_pair_every_producer_stream_with_its_consumer_group():
    plan = desired_streams("shop:", subscriptions())
    assert plan == sorted(plan)
    assert StreamGroup("shop:orders.events", "catalog") in plan
    assert StreamGroup("shop:auth.events", "notifications") in plan
    assert len(plan) == sum(len(p) for p in subscriptions().values()) == 8
    assert desired_streams("", {"g": ["a", "a"]}) == [StreamGroup("a.events", "g")]


def test_dead_letter_streams_name_one_per_consumer_group():
    assert dead_letter_streams("shop:", subscriptions()) == {
        "catalog": "shop:dlq.catalog",
        "notifications": "shop:dlq.notifications",
        "orders": "shop:dlq.orders",
        "payments": "shop:dlq.payments",
    }


def test_marketplace_stream_keys_cover_event_and_dead_letter_streams():
    assert marketplace_stream_keys("m:", ["orders", "auth", "orders"]) == [
        "m:auth.events",
        "m:orders.events",
        "m:dlq.auth",
        "m:dlq.orders",
    ]


def test_database_url_quotes_an_odd_password_so_parsers_get_it_back():
    credentials = ServiceCredentials("shop_catalog", "shop_catalog", ODD_PASSWORD, "db", 5433)
    url = credentials.database_url
    assert url.startswith("postgresql://shop_catalog:")
    assert url.endswith("@db:5433/shop_catalog")
    parts = urlsplit(url)
    assert unquote(parts.password or "") == ODD_PASSWORD
    assert (parts.hostname, parts.port, parts.username) == ("db", 5433, "shop_catalog")
    assert make_url(url).password == ODD_PASSWORD


def test_credentials_environment_holds_database_url_and_libpq_variables():
    credentials = ServiceCredentials("shop_orders", "shop_orders", "s3cret", "pg.shop.svc")
    assert credentials.environment() == {
        "DATABASE_URL": "postgresql://shop_orders:s3cret@pg.shop.svc:5432/shop_orders",
        "PGHOST": "pg.shop.svc",
        "PGPORT": "5432",
        "PGDATABASE": "shop_orders",
        "PGUSER": "shop_orders",
        "PGPASSWORD": "s3cret",
    }
    assert "s3cret" not in repr(credentials)


def test_ipv6_hosts_are_bracketed_in_the_url():
    url = ServiceCredentials("d", "r", "p", "::1").database_url
    assert url == "postgresql://r:p@[::1]:5432/d"


def test_service_credentials_take_the_admin_servers_address():
    made = service_credentials("postgresql://admin:pw@pg.example:6543/postgres", "shop_auth", "x")
    assert (made.host, made.port, made.role, made.database) == (
        "pg.example",
        6543,
        "shop_auth",
        "shop_auth",
    )
    assert service_credentials("postgresql://pg/postgres", "a", "x", host="h").host == "h"
    assert service_credentials("postgresql://pg/postgres", "a", "x").port == 5432


def test_redact_dsn_hides_the_password_only():
    assert redact_dsn("postgresql://admin:pw@h:5/db") == "postgresql://admin:***@h:5/db"
    assert redact_dsn("postgresql://admin@h/db") == "postgresql://admin@h/db"


def test_quoting_escapes_quotes_and_backslashes():
    assert quote_ident('we"ird') == '"we""ird"'
    assert quote_literal("it's") == "'it''s'"
    assert quote_literal("a\\'b") == "E'a\\\\''b'"
    with pytest.raises(ValueError, match="NUL"):
        quote_literal("a\x00b")


def test_provision_result_is_changed_exactly_when_something_was_done():
    assert ProvisionResult.from_actions([]) == ProvisionResult(changed=False, actions=[])
    assert ProvisionResult.from_actions(iter(["created role x"])).changed


def test_scram_verifier_reproduces_the_rfc_7677_exchange():
    """RFC 7677 section 3: user "user", password "pencil"; check proof and signature."""
    salt = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
    verifier = scram_sha256_verifier("pencil", salt=salt, iterations=4096)
    stored_b64, server_b64 = verifier.rsplit("$", 1)[1].split(":")
    stored_key, server_key = base64.b64decode(stored_b64), base64.b64decode(server_b64)
    nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    auth_message = (
        f"n=user,r=rOprNGfwEbeRWgbNEkqO,r={nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r={nonce}"
    ).encode()
    server_signature = hmac.new(server_key, auth_message, hashlib.sha256).digest()
    assert (
        base64.b64encode(server_signature).decode()
        == "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
    )
    client_signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
    proof = base64.b64decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    client_key = bytes(a ^ b for a, b in zip(proof, client_signature, strict=True))
    assert hashlib.sha256(client_key).digest() == stored_key
    assert verifier.startswith("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$")
    assert scram_sha256_matches(verifier, "pencil")
    assert not scram_sha256_matches(verifier, "pencil ")


def test_scram_check_accepts_a_verifier_made_by_postgresql():
    assert scram_sha256_matches(POSTGRES_VERIFIER, "correct horse battery staple")
    assert not scram_sha256_matches(POSTGRES_VERIFIER, "correct horse battery stapler")


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "",
        "md5" + hashlib.md5(b"pwuser", usedforsecurity=False).hexdigest(),
        "SCRAM-SHA-256$0:AAAA$AAAA:AAAA",
        "SCRAM-SHA-256$4096:not base64!$x:y",
        "SCRAM-SHA-256$4096:QUJD$QUJD",
        POSTGRES_VERIFIER.replace("SHA-256", "SHA-1"),
    ],
)
def test_scram_check_rejects_anything_but_a_matching_scram_verifier(stored):
    assert not scram_sha256_matches(stored, "pw")


def test_new_verifiers_use_a_fresh_salt_and_match_their_password():
    first, second = scram_sha256_verifier(ODD_PASSWORD), scram_sha256_verifier(ODD_PASSWORD)
    assert first != second
    assert scram_sha256_matches(first, ODD_PASSWORD)
    assert scram_sha256_matches(second, ODD_PASSWORD)
    assert not scram_sha256_matches(first, ODD_PASSWORD[:-1])


@pytest.mark.parametrize(
    ("set_as", "equivalent"),
    [
        ("a\u00a0b", "a b"),  # non-ASCII space maps to a space
        ("pass\u00adword", "password"),  # soft hyphen maps to nothing
        ("\ufb01sh", "fish"),  # NFKC folds the ligature
    ],
)
def test_scram_applies_saslprep_like_postgresql(set_as, equivalent):
    assert scram_sha256_matches(scram_sha256_verifier(set_as), equivalent)


def test_scram_uses_raw_bytes_when_saslprep_prohibits_the_password():
    verifier = scram_sha256_verifier("key\ue000")  # a private-use character is prohibited
    assert scram_sha256_matches(verifier, "key\ue000")
    assert not scram_sha256_matches(verifier, "key")
