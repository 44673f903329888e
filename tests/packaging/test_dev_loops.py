"""skaffold.yaml, the Tiltfile, the kind cluster config and the kind suite's script.

skaffold.yaml is validated against skaffold's published schema. The Tiltfile is evaluated by
a real Starlark interpreter with stand-ins for Tilt's built-ins that record every path they
are given; with helm available, ``helm()`` renders the real charts, so the resources the
Tiltfile names must exist in what the charts render. Nothing here needs Docker or a cluster.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import starlark
import yaml

from tests.support import helm as helm_support

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "tests" / "packaging" / "schemas" / "skaffold-v4beta14.json"
SHARED_SCHEMA = ROOT.parent / "shared" / "schemas" / "skaffold-v4beta14.json"
SERVICES = ["auth", "catalog", "orders", "payments", "notifications"]
IMAGES = [f"souk-{s}" for s in SERVICES] + ["souk-operator"]
RUN_SH = ROOT / "tests" / "e2e" / "kind" / "run.sh"
WORKFLOW = ROOT / ".github" / "workflows" / "kind-e2e.yml"


def source_dir(package: str) -> str:
    """Where a workspace package's module lives in the repository."""
    module = package.replace("-", "_")
    if package == "souk-operator":
        return f"operator/src/{module}"
    return f"services/{package.removeprefix('souk-')}/src/{module}"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


# --- skaffold ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def skaffold() -> dict[str, Any]:
    return load_yaml(ROOT / "skaffold.yaml")


@pytest.fixture(scope="module")
def skaffold_validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))


def test_vendored_schema_matches_the_shared_copy():
    assert SCHEMA.is_file()
    if not SHARED_SCHEMA.exists():
        pytest.skip(f"{SHARED_SCHEMA} is not on this machine (a clean clone); repo copy used")
    assert SCHEMA.read_bytes() == SHARED_SCHEMA.read_bytes()


def test_skaffold_yaml_validates_against_the_published_schema(skaffold, skaffold_validator):
    assert skaffold["apiVersion"] == "skaffold/v4beta14"
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in skaffold_validator.iter_errors(skaffold)
    ]
    assert errors == []


def test_schema_refuses_a_misspelled_field(skaffold, skaffold_validator):
    """The schema is strict (additionalProperties: false), so the check above means something."""
    bad = json.loads(json.dumps(skaffold))
    bad["deploy"]["helm"]["releases"][0]["chartpath"] = "charts/souk-operator"
    assert not skaffold_validator.is_valid(bad)


def test_one_artifact_per_image_from_the_shared_dockerfile(skaffold):
    artifacts = skaffold["build"]["artifacts"]
    assert [a["image"] for a in artifacts] == IMAGES
    for artifact in artifacts:
        assert (ROOT / artifact["context"]).resolve() == ROOT
        dockerfile = artifact["docker"]["dockerfile"]
        assert (ROOT / artifact["context"] / dockerfile).is_file(), dockerfile
        assert artifact["docker"]["buildArgs"] == {"PACKAGE": artifact["image"]}


def test_helm_releases_point_at_existing_charts_in_order(skaffold):
    releases = skaffold["deploy"]["helm"]["releases"]
    assert [(r["name"], r["namespace"]) for r in releases] == [
        ("souk-operator", "souk-system"),
        ("shop", "shop"),
    ]
    for release in releases:
        assert (ROOT / release["chartPath"] / "Chart.yaml").is_file(), release["chartPath"]
        assert release["createNamespace"] is True
        for values_file in release.get("valuesFiles", []):
            assert (ROOT / values_file).is_file(), values_file
    assert releases[1]["dependsOn"] == ["souk-operator"]


def test_every_image_is_wired_into_its_chart_values(skaffold):
    operator, shop = skaffold["deploy"]["helm"]["releases"]
    templates = {**operator["setValueTemplates"], **shop["setValueTemplates"]}
    expected = {"image": "souk_operator"} | {s: f"souk_{s}" for s in SERVICES}
    for prefix, variable in expected.items():
        repo_key = "image.repository" if prefix == "image" else f"{prefix}.image.repository"
        tag_key = repo_key.replace("repository", "tag")
        assert templates[repo_key] == f"{{{{.IMAGE_REPO_{variable}}}}}"
        assert templates[tag_key].startswith(f"{{{{.IMAGE_TAG_{variable}}}}}")
        assert f".IMAGE_DIGEST_{variable}" in templates[tag_key]


def test_skaffold_values_exist_in_the_charts(skaffold):
    """Every value skaffold sets is a key the chart's values.yaml declares."""
    for release in skaffold["deploy"]["helm"]["releases"]:
        chart = ROOT / release["chartPath"]
        declared = _flatten(load_yaml(chart / "values.yaml"))
        subcharts = {s for s in SERVICES if release["name"] == "shop"}
        for key in {**release.get("setValues", {}), **release.get("setValueTemplates", {})}:
            head = key.split(".")[0]
            if head in subcharts:
                sub = ROOT / "charts" / f"souk-{head}" / "values.yaml"
                sub_key = key.split(".", 1)[1]
                assert sub_key in _flatten(load_yaml(sub)), f"{key} not in {sub}"
            else:
                assert key in declared, f"{key} not in {chart}/values.yaml"


def _flatten(values: Any, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    if isinstance(values, dict):
        for key, value in values.items():
            path = f"{prefix}{key}"
            keys.add(path)
            keys |= _flatten(value, path + ".")
    return keys


def test_kind_profile_loads_images_without_a_registry(skaffold):
    (profile,) = [p for p in skaffold["profiles"] if p["name"] == "kind"]
    assert profile["activation"] == [{"kubeContext": "kind-souk"}]
    patches = {p["path"]: p["value"] for p in profile["patches"]}
    assert patches["/build/local/push"] is False
    assert patches["/deploy/kubeContext"] == "kind-souk"


def test_port_forwards_reach_each_service_on_its_local_stack_port(skaffold):
    forwards = {f["resourceName"]: f for f in skaffold["portForward"]}
    for offset, service in enumerate(SERVICES, start=1):
        forward = forwards[f"shop-{service}"]
        assert (forward["namespace"], forward["port"], forward["localPort"]) == (
            "shop",
            80,
            8000 + offset,
        )


# --- Tiltfile ------------------------------------------------------------------------------


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


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def evaluate_tiltfile(render: bool) -> TiltRun:
    """Evaluate the Tiltfile with recording stand-ins for Tilt's built-ins.

    ``render``: run the real ``helm dependency build`` and ``helm template`` where the
    Tiltfile calls ``local('helm dependency build ...')`` and ``helm()``; otherwise they return
    nothing and only the paths are recorded.
    """
    run = TiltRun()

    def path(builtin: str, value: Any) -> None:
        for item in _as_list(value):
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
        return {"step": "fall_back_on", "files": _as_list(files)}

    def run_step(cmd, trigger=None, echo_off=False):
        path("run.trigger", trigger)
        return {"step": "run", "cmd": cmd}

    def local(command, quiet=False, **kwargs):
        command = command if isinstance(command, str) else shlex.join(command)
        run.commands.append(command)
        words = shlex.split(command)
        if words[:3] == ["helm", "dependency", "build"]:
            path("local.helm_dependency_build", words[3])
            if render:
                helm_support.dependency_build(ROOT / words[3])
        return ""

    def helm(chart, name="", namespace="", values=None, set=None, **kwargs):
        path("helm", chart)
        path("helm.values", values)
        run.helm_sets[name] = [str(item) for item in _as_list(set)]
        if not render:
            return ""
        # Like Tilt: `helm template` with the chart's CRDs (Tilt passes --include-crds).
        args = ["template", name, str(ROOT / chart), "--namespace", namespace, "--include-crds"]
        for values_file in _as_list(values):
            args += ["--values", str(ROOT / values_file)]
        for setting in _as_list(set):
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


@pytest.fixture(scope="module")
def tilt() -> TiltRun:
    return evaluate_tiltfile(render=False)


def test_tiltfile_has_no_load_of_extensions():
    """Extensions (ext://...) are fetched from the network; the Tiltfile uses built-ins only."""
    assert not re.search(r"^\s*load\(", (ROOT / "Tiltfile").read_text(), flags=re.MULTILINE)


def test_every_path_the_tiltfile_names_exists(tilt):
    assert tilt.paths, "the stand-ins recorded nothing"
    missing = [(builtin, p) for builtin, p in tilt.paths if not (ROOT / p).exists()]
    assert missing == []


def test_tiltfile_builds_every_image_with_live_update(tilt):
    assert sorted(tilt.images) == sorted(IMAGES)
    for ref, image in tilt.images.items():
        assert image["context"] == "."
        assert image["build_args"] == {"PACKAGE": ref}
        assert image["target"] == "dev"
        dockerfile = image["dockerfile_contents"]
        assert dockerfile.startswith((ROOT / "docker" / "Dockerfile").read_text())
        assert "FROM runtime AS dev" in dockerfile
        steps = image["live_update"]
        assert steps[0]["step"] == "fall_back_on", "fall_back_on must come first"
        module = ref.replace("-", "_")
        synced = {step["local"]: step["remote"] for step in steps if step["step"] == "sync"}
        site = "/app/.venv/lib/python3.11/site-packages"
        assert synced[source_dir(ref)] == f"{site}/{module}"
        assert synced["services/common/src/souk_common"] == f"{site}/souk_common"
        assert synced["services/contracts/src/souk_contracts"] == f"{site}/souk_contracts"
        if ref != "souk-operator":
            assert f"{source_dir(ref)}/migrations" in steps[0]["files"]


def test_tiltfile_groups_resources_with_links(tilt):
    by_name = {r["new_name"]: r for r in tilt.resources}
    for service in SERVICES:
        resource = by_name[service]
        assert resource["workload"] == f"shop-{service}"
        assert resource["labels"] == ["services"]
        assert any(f"/api/{service}" in link["url"] for link in resource["links"])
    assert by_name["operator"]["labels"] == ["operator"]
    assert {"marketplace", "ingress"} <= set(by_name)
    (ingress_nginx,) = tilt.local_resources
    assert ingress_nginx["labels"] == ["infra"]


def test_tiltfile_and_run_sh_install_the_same_ingress_nginx(tilt):
    (ingress_nginx,) = tilt.local_resources
    tilt_urls = re.findall(r"https://\S+/deploy\.yaml", ingress_nginx["cmd"])
    script_urls = re.findall(r"https://\S+/deploy\.yaml", RUN_SH.read_text())
    version = re.search(
        r'INGRESS_NGINX_VERSION="\$\{INGRESS_NGINX_VERSION:-([^}]+)\}"', RUN_SH.read_text()
    )
    assert version, "run.sh pins INGRESS_NGINX_VERSION"
    assert tilt_urls == [u.replace("${INGRESS_NGINX_VERSION}", version[1]) for u in script_urls]
    docs = (ROOT / "docs" / "kubernetes-dev.md").read_text()
    assert set(re.findall(r"https://\S+/deploy\.yaml", docs)) == set(tilt_urls)


@pytest.fixture(scope="module")
def rendered_tilt() -> TiltRun:
    helm_support.require_helm()
    return evaluate_tiltfile(render=True)


def _workloads(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    kinds = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet"}
    return {o["metadata"]["name"]: o for o in objects if o.get("kind") in kinds}


def _matches(selector: str, obj: dict[str, Any]) -> bool:
    parts = selector.lower().split(":")
    name, kind = parts[0], parts[1] if len(parts) > 1 else None
    namespace = parts[2] if len(parts) > 2 else None
    meta = obj.get("metadata", {})
    return (
        meta.get("name", "").lower() == name
        and (kind is None or obj.get("kind", "").lower() == kind)
        and (namespace is None or meta.get("namespace", "").lower() in (namespace, ""))
    )


def test_tilt_resources_exist_in_the_rendered_charts(rendered_tilt):
    """Tilt refuses to start when k8s_resource names a workload or object that is not there."""
    workloads = _workloads(rendered_tilt.objects)
    for resource in rendered_tilt.resources:
        if resource["workload"]:
            assert resource["workload"] in workloads, resource["workload"]
        for selector in resource.get("objects", []):
            assert any(_matches(selector, o) for o in rendered_tilt.objects), selector


def test_tilt_images_replace_the_chart_images(rendered_tilt):
    """Tilt swaps in its build only where a container's image repository equals the ref."""
    used = {
        container["image"].split(":")[0]
        for workload in _workloads(rendered_tilt.objects).values()
        for container in _pod_spec(workload).get("containers", [])
    }
    assert set(IMAGES) <= used


def _pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def test_tilt_runs_souk_processes_under_watchfiles(rendered_tilt):
    deployments = [o for o in rendered_tilt.objects if o.get("kind") == "Deployment"]
    wrapped = {}
    for deployment in deployments:
        for container in _pod_spec(deployment)["containers"]:
            if container["image"].startswith("souk-"):
                wrapped[container["image"].split(":")[0]] = container
    assert set(wrapped) == set(IMAGES)
    for image, container in wrapped.items():
        module = image.replace("-", "_")
        command = container["command"]
        assert command[:5] == ["watchfiles", "--filter", "python", "--target-type", "command"]
        assert command[5].startswith(f"python -m {module}")
        assert container["args"] == []
        assert container["securityContext"]["readOnlyRootFilesystem"] is False
        # The migration init containers keep their own command.
        for init in _pod_spec_of(deployments, container).get("initContainers", []):
            assert init["command"][0] == "python"


def _pod_spec_of(deployments: list[dict[str, Any]], container: dict[str, Any]) -> dict[str, Any]:
    for deployment in deployments:
        spec = _pod_spec(deployment)
        if container in spec["containers"]:
            return spec
    raise AssertionError("container not found")


# --- kind config, run.sh, workflow ---------------------------------------------------------


def test_kind_cluster_is_ingress_ready_with_host_ports():
    config = load_yaml(ROOT / "k8s" / "kind-cluster.yaml")
    assert (config["kind"], config["apiVersion"]) == ("Cluster", "kind.x-k8s.io/v1alpha4")
    assert config["name"] == "souk"
    (control_plane,) = [n for n in config["nodes"] if n["role"] == "control-plane"]
    assert control_plane["labels"]["ingress-ready"] == "true"
    ports = {(m["containerPort"], m["hostPort"]) for m in control_plane["extraPortMappings"]}
    assert {(80, 80), (443, 443)} <= ports


def test_run_sh_is_valid_bash():
    bash = shutil.which("bash")
    assert bash
    result = subprocess.run([bash, "-n", str(RUN_SH)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    text = RUN_SH.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text


def test_run_sh_help_runs_without_docker():
    bash = shutil.which("bash")
    assert bash
    result = subprocess.run(
        [bash, str(RUN_SH), "--help"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert "--keep" in result.stdout


def test_run_sh_names_only_existing_paths():
    text = RUN_SH.read_text()
    for relative in re.findall(r"(?<![\w/.$-])((?:charts|k8s|tests|docker)/[\w./-]+)", text):
        assert (ROOT / relative.rstrip(".")).exists(), relative


def test_workflow_runs_the_kind_suite():
    workflow = load_yaml(WORKFLOW)
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads on: as True
    assert {"push", "pull_request", "workflow_dispatch"} <= set(triggers)
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    runs = " ".join(step.get("run", "") for step in steps)
    assert "bash tests/e2e/kind/run.sh" in runs
    uses = [step.get("uses", "") for step in steps]
    assert all(re.search(r"@v?\d", u) for u in uses if u), uses
    assert any(u.startswith("actions/upload-artifact@") for u in uses)


@pytest.mark.parametrize("path", [ROOT / "skaffold.yaml", RUN_SH])
def test_chart_dependency_loops_name_existing_charts(path):
    """skaffold's hook and run.sh package souk-lib into each service chart, then the umbrella."""
    loops = re.findall(r"for chart in ([\w\s-]+?);", path.read_text())
    assert loops, f"no chart dependency loop in {path.name}"
    for loop in loops:
        charts = loop.split()
        assert charts[-1] == "souk", "the umbrella must come last"
        assert set(charts) == {f"souk-{s}" for s in SERVICES} | {"souk"}
        for chart in charts:
            assert (ROOT / "charts" / chart / "Chart.yaml").is_file(), chart


def _skaffold_template(template: str, digest: str | None) -> str:
    """Expand skaffold's image templates the way skaffold does for a built image."""
    text = re.sub(
        r"\{\{with \.IMAGE_DIGEST_\w+\}\}@\{\{\.\}\}\{\{end\}\}",
        f"@{digest}" if digest else "",
        template,
    )
    text = re.sub(r"\{\{\.IMAGE_REPO_(\w+)\}\}", lambda m: m[1].replace("_", "-"), text)
    return re.sub(r"\{\{\.IMAGE_TAG_\w+\}\}", "3f2a9c1", text)


@pytest.mark.parametrize("digest", [None, "sha256:" + "ab" * 32])
def test_skaffold_values_render_with_the_charts(skaffold, digest):
    """What skaffold passes to helm is accepted by each chart's schema and reaches the pods."""
    helm_support.require_helm()
    for chart in (
        "souk-auth",
        "souk-catalog",
        "souk-orders",
        "souk-payments",
        "souk-notifications",
    ):
        helm_support.dependency_build(ROOT / "charts" / chart)
    helm_support.dependency_build(ROOT / "charts" / "souk")
    for release in skaffold["deploy"]["helm"]["releases"]:
        settings = dict(release.get("setValues", {}))
        for key, template in release["setValueTemplates"].items():
            settings[key] = _skaffold_template(template, digest)
        manifests = helm_support.render(
            ROOT / release["chartPath"],
            set_values=settings,
            release=release["name"],
            namespace=release["namespace"],
        )
        images = {
            container["image"]
            for m in manifests
            if m["kind"] == "Deployment"
            for container in m["spec"]["template"]["spec"]["containers"]
        }
        suffix = f"@{digest}" if digest else ""
        expected = (
            {"souk-operator:3f2a9c1" + suffix}
            if release["name"] == "souk-operator"
            else {f"souk-{s}:3f2a9c1{suffix}" for s in SERVICES}
        )
        assert images == expected


def test_skaffold_tilt_and_run_sh_install_the_same_shop(skaffold, tilt):
    """One shop configuration for every way of running it on kind."""
    operator, shop = skaffold["deploy"]["helm"]["releases"]
    expected = {f"{k}={v}" for k, v in shop["setValues"].items()}
    assert expected <= set(tilt.helm_sets["shop"])
    script = RUN_SH.read_text()
    script_sets = set(re.findall(r"--set ([\w.]+=\w+)$", script, flags=re.MULTILINE))
    assert expected <= script_sets
    assert "replicas=1" in tilt.helm_sets["souk-operator"]
    assert operator["setValues"]["replicas"] == "1"
