"""Fixtures and helpers of the chart suites: built charts, NOTES, refusals, the CRD's schema.

Every test here runs the real helm (``tests/support/helm.py``; skipped with one line without
it, failed under ``SOUK_ENVTEST_REQUIRED=1``). ``built_charts`` runs ``helm dependency build``
once per session, library first, so the service charts and the umbrella can render.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.support.helm import (
    CHARTS,
    REPO_ROOT,
    dependency_build,
    require_helm,
    run_helm,
    value_args,
)

SERVICES = ("auth", "catalog", "orders", "payments", "notifications")
SERVICE_CHARTS = {service: CHARTS / f"souk-{service}" for service in SERVICES}
LIB = CHARTS / "souk-lib"
UMBRELLA = CHARTS / "souk"
VALUES = Path(__file__).parent / "values"
SERVICE_FULL = VALUES / "service-full.yaml"
UMBRELLA_FULL = UMBRELLA / "ci" / "full-values.yaml"
CRD = CHARTS / "souk-operator" / "crds" / "marketplaces.souk.dev.yaml"
# Kinds whose schemas come from CRDs, not from Kubernetes.
CRD_KINDS = ("Marketplace", "ServiceMonitor", "PrometheusRule")
# Kubernetes versions whose schemas the rendered manifests must satisfy.
SCHEMA_VERSIONS = ("1.30.0", "1.35.0")


@pytest.fixture(scope="session")
def built_charts() -> dict[str, Path]:
    """Build every chart's ``file://`` dependencies once (library, services, umbrella)."""
    require_helm()
    for chart in SERVICE_CHARTS.values():
        dependency_build(chart)
    dependency_build(UMBRELLA)
    return {"lib": LIB, "souk": UMBRELLA, **SERVICE_CHARTS}


def notes(
    chart: Path,
    values_files: Iterable[Path] = (),
    set_values: Mapping[str, str] | None = None,
    *,
    release: str = "shop",
    namespace: str = "shop",
) -> str:
    """Return the NOTES.txt helm prints for an install (``--dry-run=client``, no cluster).

    ``helm template`` never renders NOTES.txt; a client-side dry-run install does, offline.
    """
    helm = require_helm()
    args = [str(helm), "install", release, str(chart), "--namespace", namespace,
            "--dry-run=client", *value_args(values_files, set_values)]  # fmt: skip
    result = subprocess.run(
        args,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "KUBECONFIG": os.devnull},
    )
    assert result.returncode == 0, result.stderr
    assert "NOTES:" in result.stdout, result.stdout[-2000:]
    return result.stdout.split("NOTES:", 1)[1]


def refusal(
    chart: Path,
    set_values: Mapping[str, str] | None = None,
    values_files: Iterable[Path] = (),
    *,
    set_json: Mapping[str, str] | None = None,
) -> str:
    """Run ``helm template`` expecting failure; return its stderr (the reason)."""
    args = ["template", "shop", str(chart), "--namespace", "shop"]
    args += value_args(values_files, set_values)
    for key, value in (set_json or {}).items():
        args += ["--set-json", f"{key}={value}"]
    result = run_helm(args, check=False)
    assert result.returncode != 0, f"helm accepted {set_values or set_json}"
    return result.stderr


def env_of(container: Mapping[str, Any]) -> dict[str, Any]:
    """Return a container's env as ``{name: value or valueFrom}``; names must be unique."""
    env = container.get("env") or []
    names = [item["name"] for item in env]
    assert len(names) == len(set(names)), f"duplicate env names: {sorted(names)}"
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in env}


def crd_json_schema() -> dict[str, Any]:
    """Return the Marketplace CRD's openAPIV3Schema as a JSON schema for ``jsonschema``.

    The ``x-kubernetes-*`` extensions are dropped, and every object schema that lists its
    properties refuses others: the API server would silently prune an unknown field, which
    for a chart means a value that never reaches the operator, so here it is an error.
    """
    crd = yaml.safe_load(CRD.read_text())
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
    schema = _strict(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
    # Every object has these; the API server validates them itself.
    schema["properties"] |= {
        "apiVersion": {"const": "souk.dev/v1alpha1"},
        "kind": {"const": "Marketplace"},
        "metadata": {"type": "object"},
    }
    return schema


def _strict(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {k: _strict(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
    if result.get("type") == "object" and "properties" in result:
        result.setdefault("additionalProperties", False)
    return result


def load_script(path: Path, name: str) -> ModuleType:
    """Import a generator script that is not in a package (e.g. ``chart_files.py``)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through it
    spec.loader.exec_module(module)
    return module
