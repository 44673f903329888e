"""Pytest fixtures for envtest: one real Kubernetes API server for the whole session.

Tests that use :func:`apiserver` are skipped with one line when the binaries were not built
(``scripts/build-kubernetes.sh``), and fail instead when ``SOUK_ENVTEST_REQUIRED=1``
(CI sets it after running the build script, so a broken build cannot pass as a skip).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client as k8s

from tests.envtest.apiserver import BUILD_SCRIPT, ApiServer, EnvtestError
from tests.envtest.binaries import find_etcd, find_kube_apiserver, find_tool


def _unavailable(message: str) -> None:
    """Skip with ``message``, or fail with it when envtest is required."""
    if os.environ.get("SOUK_ENVTEST_REQUIRED") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def apiserver() -> Iterator[ApiServer]:
    """A started :class:`ApiServer` shared by the session; stopped at the end."""
    if find_kube_apiserver() is None:
        _unavailable(f"envtest: kube-apiserver not built; run {BUILD_SCRIPT}")
    if find_etcd() is None:
        _unavailable(f"envtest: etcd not installed; run {BUILD_SCRIPT}")
    server = ApiServer()
    try:
        server.start()
    except EnvtestError as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kube_admin(apiserver: ApiServer) -> Iterator[k8s.ApiClient]:
    """A ``kubernetes`` API client authenticated as the admin (``system:masters``)."""
    with apiserver.api_client() as api:
        yield api


@pytest.fixture
def kube_namespace(apiserver: ApiServer) -> str:
    """A fresh namespace for one test.

    It is not deleted afterwards: without a controller-manager a deleted namespace stays
    ``Terminating`` forever, and the whole server goes away with the session anyway.
    """
    name = f"t-{uuid.uuid4().hex[:10]}"
    apiserver.ensure_namespace(name)
    return name


@pytest.fixture(scope="session")
def kubectl() -> Path:
    """The cached kubectl binary (a current release, from the npm layer package)."""
    path = find_tool("kubectl")
    if path is None:
        _unavailable(f"envtest: kubectl not installed; run {BUILD_SCRIPT}")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def helm() -> Path:
    """The cached helm binary (v4, from the npm layer package)."""
    path = find_tool("helm")
    if path is None:
        _unavailable(f"envtest: helm not installed; run {BUILD_SCRIPT}")
    assert path is not None
    return path
