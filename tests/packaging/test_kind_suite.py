"""The kind suite: cluster config, tests/e2e/kind/run.sh, its workflow, and that skaffold,
Tilt and run.sh install the same shop."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.packaging.dev_loops import (
    BUILD_CHART_DEPS,
    ROOT,
    RUN_SH,
    SERVICES,
    WORKFLOW,
    build_chart_dependencies,
    load_yaml,
)


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


@pytest.mark.parametrize(
    "path", [ROOT / "Makefile", ROOT / "skaffold.yaml", ROOT / "Tiltfile", RUN_SH]
)
def test_every_dev_loop_builds_chart_dependencies_with_the_one_script(path):
    """make, skaffold, Tilt and run.sh call scripts/build-chart-deps.sh, none a loop of its own."""
    code = [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]
    assert any(BUILD_CHART_DEPS in line for line in code), path.name
    assert not [line for line in code if "dependency build" in line], path.name


def test_the_script_packages_every_local_dependency_umbrella_last():
    printed = build_chart_dependencies()
    built = printed.removeprefix("chart dependencies built:").split()
    declaring = sorted(
        f"charts/{c.parent.name}"
        for c in (ROOT / "charts").glob("*/Chart.yaml")
        if "\ndependencies:" in "\n" + c.read_text()
    )
    assert sorted(built) == declaring
    assert built[-1] == "charts/souk"
    assert {f"charts/souk-{s}" for s in SERVICES} <= set(built)
    for chart in built:
        for dependency in load_yaml(ROOT / chart / "Chart.yaml")["dependencies"]:
            packages = list((ROOT / chart / "charts").glob(f"{dependency['name']}-*.tgz"))
            assert packages, f"{chart}: {dependency['name']} not packaged"


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
