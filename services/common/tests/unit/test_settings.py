"""Settings fail fast with one line naming the variable."""

import pytest

from souk_common.settings import ServiceSettings, SettingsError, load_settings


def test_missing_database_url_stops_with_one_line(monkeypatch, capsys):
    for name in ("DATABASE_URL", "PGHOST", "PGDATABASE", "PGUSER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SERVICE_NAME", "auth")
    with pytest.raises(SettingsError) as raised:
        load_settings(ServiceSettings)
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "DATABASE_URL is not set" in err


def test_malformed_redis_url_names_the_variable(monkeypatch, capsys):
    monkeypatch.setenv("SERVICE_NAME", "auth")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("REDIS_URL", "http://not-redis:6379")
    with pytest.raises(SettingsError):
        load_settings(ServiceSettings)
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "REDIS_URL" in err
    assert "redis://" in err


def test_libpq_variables_build_an_asyncpg_url(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = ServiceSettings(
        service_name="catalog",
        pghost="db.internal",
        pgport=5433,
        pgdatabase="shop_catalog",
        pguser="shop_catalog",
        pgpassword="p@ss/word",
    )
    assert settings.sqlalchemy_url == (
        "postgresql+asyncpg://shop_catalog:p%40ss%2Fword@db.internal:5433/shop_catalog"
    )


def test_database_url_is_converted_to_asyncpg():
    settings = ServiceSettings(service_name="auth", database_url="postgresql://u:p@h:5432/d")
    assert settings.sqlalchemy_url == "postgresql+asyncpg://u:p@h:5432/d"


def test_password_is_not_in_repr():
    settings = ServiceSettings(
        service_name="auth", pghost="h", pgdatabase="d", pguser="u", pgpassword="hunter2-secret"
    )
    assert "hunter2-secret" not in repr(settings)
