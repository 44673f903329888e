"""docker/entrypoint and docker/healthcheck.py, run as the image would run them."""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.packaging.dockerfile import (
    ENTRYPOINT,
    HEALTHCHECK,
)

SH = shutil.which("sh") or "/bin/sh"


@pytest.fixture
def fake_python(tmp_path) -> Path:
    """A ``python`` that prints its arguments, to see what the entrypoint would exec."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "python"
    fake.write_text('#!/bin/sh\necho "$@"\n')
    fake.chmod(0o755)
    return bin_dir


def run_entrypoint(bin_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ENTRYPOINT), *args],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )


def test_entrypoint_is_executable_posix_sh():
    assert os.access(ENTRYPOINT, os.X_OK)
    assert ENTRYPOINT.read_text().startswith("#!/bin/sh\n")
    result = subprocess.run([SH, "-n", str(ENTRYPOINT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("package", "args", "expected"),
    [
        ("souk-catalog", (), "-m souk_catalog serve --host 0.0.0.0 --port 8000"),
        ("souk-notifications", ("migrate",), "-m souk_notifications migrate"),
        ("souk-operator", (), "-m souk_operator"),
    ],
)
def test_entrypoint_execs_the_package_module(fake_python, package, args, expected):
    result = run_entrypoint(fake_python, *args, SOUK_PACKAGE=package)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_entrypoint_honours_port(fake_python):
    result = run_entrypoint(fake_python, SOUK_PACKAGE="souk-auth", PORT="9000")
    assert result.stdout.strip() == "-m souk_auth serve --host 0.0.0.0 --port 9000"


def test_entrypoint_without_package_says_so(fake_python):
    result = run_entrypoint(fake_python)
    assert result.returncode != 0
    assert "SOUK_PACKAGE" in result.stderr


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def health_server() -> Iterator[tuple[http.server.HTTPServer, type[_Health]]]:
    handler = type("Handler", (_Health,), {})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()


def run_healthcheck(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK)],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=15,
        check=False,
    )


def test_healthcheck_passes_on_200_and_fails_otherwise(health_server):
    server, handler = health_server
    url = f"http://127.0.0.1:{server.server_address[1]}/healthz"
    assert run_healthcheck(SOUK_HEALTHCHECK_URL=url).returncode == 0
    handler.status = 503
    failing = run_healthcheck(SOUK_HEALTHCHECK_URL=url)
    assert failing.returncode == 1
    assert "unhealthy" in failing.stderr
    server.shutdown()
    assert run_healthcheck(SOUK_HEALTHCHECK_URL=url).returncode == 1


def test_healthcheck_probes_each_image_default_port():
    import importlib.util

    spec = importlib.util.spec_from_file_location("souk_image_healthcheck", HEALTHCHECK)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.health_url({"SOUK_PACKAGE": "souk-orders"}) == "http://127.0.0.1:8000/healthz"
    # The operator's /healthz (8080) answers only on the leader; metrics serve every replica.
    assert module.health_url({"SOUK_PACKAGE": "souk-operator"}) == "http://127.0.0.1:9090/metrics"
    custom = module.health_url({"SOUK_PACKAGE": "souk-auth", "PORT": "9001"})
    assert custom == "http://127.0.0.1:9001/healthz"
