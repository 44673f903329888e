"""AuthSettings: defaults, signing key sources, fail-fast validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from souk_auth.config import AuthSettings
from souk_auth.keys import generate_signing_key, private_key_pem
from souk_common.settings import SettingsError, load_settings

URL = "postgresql://auth@127.0.0.1:5432/auth"


def test_defaults_are_production_safe(monkeypatch):
    monkeypatch.delenv("SERVICE_NAME", raising=False)
    settings = AuthSettings(database_url=URL)
    assert settings.service_name == "auth"
    assert settings.access_token_ttl_seconds == 15 * 60
    assert settings.refresh_token_ttl_seconds == 14 * 24 * 3600
    assert settings.cookie_secure is True
    assert settings.trusted_proxy_hops == 0
    assert (settings.argon2_time_cost, settings.argon2_memory_cost_kib) == (3, 65536)
    assert settings.signing_key_pem() is None


def test_signing_key_from_environment_and_file(monkeypatch, tmp_path):
    pem = private_key_pem(generate_signing_key())
    monkeypatch.setenv("AUTH_SIGNING_KEY", pem)
    assert AuthSettings(database_url=URL).signing_key_pem() == pem
    assert "BEGIN" not in repr(AuthSettings(database_url=URL))
    monkeypatch.delenv("AUTH_SIGNING_KEY")

    path = tmp_path / "private.pem"
    path.write_text(pem)
    monkeypatch.setenv("AUTH_SIGNING_KEY_FILE", str(path))
    assert AuthSettings(database_url=URL).signing_key_pem() == pem


def test_both_key_sources_are_refused(tmp_path):
    path = tmp_path / "private.pem"
    pem = private_key_pem(generate_signing_key())
    path.write_text(pem)
    with pytest.raises(ValidationError, match="not both"):
        AuthSettings(database_url=URL, auth_signing_key=pem, auth_signing_key_file=path)


def test_bad_key_stops_start_up_with_one_line(tmp_path, capsys):
    with pytest.raises(SettingsError):
        load_settings(AuthSettings, database_url=URL, auth_signing_key_file=tmp_path / "missing")
    line = capsys.readouterr().err.strip()
    assert "\n" not in line
    assert "AUTH_SIGNING_KEY_FILE" in line
    with pytest.raises(SettingsError):
        load_settings(AuthSettings, database_url=URL, auth_signing_key="garbage")
    assert "PEM" in capsys.readouterr().err
