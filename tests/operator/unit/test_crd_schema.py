"""The Marketplace CRD documents itself and its conditions follow metav1.Condition.

Every property of the openAPIV3Schema carries a description (what ``kubectl explain`` prints),
and every status the operator's status writer builds validates against the CRD's status
schema, so a real API server accepts the operator's status patches (the envtest
``tests/operator/test_crd_explain.py`` proves the server side).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from souk_operator import status

CRD = Path(__file__).parents[3] / "charts/souk-operator/crds/marketplaces.souk.dev.yaml"
# Value validations: Kubernetes forbids descriptions inside them (structural schemas).
_VALIDATION_KEYS = ("oneOf", "anyOf", "allOf", "not")


def _schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD.read_text())
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def _nodes(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield every schema node under ``node`` (properties, items, additionalProperties)."""
    yield path, node
    for name, child in (node.get("properties") or {}).items():
        yield from _nodes(child, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from _nodes(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _nodes(node["additionalProperties"], f"{path}{{*}}")


def test_every_property_of_the_crd_has_a_description():
    nodes = list(_nodes(_schema(), "marketplace"))
    assert len(nodes) >= 45
    missing = [path for path, node in nodes if not str(node.get("description", "")).strip()]
    assert missing == []


def test_descriptions_stay_out_of_value_validations():
    def walk(node: Any, inside: bool) -> Iterator[bool]:
        if isinstance(node, dict):
            if inside and "description" in node:
                yield True
            for key, child in node.items():
                yield from walk(child, inside or key in _VALIDATION_KEYS)
        elif isinstance(node, list):
            for child in node:
                yield from walk(child, inside)

    assert not any(walk(_schema(), False))


def test_conditions_follow_metav1_condition():
    conditions = _schema()["properties"]["status"]["properties"]["conditions"]
    item = conditions["items"]
    assert item["required"] == ["type", "status", "reason", "message", "lastTransitionTime"]
    props = item["properties"]
    assert props["type"]["maxLength"] == 316
    assert props["type"]["pattern"] == (
        r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
        r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
    )
    assert props["status"]["enum"] == ["True", "False", "Unknown"]
    assert props["reason"]["maxLength"] == status.REASON_MAX == 1024
    assert props["reason"]["minLength"] == 1
    assert props["reason"]["pattern"] == r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"
    assert props["message"]["maxLength"] == status.MESSAGE_MAX == 32768
    assert props["lastTransitionTime"] == {**props["lastTransitionTime"], "format": "date-time"}
    assert props["observedGeneration"]["type"] == "integer"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]


def _status(reason: str, message: str) -> dict[str, Any]:
    stage = status.Stage("temporary", reason, message)
    return status.build_status(
        generation=3,
        marketplace="shop",
        services=["auth", "orders"],
        databases=stage,
        streams=status.Stage("ok", "StreamsProvisioned", "fine"),
        deployments={"auth": status.DeploymentState(1, 1)},
        previous=None,
        now="2026-01-02T03:04:05Z",
    )


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("PostgresUnavailable", "connection refused"),
        ("", ""),  # a stage rebuilt from a condition without a reason
        ("bad reason: 42!", "x" * 40_000),
        ("9Lives", "ünïcode"),
        ("Trailing:", "m"),
    ],
)
def test_the_status_writer_fills_every_required_field_validly(reason, message):
    schema = _schema()["properties"]["status"]
    body = _status(reason, message)
    jsonschema.validate(body, schema)
    for item in body["conditions"]:
        assert set(item) >= {"type", "status", "reason", "message", "lastTransitionTime"}
        assert re.fullmatch(schema["properties"]["conditions"]["items"]["properties"]["reason"]
                            ["pattern"], item["reason"])  # fmt: skip
        stamp = item["lastTransitionTime"].replace("Z", "+00:00")
        assert dt.datetime.fromisoformat(stamp).tzinfo is not None


def test_condition_reason_and_message_are_bounded():
    assert status.condition_reason("PostgresUnavailable") == "PostgresUnavailable"
    assert status.condition_reason("") == "Unknown"
    assert status.condition_reason("a b-c") == "abc"
    assert len(status.condition_reason("A" * 2000)) == 1024
    assert len(status.condition_message("x" * 40_000)) == 32768
