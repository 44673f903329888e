#!/usr/bin/env bash
# Installs the benchmark's load generator, wrk, from Debian's `wrk` package (idempotent).
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then
  exit 0
fi
"$(dirname "$0")/apt-install.sh" wrk
command -v wrk >/dev/null
echo "wrk installed: $(wrk --version 2>&1 | head -1)"
