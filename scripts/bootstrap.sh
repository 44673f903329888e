#!/usr/bin/env bash
# Installs what Souk needs on a fresh machine: uv (from PyPI) and the locked workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check uv
fi
uv sync --frozen --quiet
