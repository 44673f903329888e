"""``global.image.*`` overrides every image of a Souk install, and ``global`` is a closed schema.

One ``--set global.image.registry=... --set global.image.tag=...`` render of the umbrella puts
every container (Deployments, Jobs, init containers) and the Marketplace's Managed PostgreSQL
and Redis images on that registry and tag; the operator chart follows the same rule. A chart's
own ``image.*`` beats ``global.image.*``, field by field. A typo under ``global`` fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from souk_operator.model import POSTGRES_IMAGE, REDIS_IMAGE
from tests.charts.conftest import SERVICES, UMBRELLA, refusal
from tests.support.helm import REPO_ROOT, find, render

OPERATOR = REPO_ROOT / "charts/souk-operator"
GLOBAL = {"global.image.registry": "r.example", "global.image.tag": "9.9.9"}
WORKLOADS = ("Deployment", "StatefulSet", "Job", "DaemonSet", "CronJob")


def _containers(manifests: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (owner, container) for every container and init container of every workload."""
    for doc in manifests:
        if doc.get("kind") not in WORKLOADS:
            continue
        spec = doc["spec"]
        pod = spec.get("jobTemplate", {}).get("spec", spec)["template"]["spec"]
        for container in pod.get("initContainers", []) + pod["containers"]:
            yield f"{doc['kind']}/{doc['metadata']['name']}/{container['name']}", container


@pytest.mark.usefixtures("built_charts")
def test_one_global_override_moves_every_umbrella_image():
    manifests = render(
        UMBRELLA,
        set_values={
            **GLOBAL,
            "global.image.pullPolicy": "Always",
            "global.seed.enabled": "true",
            "observability.enabled": "true",
        },
    )
    containers = dict(_containers(manifests))
    kinds = {owner.split("/")[0] for owner in containers}
    assert kinds == {"Deployment", "Job"}
    assert any(owner.endswith("/migrate") for owner in containers)  # init containers
    assert len([o for o in containers if o.startswith("Deployment/shop-")]) > len(SERVICES)
    for owner, container in containers.items():
        assert container["image"].startswith("r.example/"), owner
        assert container["image"].endswith(":9.9.9"), owner
        assert container["imagePullPolicy"] == "Always", owner
    images = {c["image"] for c in containers.values()}
    assert {f"r.example/souk/souk-{s}:9.9.9" for s in SERVICES} <= images
    assert "r.example/otel/opentelemetry-collector-contrib:9.9.9" in images
    (marketplace,) = find(manifests, "Marketplace")
    spec = marketplace["spec"]
    assert spec["postgres"]["managed"]["image"] == "r.example/postgres:9.9.9"
    assert spec["redis"]["managed"]["image"] == "r.example/redis:9.9.9"


@pytest.mark.usefixtures("built_charts")
def test_without_global_overrides_every_image_is_as_before():
    manifests = render(UMBRELLA, set_values={"observability.enabled": "true"})
    images = {c["image"] for _, c in _containers(manifests)}
    assert images == {
        *(f"ghcr.io/souk/souk-{s}:0.1.0" for s in SERVICES),
        "otel/opentelemetry-collector-contrib:0.114.0",
    }
    assert {c["imagePullPolicy"] for _, c in _containers(manifests)} == {"IfNotPresent"}
    (marketplace,) = find(manifests, "Marketplace")
    assert "image" not in marketplace["spec"]["postgres"]["managed"]
    assert "image" not in marketplace["spec"]["redis"]["managed"]


@pytest.mark.usefixtures("built_charts")
def test_a_charts_own_image_values_beat_global_field_by_field():
    manifests = render(
        UMBRELLA,
        set_values={
            **GLOBAL,
            "global.image.pullPolicy": "Always",
            "orders.image.tag": "1.0.0",
            "payments.image.registry": "own.example:5000",
            "auth.image.pullPolicy": "Never",
            "catalog.image.repository": "localhost/catalog",
            "marketplace.postgres.managed.image": "pg.example/postgres:16.4",
        },
    )
    images = {owner: c for owner, c in _containers(manifests)}
    assert images["Deployment/shop-orders/orders"]["image"] == "r.example/souk/souk-orders:1.0.0"
    assert images["Deployment/shop-payments/payments"]["image"] == (
        "own.example:5000/souk/souk-payments:9.9.9"
    )
    assert images["Deployment/shop-auth/auth"]["imagePullPolicy"] == "Never"
    assert images["Deployment/shop-orders/orders"]["imagePullPolicy"] == "Always"
    assert images["Deployment/shop-catalog/catalog"]["image"] == "r.example/catalog:9.9.9"
    (marketplace,) = find(manifests, "Marketplace")
    assert marketplace["spec"]["postgres"]["managed"]["image"] == "pg.example/postgres:16.4"
    assert marketplace["spec"]["redis"]["managed"]["image"] == "r.example/redis:9.9.9"


@pytest.mark.usefixtures("built_charts")
def test_only_a_global_registry_keeps_the_default_tags():
    manifests = render(UMBRELLA, set_values={"global.image.registry": "mirror.example/hub"})
    (marketplace,) = find(manifests, "Marketplace")
    managed = {b: marketplace["spec"][b]["managed"]["image"] for b in ("postgres", "redis")}
    assert managed == {
        "postgres": f"mirror.example/hub/{POSTGRES_IMAGE}",
        "redis": f"mirror.example/hub/{REDIS_IMAGE}",
    }
    images = {c["image"] for _, c in _containers(manifests)}
    assert "mirror.example/hub/souk/souk-auth:0.1.0" in images


def test_the_operator_chart_follows_global_image():
    manifests = render(OPERATOR, set_values={**GLOBAL, "global.image.pullPolicy": "Always"})
    (container,) = [c for _, c in _containers(manifests)]
    assert container["image"] == "r.example/souk/souk-operator:9.9.9"
    assert container["imagePullPolicy"] == "Always"
    own = render(OPERATOR, set_values={**GLOBAL, "image.tag": "2.0.0", "image.pullPolicy": "Never"})
    (container,) = [c for _, c in _containers(own)]
    assert container["image"] == "r.example/souk/souk-operator:2.0.0"
    assert container["imagePullPolicy"] == "Never"


@pytest.mark.usefixtures("built_charts")
@pytest.mark.parametrize(
    ("chart", "key"),
    [
        (UMBRELLA, "global.imagee.tag"),
        (UMBRELLA, "global.image.tagg"),
        (UMBRELLA, "global.otel.endpointt"),
        (REPO_ROOT / "charts/souk-orders", "global.imagee.tag"),
        (OPERATOR, "global.imagee.tag"),
        (OPERATOR, "global.image.registy"),
    ],
)
def test_a_typo_under_global_fails_with_a_schema_error(chart, key):
    reason = refusal(chart, {key: "9.9.9"})
    assert "schema" in reason
    assert "additional properties" in reason
    assert key.split(".")[-2] in reason or key.split(".")[1] in reason
