"""What the image tests share: scripts/build-images.sh, buildah and podman, and the rule that
a machine without them skips (or fails under ``SOUK_IMAGES_REQUIRED=1``, as CI sets it)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.packaging.dockerfile import ROOT

BUILD_SCRIPT = ROOT / "scripts" / "build-images.sh"
CACHE = Path(os.environ.get("SOUK_IMAGE_CACHE", Path.home() / ".cache" / "souk-images"))
BASE_IMAGE = "localhost/souk-debian-base:bookworm"
# No CAP_SYS_RESOURCE on these machines: the default rlimits cannot be set.
ULIMITS = ["--ulimit", "nofile=16384:16384", "--ulimit", "nproc=16384:16384"]
TOOLS = ("buildah", "podman", "debootstrap")


def require_builder() -> None:
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


def run(args: list[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run a buildah/podman command with the script's containers.conf (lowered rlimits)."""
    env = {**os.environ, "CONTAINERS_CONF": str(CACHE / "containers.conf")}
    return subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


def build_images(*names: str) -> None:
    """``scripts/build-images.sh --only NAMES`` (seconds when they are up to date)."""
    require_builder()
    result = run([str(BUILD_SCRIPT), "--only", *names], timeout=3600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


def podman_run(image: str, *command: str, entrypoint: str | None = None) -> str:
    """Run ``command`` in a throwaway container with no network; return its stdout."""
    args = ["podman", "run", "--rm", *ULIMITS, "--network=none"]
    if entrypoint is not None:
        args += ["--entrypoint", entrypoint]
    result = run([*args, image, *command], timeout=120)
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout
