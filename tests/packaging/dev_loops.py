"""What the dev-loop tests share: paths, names, and a Tiltfile evaluated with stand-ins.

The Tiltfile is evaluated by a real Starlark interpreter with stand-ins for Tilt's built-ins
that record every path they are given; with ``render``, ``helm()`` renders the real charts.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import starlark
import yaml

from tests.packaging.dockerfile import PACKAGES, ROOT
from tests.support import helm as helm_support

SCHEMA = ROOT / "tests" / "packaging" / "schemas" / "skaffold-v4beta14.json"
SHARED_SCHEMA = ROOT.parent / "shared" / "schemas" / "skaffold-v4beta14.json"
SERVICES = ["auth", "catalog", "orders", "payments", "notifications"]
IMAGES = PACKAGES  # one image per workspace package with a command line
RUN_SH = ROOT / "tests" / "e2e" / "kind" / "run.sh"
WORKFLOW = ROOT / ".github" / "workflows" / "kind-e2e.yml"
BUILD_CHART_DEPS = "scripts/build-chart-deps.sh"


def source_dir(package: str) -> str:
    """Where a workspace package's module lives in the repository."""
    module = package.replace("-", "_")
    if package == "souk-operator":
        return f"operator/src/{module}"
    return f"services/{package.removeprefix('souk-')}/src/{module}"


def build_chart_dependencies() -> str:
    """Run scripts/build-chart-deps.sh with the tests' helm; return what it printed."""
    helm = helm_support.require_helm()
    result = subprocess.run(
        [str(ROOT / BUILD_CHART_DEPS)],
        env={**os.environ, "HELM": str(helm)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def load_yaml(path: Path) -> Any:
    """Return the YAML document in ``path``."""
    return yaml.safe_load(path.read_text())


@dataclass
class TiltRun:
    """What a Tiltfile evaluation asked Tilt to do."""

    paths: list[tuple[str, str]] = field(default_factory=list)
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    objects: list[dict[str, Any]] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)
    local_resources: list[dict[str, Any]] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    helm_sets: dict[str, list[str]] = field(default_factory=dict)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def evaluate_tiltfile(render: bool) -> TiltRun:
    """Evaluate the Tiltfile with recording stand-ins for Tilt's built-ins.

    ``render``: run the real ``scripts/build-chart-deps.sh`` and ``helm template`` where the
    Tiltfile calls ``local()`` and ``helm()``; otherwise they return nothing and only the
    paths are recorded.
    """
    run = TiltRun()

    def path(builtin: str, value: Any) -> None:
        for item in as_list(value):
            run.paths.append((builtin, str(item)))

    def read_file(file_path, default=None):
        path("read_file", file_path)
        return (ROOT / file_path).read_text()

    def docker_build(ref, context, **kwargs):
        path("docker_build.context", context)
        if "dockerfile" in kwargs:
            path("docker_build.dockerfile", kwargs["dockerfile"])
        run.images[ref] = {"context": context, **kwargs}

    def sync(local_path, remote_path):
        path("sync", local_path)
        return {"step": "sync", "local": local_path, "remote": remote_path}

    def fall_back_on(files):
        path("fall_back_on", files)
        return {"step": "fall_back_on", "files": as_list(files)}

    def run_step(cmd, trigger=None, echo_off=False):
        path("run.trigger", trigger)
        return {"step": "run", "cmd": cmd}

    def local(command, quiet=False, **kwargs):
        command = command if isinstance(command, str) else shlex.join(command)
        run.commands.append(command)
        words = shlex.split(command)
        if words and words[0].endswith(".sh"):
            path("local.script", words[0])
            if words[0] == BUILD_CHART_DEPS and render:
                build_chart_dependencies()
        return ""

    def helm(chart, name="", namespace="", values=None, set=None, **kwargs):
        path("helm", chart)
        path("helm.values", values)
        run.helm_sets[name] = [str(item) for item in as_list(set)]
        if not render:
            return ""
        # Like Tilt: `helm template` with the chart's CRDs (Tilt passes --include-crds).
        args = ["template", name, str(ROOT / chart), "--namespace", namespace, "--include-crds"]
        for values_file in as_list(values):
            args += ["--values", str(ROOT / values_file)]
        for setting in as_list(set):
            args += ["--set", setting]
        return helm_support.run_helm(args).stdout

    def decode_yaml_stream(text):
        return [doc for doc in yaml.safe_load_all(str(text)) if doc]

    def encode_yaml_stream(objects):
        return yaml.safe_dump_all(list(objects))

    def k8s_yaml(text, **kwargs):
        run.objects.extend(doc for doc in yaml.safe_load_all(str(text)) if doc)

    def k8s_resource(workload="", **kwargs):
        run.resources.append({"workload": workload, **kwargs})

    def local_resource(name, cmd="", deps=None, **kwargs):
        path("local_resource.deps", deps)
        run.local_resources.append({"name": name, "cmd": cmd, **kwargs})

    def ignore(*args, **kwargs):
        return None

    builtins: dict[str, Callable[..., Any]] = {
        "allow_k8s_contexts": ignore,
        "watch_settings": ignore,
        "update_settings": ignore,
        "read_file": read_file,
        "docker_build": docker_build,
        "sync": sync,
        "fall_back_on": fall_back_on,
        "run": run_step,
        "local": local,
        "helm": helm,
        "decode_yaml_stream": decode_yaml_stream,
        "encode_yaml_stream": encode_yaml_stream,
        "k8s_yaml": k8s_yaml,
        "k8s_resource": k8s_resource,
        "local_resource": local_resource,
        "port_forward": lambda local_port, container_port=None, name="", **kw: {
            "local": local_port,
            "container": container_port,
            "name": name,
        },
        "link": lambda url, name="": {"url": url, "name": name},
    }
    module = starlark.Module()
    for name, function in builtins.items():
        module.add_callable(name, function)
    source = (ROOT / "Tiltfile").read_text()
    ast = starlark.parse("Tiltfile", source, starlark.Dialect.extended())
    starlark.eval(module, ast, starlark.Globals.standard())
    return run
