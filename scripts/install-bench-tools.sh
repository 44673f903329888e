#!/usr/bin/env bash
# Installs the benchmark's load generator, wrk, from Debian's `wrk` package (idempotent).
#
# `apt-get update` runs only when apt does not know the package yet (a fresh machine's empty
# lists), so a second run on a prepared machine does nothing and needs no network.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show wrk >/dev/null 2>&1; then
  $SUDO apt-get update -qq
fi
if ! $SUDO apt-get install -y -qq --no-install-recommends wrk >/dev/null; then
  # The lists may be stale (a removed version): refresh once and try again.
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi
command -v wrk >/dev/null
echo "wrk installed: $(wrk --version 2>&1 | head -1)"
