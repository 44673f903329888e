"""Fixtures of the packaging tests: the Dockerfile and .dockerignore read, skaffold.yaml and
its schema, the Tiltfile evaluated."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from tests.packaging.dev_loops import SCHEMA, TiltRun, evaluate_tiltfile, load_yaml
from tests.packaging.dockerfile import DOCKERFILE, ROOT, Dockerfile, DockerIgnore, parse_dockerfile
from tests.support import helm as helm_support


@pytest.fixture(scope="module")
def skaffold() -> dict[str, Any]:
    """skaffold.yaml, parsed."""
    return load_yaml(ROOT / "skaffold.yaml")


@pytest.fixture(scope="module")
def skaffold_validator() -> jsonschema.Draft7Validator:
    """A validator for skaffold's published v4beta14 schema (the repository's copy)."""
    return jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))


@pytest.fixture(scope="module")
def tilt() -> TiltRun:
    """The Tiltfile evaluated without rendering charts (paths and calls only)."""
    return evaluate_tiltfile(render=False)


@pytest.fixture(scope="module")
def rendered_tilt() -> TiltRun:
    """The Tiltfile evaluated with the charts rendered by the real helm."""
    helm_support.require_helm()
    return evaluate_tiltfile(render=True)


@pytest.fixture(scope="module")
def dockerfile() -> Dockerfile:
    """docker/Dockerfile, parsed."""
    return parse_dockerfile(DOCKERFILE)


@pytest.fixture(scope="module")
def dockerignore() -> DockerIgnore:
    """.dockerignore's rules."""
    return DockerIgnore.load(ROOT / ".dockerignore")
