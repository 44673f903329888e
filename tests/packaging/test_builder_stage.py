"""The builder stage of docker/Dockerfile, replayed without Docker.

No Docker engine runs here, so the files its ``COPY`` instructions take from the build
context (filtered by ``.dockerignore``) are copied into a temporary folder and its ``RUN``
commands run there, verbatim, with the stage's ``ENV``. The resulting virtual environment
must then run the service's command line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.packaging.dockerfile import (
    ENTRYPOINT,
    PACKAGES,
    ROOT,
    Dockerfile,
    DockerIgnore,
    copy_sources,
)

SH = shutil.which("sh") or "/bin/sh"


def _copy_into(context: Path, ignore: DockerIgnore, source: str, dest: Path, into: bool) -> None:
    """Copy ``source`` like Docker: into the folder ``dest`` when ``into`` (``dest/``)."""
    if (context / source).is_file():
        files = [(source, dest / Path(source).name if into else dest)]
    else:
        base = source.rstrip("/")
        files = [(f, dest / Path(f).relative_to(base)) for f in ignore.context_files(context, base)]
    for relative, target in files:
        if ignore.excluded(relative):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(context / relative, target)


def replay_builder(dockerfile: Dockerfile, ignore: DockerIgnore, package: str, root: Path):
    """Run the builder stage's COPY and RUN steps for ``package`` under ``root``."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is not on PATH (the project's tools run through uv)", pytrace=False)
    builder = dockerfile.stage("builder")
    venv = root / "app" / ".venv"
    env = {
        **os.environ,
        **builder.env(),
        "PACKAGE": package,
        "UV_PROJECT_ENVIRONMENT": str(venv),
        # Byte-compiling thousands of files proves nothing about the lock; skip it here.
        "UV_COMPILE_BYTECODE": "0",
        # The image's interpreter is python3.11 of the base image; here, this one.
        "UV_PYTHON": sys.executable,
        "PATH": f"{Path(uv).parent}:{os.environ['PATH']}",
    }
    # The image copies out of a cache mount; here uv's default (hard links) is much faster.
    for key in ("VIRTUAL_ENV", "UV_FROZEN", "UV_NO_SYNC", "UV_LINK_MODE"):
        env.pop(key, None)
    workdir = root
    for step in builder.instructions:
        if step.keyword == "WORKDIR":
            workdir = root / step.arguments.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif step.keyword == "COPY" and not step.flags.get("from"):
            sources, dest = copy_sources(step)
            into = dest.endswith("/") or len(sources) > 1
            for source in sources:
                _copy_into(ROOT, ignore, source, workdir / dest, into)
        elif step.keyword == "RUN":
            result = subprocess.run(
                [SH, "-c", step.arguments],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                timeout=240,
                check=False,
            )
            assert result.returncode == 0, f"line {step.line} failed:\n{result.stderr}"
    return venv


def site_packages(venv: Path) -> Path:
    (found,) = venv.glob("lib/python3*/site-packages")
    return found


@pytest.fixture(scope="module")
def built_venv(dockerfile, dockerignore, tmp_path_factory) -> Callable[[str], Path]:
    """Replay the builder stage once per package and keep the result for the module."""
    venvs: dict[str, Path] = {}

    def build(package: str) -> Path:
        if package not in venvs:
            root = tmp_path_factory.mktemp(package)
            venvs[package] = replay_builder(dockerfile, dockerignore, package, root)
        return venvs[package]

    return build


@pytest.mark.parametrize(
    ("package", "command"),
    [
        ("souk-catalog", ["-m", "souk_catalog", "--help"]),
        ("souk-operator", ["-c", "import souk_operator.main; print('usage: operator ok')"]),
    ],
)
def test_builder_stage_installs_a_runnable_locked_environment(built_venv, package, command):
    venv = built_venv(package)
    python = venv / "bin" / "python"
    result = subprocess.run(
        [str(python), *command], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout

    installed = {p.name for p in site_packages(venv).iterdir()}
    module = package.replace("-", "_")
    assert {module, "souk_common", "souk_contracts"} <= installed
    assert not {"pytest", "ruff", "mypy", "souk_devstack"} & installed, "dev or unrelated code"
    others = {p.replace("-", "_") for p in PACKAGES} - {module}
    assert not others & installed, f"{package} pulled in another service"
    editable = [p.name for p in site_packages(venv).glob("*.pth") if "souk" in p.read_text()]
    assert not editable, f"workspace members installed editable: {editable}"
    # The Tiltfile's live reload runs the process under watchfiles (from uvicorn[standard]).
    assert (venv / "bin" / "watchfiles").exists()


def test_image_entrypoint_runs_the_installed_service(built_venv):
    """The entrypoint with the built venv first on PATH, as in the image, reaches the CLI."""
    venv = built_venv("souk-catalog")
    result = subprocess.run(
        [str(ENTRYPOINT), "--help"],
        env={"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "SOUK_PACKAGE": "souk-catalog"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: souk-catalog")
