#!/usr/bin/env bash
# Installs Debian packages with apt, as root or through sudo: scripts/apt-install.sh PACKAGE...
#
# `apt-get update` runs only when apt does not know one of the packages yet (a fresh machine's
# empty lists), so a run on a prepared machine needs no network for the lists; an install that
# fails refreshes the lists once and tries again (stale lists name a removed version).
set -euo pipefail
if [ "$#" -eq 0 ]; then
  echo "usage: $0 PACKAGE..." >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
  as_root() { sudo env DEBIAN_FRONTEND=noninteractive "$@"; }
else
  as_root() { env DEBIAN_FRONTEND=noninteractive "$@"; }
fi
for package in "$@"; do
  if ! apt-cache show "$package" >/dev/null 2>&1; then
    as_root apt-get update -qq
    break
  fi
done
if ! as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null; then
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
fi
