#!/usr/bin/env bash
# Installs Prometheus and promtool from Debian's `prometheus` package (idempotent).
#
# The package's own system service is stopped and disabled where systemd/invoke-rc.d can: the
# local observability mode and the tests run their own `prometheus` process on a free port with
# a generated configuration, never the system one.
set -euo pipefail
if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
# Keep the package's post-install from starting its daemon (policy-rc.d exit 101 = "forbidden").
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 0755 "$policy"
  created_policy=1
fi
cleanup() { if [ "$created_policy" = 1 ]; then $SUDO rm -f "$policy"; fi; }
trap cleanup EXIT
"$(dirname "$0")/../scripts/apt-install.sh" prometheus
command -v prometheus >/dev/null && command -v promtool >/dev/null
echo "prometheus installed: $(prometheus --version 2>&1 | head -1)"
