"""skaffold.yaml: valid against skaffold's published schema, and wired to the real charts."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.packaging.dev_loops import IMAGES, ROOT, SCHEMA, SERVICES, SHARED_SCHEMA, load_yaml
from tests.support import helm as helm_support


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
