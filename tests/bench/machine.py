"""Facts about the machine and software a run measured, so two runs can be compared."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import asyncpg
from redis.asyncio import Redis

from souk_common.testing import PG_ADMIN_URL, REDIS_URL
from tests.bench.profiling import py_spy_path
from tests.bench.wrk import wrk_version

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("fastapi", "uvicorn", "uvloop", "httptools", "sqlalchemy", "asyncpg", "redis")


def load_average() -> list[float]:
    """Return the 1, 5 and 15 minute load averages."""
    return [round(value, 2) for value in os.getloadavg()]


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_mib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return 0


def _git(*args: str) -> subprocess.CompletedProcess[str] | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        return subprocess.run(
            [git, *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None


def _git_facts() -> dict[str, Any]:
    """Return the commit and whether the tree differs from it (read-only git commands)."""
    head = _git("rev-parse", "HEAD")
    # diff-index compares without refreshing (so without writing) the index.
    dirty = _git("diff-index", "--quiet", "HEAD", "--")
    return {
        "commit": head.stdout.strip() if head and head.returncode == 0 else None,
        "uncommitted_changes": dirty.returncode == 1 if dirty else None,
    }


def _py_spy_version() -> str | None:
    path = py_spy_path()
    if path is None:
        return None
    done = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or None


async def _server_versions() -> dict[str, str | None]:
    connection = await asyncpg.connect(PG_ADMIN_URL)
    try:
        postgres = await connection.fetchval("SHOW server_version")
        fsync = await connection.fetchval("SHOW synchronous_commit")
    finally:
        await connection.close()
    redis = Redis.from_url(REDIS_URL)
    try:
        info = await redis.info("server")
    finally:
        await redis.aclose()
    return {
        "postgresql": postgres,
        "postgresql_synchronous_commit": fsync,
        "redis_server": info.get("redis_version"),
    }


async def machine_facts() -> dict[str, Any]:
    """Return cores, memory, CPU model, kernel, versions and the git commit."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    versions.update(await _server_versions())
    versions["wrk"] = wrk_version()
    versions["py-spy"] = _py_spy_version()
    packages: dict[str, str | None] = {}
    for package in PACKAGES:
        try:
            packages[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            packages[package] = None
    return {
        "cores": os.cpu_count(),
        "memory_mib": _memory_mib(),
        "cpu_model": _cpu_model(),
        "kernel": platform.release(),
        "hostname": platform.node(),
        "versions": versions,
        "python_packages": packages,
        "git": _git_facts(),
    }
