"""docker/Dockerfile and .dockerignore with a real builder: buildah builds, podman runs.

The image comes from ``scripts/build-images.sh --only souk-catalog`` (idempotent: seconds when
it is already built; a few minutes from nothing, for the debootstrap base and the stand-ins).
Without buildah, podman, debootstrap or root these tests skip with one line saying what is
missing, and fail with it instead when ``SOUK_IMAGES_REQUIRED=1`` (CI), so a machine that
cannot build images cannot pass as a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.packaging.dockerfile import ROOT

pytestmark = pytest.mark.images

BUILD_SCRIPT = ROOT / "scripts" / "build-images.sh"
CACHE = Path(os.environ.get("SOUK_IMAGE_CACHE", Path.home() / ".cache" / "souk-images"))
BASE_IMAGE = "localhost/souk-debian-base:bookworm"
IMAGE = "souk-catalog:local"
# No CAP_SYS_RESOURCE on these machines: the default rlimits cannot be set.
ULIMITS = ["--ulimit", "nofile=16384:16384", "--ulimit", "nproc=16384:16384"]
TOOLS = ("buildah", "podman", "debootstrap")


def _require_builder() -> None:
    """Skip, or fail under ``SOUK_IMAGES_REQUIRED=1``, when images cannot be built here."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if os.geteuid() != 0:
        missing.append("root")
    if not missing:
        return
    message = (
        f"images: {', '.join(missing)} missing; install with "
        "`apt-get install buildah podman debootstrap` and run as root"
    )
    if os.environ.get("SOUK_IMAGES_REQUIRED") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _run(args: list[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONTAINERS_CONF": str(CACHE / "containers.conf")}
    return subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


def podman_run(image: str, *command: str, entrypoint: str | None = None) -> str:
    """Run ``command`` in a throwaway container with no network; return its stdout."""
    args = ["podman", "run", "--rm", *ULIMITS, "--network=none"]
    if entrypoint is not None:
        args += ["--entrypoint", entrypoint]
    result = _run([*args, image, *command], timeout=120)
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


@pytest.fixture(scope="module")
def catalog_image() -> str:
    """souk-catalog:local, built by scripts/build-images.sh (skipped when up to date)."""
    _require_builder()
    result = _run([str(BUILD_SCRIPT), "--only", "souk-catalog"], timeout=3600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return IMAGE


def test_the_image_runs_its_command_line_as_uid_10001(catalog_image: str):
    ids = podman_run(
        catalog_image, "-c", "import os; print(os.getuid(), os.getgid())", entrypoint="python"
    )
    assert ids.split() == ["10001", "10001"]
    usage = podman_run(catalog_image, "--help")  # through docker/entrypoint
    for command in ("serve", "migrate", "seed"):
        assert command in usage, usage


def test_the_venv_holds_the_service_and_nothing_of_the_dev_tooling(catalog_image: str):
    script = (
        "import importlib.util as u, json, pathlib, sys\n"
        "found = {m: u.find_spec(m) is not None for m in sys.argv[1:]}\n"
        "site = next(pathlib.Path('/app/.venv/lib').glob('python3.*/site-packages'))\n"
        "names = sorted(p.name for p in site.iterdir())\n"
        "print(json.dumps({'found': found, 'names': names}))\n"
    )
    out = podman_run(
        catalog_image,
        "-c",
        script,
        "souk_catalog",
        "souk_common",
        "souk_contracts",
        "souk_devstack",
        "uv",
        entrypoint="python",
    )
    report = json.loads(out.strip().splitlines()[-1])
    assert report["found"] == {
        "souk_catalog": True,
        "souk_common": True,
        "souk_contracts": True,
        "souk_devstack": False,
        "uv": False,
    }
    assert not [name for name in report["names"] if "devstack" in name], report["names"]
    # Installed as wheels (non-editable): no source tree, no uv, in the runtime image.
    present = podman_run(
        catalog_image,
        "-c",
        "for p in /app/.venv /src /bin/uv /usr/local/bin/uv; do [ -e $p ] && echo $p; done; true",
        entrypoint="sh",
    )
    assert present.split() == ["/app/.venv"], present


def test_the_image_keeps_its_healthcheck_and_entrypoint(catalog_image: str):
    result = _run(
        [
            "buildah",
            "inspect",
            "--type",
            "image",
            "--format",
            "{{json .Docker.Config.Healthcheck}} {{json .Docker.Config.Entrypoint}}",
            catalog_image,
        ]
    )
    assert result.returncode == 0, result.stderr
    assert "healthcheck.py" in result.stdout, "build with --format docker to keep HEALTHCHECK"
    assert "/usr/local/bin/souk-entrypoint" in result.stdout


def _tracked_files() -> list[str]:
    git = shutil.which("git")
    assert git, "git is needed to list the repository's files"
    result = subprocess.run(
        [git, "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True, timeout=60
    )
    return [name for name in result.stdout.decode().split("\0") if name]


DECOYS = (
    ".souk/secret",
    ".venv/bin/python",
    ".git/HEAD",
    "docs/decoy.md",
    "charts/decoy.yaml",
    "tests/decoy.py",
    "services/catalog/tests/test_decoy.py",
    "services/catalog/src/souk_catalog/__pycache__/decoy.cpython-311.pyc",
    "tools/devstack/src/souk_devstack/decoy.py",
    "bench-results/latest.json",
)
NEEDED = (
    "pyproject.toml",
    "uv.lock",
    "services/catalog/pyproject.toml",
    "services/catalog/src/souk_catalog/__init__.py",
    "services/common/src/souk_common/__init__.py",
    "operator/src/souk_operator/__init__.py",
    "tools/devstack/pyproject.toml",
    "docker/entrypoint",
    "docker/healthcheck.py",
)


def test_dockerignore_keeps_credentials_venv_and_git_out_of_a_real_build(
    catalog_image: str, tmp_path: Path
):
    """The repository's files plus decoys, built by buildah with the real .dockerignore."""
    context = tmp_path / "context"
    for name in _tracked_files():
        source = ROOT / name
        if source.is_file():
            target = context / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    for decoy in DECOYS:
        (context / decoy).parent.mkdir(parents=True, exist_ok=True)
        (context / decoy).write_text("decoy\n")
    containerfile = tmp_path / "Containerfile"
    containerfile.write_text(f"FROM {BASE_IMAGE}\nCOPY . /context/\n")
    tag = "localhost/souk-test-context:latest"
    build = _run(
        [
            "buildah",
            "bud",
            "--pull=never",
            *ULIMITS,
            "-f",
            str(containerfile),
            "-t",
            tag,
            str(context),
        ],
        timeout=600,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    try:
        listing = podman_run(tag, "find", "/context", "-type", "f")
    finally:
        _run(["buildah", "rmi", tag])
    files = {line.removeprefix("/context/") for line in listing.splitlines()}
    for decoy in DECOYS:
        assert decoy not in files, f"{decoy} reached the build context"
    for needed in NEEDED:
        assert needed in files, f"{needed} is missing from the build context"
    assert not any(f.startswith(("docs/", "charts/", "k8s/", ".git/", ".souk/")) for f in files)
