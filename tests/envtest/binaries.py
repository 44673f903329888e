"""Where the envtest binaries are: the cached kube-apiserver, etcd, kubectl and helm."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

_VERSION_DIR = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")


def cache_dir() -> Path:
    """Return the envtest cache: ``$SOUK_ENVTEST_CACHE`` or ``~/.cache/souk-envtest``."""
    configured = os.environ.get("SOUK_ENVTEST_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "souk-envtest"


def find_kube_apiserver(cache: Path | None = None) -> Path | None:
    """Return the kube-apiserver to use, or None when none was built.

    ``$SOUK_ENVTEST_KUBE_APISERVER`` wins; otherwise the highest ``<cache>/v<x.y.z>/`` that
    holds an executable ``kube-apiserver``.
    """
    override = os.environ.get("SOUK_ENVTEST_KUBE_APISERVER")
    if override:
        path = Path(override)
        return path if path.is_file() and os.access(path, os.X_OK) else None
    root = cache or cache_dir()
    if not root.is_dir():
        return None
    candidates: list[tuple[tuple[int, int, int], Path]] = []
    for child in root.iterdir():
        match = _VERSION_DIR.match(child.name)
        binary = child / "kube-apiserver"
        if match and binary.is_file() and os.access(binary, os.X_OK):
            version = (int(match[1]), int(match[2]), int(match[3]))
            candidates.append((version, binary))
    return max(candidates)[1] if candidates else None


def find_etcd() -> Path | None:
    """Return the etcd binary (``$SOUK_ENVTEST_ETCD`` or ``etcd`` on PATH), or None."""
    override = os.environ.get("SOUK_ENVTEST_ETCD")
    if override:
        return Path(override) if Path(override).is_file() else None
    found = shutil.which("etcd") or ("/usr/bin/etcd" if Path("/usr/bin/etcd").is_file() else None)
    return Path(found) if found else None


def find_tool(name: str, cache: Path | None = None) -> Path | None:
    """Return ``<cache>/bin/<name>`` (``kubectl`` or ``helm``) when it was installed."""
    path = (cache or cache_dir()) / "bin" / name
    return path if path.is_file() and os.access(path, os.X_OK) else None


def missing_binaries() -> list[str]:
    """Name what the API server needs but is not there (empty when it can start)."""
    missing = []
    if find_kube_apiserver() is None:
        missing.append("kube-apiserver")
    if find_etcd() is None:
        missing.append("etcd")
    return missing
