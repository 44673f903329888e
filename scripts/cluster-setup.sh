#!/usr/bin/env bash
# Everything the local real-node tier needs, idempotent (seconds when all is there):
#   1. Debian's container runtime and image tools (containerd, runc, the CNI plugins, iptables,
#      conntrack, dnsmasq for cluster DNS, buildah/podman and debootstrap for the images);
#   2. the Kubernetes node binaries, kubectl and helm (scripts/build-kubernetes.sh, cached);
#   3. the nine images (scripts/build-images.sh, cached).
set -Eeuo pipefail
cd "$(dirname "$0")/.."
START=$SECONDS
step() { printf '[cluster-setup %4ds] %s\n' "$((SECONDS - START))" "$1"; }

PACKAGES=(containerd runc containernetworking-plugins iptables conntrack dnsmasq-base
          buildah podman skopeo debootstrap unzip ca-certificates)
missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  step "apt-get install ${missing[*]}"
  scripts/apt-install.sh "${missing[@]}"
else
  step "Debian packages already installed"
fi
step "Kubernetes binaries (scripts/build-kubernetes.sh)"
scripts/build-kubernetes.sh
step "images (scripts/build-images.sh)"
scripts/build-images.sh
step "done"
