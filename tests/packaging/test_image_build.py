"""docker/Dockerfile and .dockerignore with a real builder: buildah builds, podman runs.

The image comes from ``scripts/build-images.sh --only souk-catalog`` (idempotent: seconds when
it is already built; a few minutes from nothing, for the debootstrap base and the stand-ins).
Without buildah, podman, debootstrap or root these tests skip with one line saying what is
missing, and fail with it instead when ``SOUK_IMAGES_REQUIRED=1`` (CI), so a machine that
cannot build images cannot pass as a skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.packaging.dockerfile import ROOT
from tests.packaging.images import BASE_IMAGE, ULIMITS, build_images, podman_run, run

pytestmark = pytest.mark.images

IMAGE = "souk-catalog:local"


@pytest.fixture(scope="module")
def catalog_image() -> str:
    """souk-catalog:local, built by scripts/build-images.sh (skipped when up to date)."""
    build_images("souk-catalog")
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
    result = run(["buildah", "inspect", "--type", "image", catalog_image])
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)["Docker"]["config"]
    healthcheck = config.get("Healthcheck") or {}
    assert "/usr/local/lib/souk/healthcheck.py" in healthcheck.get("Test", []), (
        "HEALTHCHECK lost: build with --format docker"
    )
    assert config["Entrypoint"] == ["/usr/local/bin/souk-entrypoint"]
    assert config["User"] == "10001:10001"


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
    build = run(
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
        run(["buildah", "rmi", tag])
    files = {line.removeprefix("/context/") for line in listing.splitlines()}
    for decoy in DECOYS:
        assert decoy not in files, f"{decoy} reached the build context"
    for needed in NEEDED:
        assert needed in files, f"{needed} is missing from the build context"
    assert not any(f.startswith(("docs/", "charts/", "k8s/", ".git/", ".souk/")) for f in files)
