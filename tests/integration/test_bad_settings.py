"""A service started with bad settings stops at once with one line naming the variable."""

import os
import subprocess
import sys

import pytest


def start(module: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "PGHOST", "PGDATABASE", "PGUSER")
    }
    return subprocess.run(
        [sys.executable, "-m", module, "serve"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("module", ["souk_auth", "souk_notifications"])
def test_missing_database_url(module):
    result = start(module, AUTH_JWKS_URL="http://127.0.0.1:1/jwks")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DATABASE_URL is not set" in lines[0]


def test_malformed_redis_url():
    result = start(
        "souk_notifications", DATABASE_URL="postgresql://u@127.0.0.1/db", REDIS_URL="localhost:6379"
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("invalid settings for NotificationsSettings: REDIS_URL:")
