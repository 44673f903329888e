"""The Tiltfile, evaluated with stand-ins for Tilt's built-ins (see dev_loops.py).

Every path it names must exist; with helm available the resources and images it names must
exist in what the charts render. Nothing here needs Docker or a cluster.
"""

from __future__ import annotations

import re
from typing import Any

from tests.packaging.dev_loops import IMAGES, ROOT, RUN_SH, SERVICES, source_dir


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
