"""The operator's start-up: settings built once through load_settings, handlers bound to them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from souk_common.settings import SettingsError, load_settings
from souk_operator import handlers
from souk_operator.config import OperatorSettings


def test_malformed_check_interval_stops_start_up_with_one_line():
    env = {**os.environ, "SOUK_OPERATOR_CHECK_INTERVAL": "abc", "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "souk_operator"], env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "SOUK_OPERATOR_CHECK_INTERVAL" in lines[0]
    assert "Traceback" not in done.stderr


def test_load_settings_names_aliased_variables_as_they_are(monkeypatch, capsys):
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(SettingsError):
        load_settings(OperatorSettings)
    err = capsys.readouterr().err
    assert "LOG_FORMAT:" in err
    assert "SOUK_OPERATOR_LOG_FORMAT" not in err


def test_registry_binds_every_handler_and_the_configured_interval():
    registry = handlers.registry(OperatorSettings(check_interval=7))
    timers = registry._spawning.get_all_handlers()
    assert [timer.interval for timer in timers] == [7]
    assert len(registry._changing.get_all_handlers()) == 4  # resume, create, update, delete
    activities = {handler.fn.__name__ for handler in registry._activities.get_all_handlers()}
    assert activities == {"login_via_client", "startup", "cleanup"}
    assert len(registry._watching.get_all_handlers()) == 1  # Deployment events


def test_the_operator_loads_no_web_stack_nor_orm():
    code = (
        "import sys, souk_operator.main;"
        "heavy = ('fastapi', 'starlette', 'sqlalchemy', 'uvicorn', 'alembic');"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"
