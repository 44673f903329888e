"""souk-postgres and souk-redis keep the contract the operator's Managed manifests give the
official images (operator/src/souk_operator/managed.py): uid 999, POSTGRES_PASSWORD, PGDATA
under the data volume, `pg_isready -U postgres -h 127.0.0.1`; Redis with AOF in /data and
`redis-cli ping`. Containers run in podman's default network (never the host's, where a
PostgreSQL or Redis may already listen) and are checked with `podman exec`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.packaging.images import ULIMITS, build_images, run

pytestmark = pytest.mark.images

PGDATA = "/var/lib/postgresql/data/pgdata"
# What managed.py gives the pod: uid/gid 999, every capability dropped, no privilege gain.
POD_LIKE = ["--user", "999:999", "--cap-drop=ALL", "--security-opt", "no-new-privileges"]


@pytest.fixture(scope="module")
def managed_images() -> None:
    build_images("souk-postgres", "souk-redis")


@pytest.fixture
def containers() -> Iterator[list[str]]:
    """Names of the containers a test starts; all removed afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        run(["podman", "rm", "-f", "-v", name])


def start(containers: list[str], image: str, *args: str, command: tuple[str, ...] = ()) -> str:
    """Start ``image`` (podman flags ``args``, then ``command``) the way the pod would."""
    name = f"souk-test-{uuid.uuid4().hex[:8]}"
    flags = ["-d", "--name", name, *ULIMITS, *POD_LIKE, *args]
    result = run(["podman", "run", *flags, image, *command])
    assert result.returncode == 0, result.stderr
    containers.append(name)
    return name


def exec_in(name: str, *command: str, env: dict[str, str] | None = None) -> str:
    flags = [f"--env={key}={value}" for key, value in (env or {}).items()]
    result = run(["podman", "exec", *flags, name, *command], timeout=60)
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout.strip()


def wait_for(name: str, *command: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while run(["podman", "exec", name, *command], timeout=30).returncode != 0:
        if time.monotonic() > deadline:
            logs = run(["podman", "logs", name]).stderr[-2000:]
            pytest.fail(f"{name}: {' '.join(command)} never succeeded\n{logs}")
        time.sleep(0.5)


def host_dir(tmp_path: Path, name: str) -> Path:
    """A root-owned 0777 directory, like a hostPath volume."""
    path = tmp_path / name
    path.mkdir()
    path.chmod(0o777)
    return path


def test_postgres_initialises_serves_and_keeps_its_data(managed_images, containers, tmp_path):
    data = host_dir(tmp_path, "pg")
    args = [
        "--env=POSTGRES_PASSWORD=s3cret",
        f"--env=PGDATA={PGDATA}",
        f"--volume={data}:/var/lib/postgresql/data",
    ]
    first = start(containers, "souk-postgres:local", *args)
    ready = ("pg_isready", "-U", "postgres", "-h", "127.0.0.1")
    wait_for(first, *ready)
    psql = ("psql", "-h", "127.0.0.1", "-U", "postgres", "-At", "-c")
    password = {"PGPASSWORD": "s3cret"}
    exec_in(first, *psql, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)", env=password)
    assert exec_in(first, "id", "-u") == "999"
    wrong = run(["podman", "exec", "--env=PGPASSWORD=wrong", first, *psql, "SELECT 1"])
    assert wrong.returncode != 0, "scram-sha-256 must refuse a wrong password over TCP"
    assert run(["podman", "stop", first], timeout=60).returncode == 0

    second = start(containers, "souk-postgres:local", *args)
    wait_for(second, *ready)
    assert exec_in(second, *psql, "SELECT x FROM kept", env=password) == "42"


def test_postgres_refuses_to_start_without_a_password(managed_images):
    result = run(["podman", "run", "--rm", *ULIMITS, *POD_LIKE, "souk-postgres:local"])
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr.strip().splitlines()[-1]


def test_redis_answers_without_a_password_and_appends_to_data(managed_images, containers, tmp_path):
    data = host_dir(tmp_path, "redis")
    operator_args = ("--appendonly", "yes", "--appendfsync", "everysec", "--dir", "/data")
    name = start(containers, "souk-redis:local", f"--volume={data}:/data", command=operator_args)
    wait_for(name, "redis-cli", "ping")
    assert exec_in(name, "redis-cli", "set", "kept", "yes") == "OK"
    assert exec_in(name, "redis-cli", "config", "get", "protected-mode").split() == [
        "protected-mode",
        "no",
    ]
    deadline = time.monotonic() + 10
    while not list((data / "appendonlydir").glob("*.incr.aof")) and time.monotonic() < deadline:
        time.sleep(0.2)
    aof = list((data / "appendonlydir").glob("*.incr.aof"))
    assert aof, "no AOF under /data"
    time.sleep(1.5)  # appendfsync everysec
    assert b"kept" in aof[0].read_bytes()
