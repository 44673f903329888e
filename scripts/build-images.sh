#!/usr/bin/env bash
# Builds Souk's images on a machine with no container registry, with buildah (daemonless:
# nothing to start, nothing left running; the same engine and image store as podman):
#
#   souk-auth, souk-catalog, souk-orders, souk-payments, souk-notifications, souk-operator
#       docker/Dockerfile, unchanged, with stand-ins for its two bases:
#       PYTHON_IMAGE = a `debootstrap --variant=minbase bookworm` base + Debian's python3.11
#       UV_IMAGE     = /uv and /uvx from the PyPI wheel of the uv version the Dockerfile names
#   souk-postgres, souk-redis   docker/postgres, docker/redis (Debian's packages) for Managed mode
#   souk-pause                  the pod sandbox image: the static `pause` that
#                               scripts/build-kubernetes.sh builds, in an image from scratch
#
# Every image is tagged <name>:local and exported as a docker-archive tarball for
# `ctr -n k8s.io images import` (skipped when the image id has not changed). Idempotent: the
# debootstrap base and the uv wheel are cached, and buildah's layer cache makes a rebuild of
# unchanged images take seconds.
#
#   scripts/build-images.sh                          # everything
#   scripts/build-images.sh --only souk-catalog redis   # a subset (souk- prefix optional)
#   scripts/build-images.sh --no-pause               # everything but the pause image
#   SOUK_IMAGE_CACHE=/some/dir scripts/build-images.sh
#
# Layout of the cache (outside the checkout):
#   $SOUK_IMAGE_CACHE/containers.conf          exported as CONTAINERS_CONF (/etc untouched)
#   $SOUK_IMAGE_CACHE/debian-bookworm-minbase.tar   the debootstrap root file system
#   $SOUK_IMAGE_CACHE/archives/<name>.tar (+ .id)   docker-archive of <name>:local
#   $SOUK_IMAGE_CACHE/logs/build.log           full output of the last run's commands
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${SOUK_IMAGE_CACHE:-$HOME/.cache/souk-images}"
ENVTEST_CACHE="${SOUK_ENVTEST_CACHE:-$HOME/.cache/souk-envtest}"
SUITE=bookworm
BASE_IMAGE="localhost/souk-debian-base:$SUITE"
PYTHON_STANDIN="localhost/souk-standin-python:3.11-$SUITE"
SERVICES=(souk-auth souk-catalog souk-orders souk-payments souk-notifications souk-operator)
ALL=("${SERVICES[@]}" souk-postgres souk-redis souk-pause)

usage() {
    sed -n '2,/^set -E/{/^set -E/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

# --- arguments -----------------------------------------------------------------------------
WANTED=()
NO_PAUSE=0
while [ "$#" -gt 0 ]; do
    case "$1" in
    --only)
        shift
        while [ "$#" -gt 0 ] && [ "${1#-}" = "$1" ]; do
            name="souk-${1#souk-}"
            name="${name%:local}"
            if [[ " ${ALL[*]} " != *" $name "* ]]; then
                echo "images: unknown image $1 (one of: ${ALL[*]})" >&2
                exit 2
            fi
            WANTED+=("$name")
            shift
        done
        [ "${#WANTED[@]}" -gt 0 ] || { echo "images: --only needs at least one name" >&2; exit 2; }
        ;;
    --no-pause) NO_PAUSE=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "images: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ "${#WANTED[@]}" -gt 0 ] || WANTED=("${ALL[@]}")
if [ "$NO_PAUSE" = 1 ]; then
    kept=()
    for name in "${WANTED[@]}"; do [ "$name" = souk-pause ] || kept+=("$name"); done
    WANTED=("${kept[@]}")
fi
wanted() {
    local name
    for name in "${WANTED[@]}"; do [ "$name" = "$1" ] && return 0; done
    return 1
}

# --- steps, log, failure -------------------------------------------------------------------
mkdir -p "$CACHE/logs" "$CACHE/archives"
LOG="$CACHE/logs/build.log"
: >"$LOG"

STEP_PREFIX=images
# shellcheck source=scripts/lib/steps.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/steps.sh"

for tool in buildah podman debootstrap tar unzip python3; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed (apt-get install buildah podman debootstrap unzip)"
done
[ "$(id -u)" = 0 ] || fail "run as root: debootstrap and the image store need it"

# --- containers.conf: lowered rlimits (no CAP_SYS_RESOURCE here), /etc left alone ----------
step "containers.conf ($CACHE/containers.conf)"
cat >"$CACHE/containers.conf" <<'EOF'
# Written by scripts/build-images.sh. Without CAP_SYS_RESOURCE a container cannot get the
# default rlimits (nofile above the hard limit fails with "error setting rlimit type 7").
[containers]
default_ulimits = ["nofile=16384:16384", "nproc=16384:16384"]
EOF
export CONTAINERS_CONF="$CACHE/containers.conf"

image_id() { buildah images --noheading --no-trunc --format '{{.ID}}' "$1" 2>/dev/null | head -n 1; }
image_exists() { [ -n "$(image_id "$1")" ]; }

bud() {
    # bud <tag> <build args...>: buildah with the settings every image here needs.
    local tag=$1
    shift
    # --force-rm: buildah 1.28 otherwise leaves a working container behind for the `uv` stage.
    run buildah bud --layers --force-rm --format docker --network=host --pull=never \
        --ulimit nofile=16384:16384 --ulimit nproc=16384:16384 -t "$tag" "$@"
}

# --- the Debian base: debootstrap once, imported as an image -------------------------------
need_base=0
for name in "${WANTED[@]}"; do [ "$name" = souk-pause ] || need_base=1; done

declare -A SECONDS_OF=()

if [ "$need_base" = 1 ]; then
    begin=$SECONDS
    ROOTFS_TAR="$CACHE/debian-$SUITE-minbase.tar"
    if [ ! -s "$ROOTFS_TAR" ]; then
        # The mirror this machine's apt uses (deb822 first, then the one-line format).
        MIRROR="$(awk '/^URIs:/ {u = $2} /^Suites:/ && / '"$SUITE"'( |$)/ {print u; exit}' \
            /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
        [ -n "$MIRROR" ] || MIRROR="$(awk '$1 == "deb" && $3 == "'"$SUITE"'" {print $2; exit}' \
            /etc/apt/sources.list 2>/dev/null || true)"
        MIRROR="${MIRROR:-http://deb.debian.org/debian}"
        SECURITY="$(awk '/^URIs:/ {u = $2} /^Suites:/ && / '"$SUITE"'-security( |$)/ {print u; exit}' \
            /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
        SECURITY="${SECURITY:-${MIRROR}-security}"
        step "debootstrap --variant=minbase $SUITE from $MIRROR"
        rootfs="$CACHE/rootfs.tmp"
        rm -rf "$rootfs"
        run debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR"
        # The image's apt uses the same mirror with updates and security, like the machine.
        printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' \
            "$MIRROR" "$SUITE" "$MIRROR" "$SUITE" "$SECURITY" "$SUITE" >"$rootfs/etc/apt/sources.list"
        rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb \
            "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/* "$rootfs"/tmp/*
        run tar -C "$rootfs" --numeric-owner -cf "$ROOTFS_TAR.tmp" .
        mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
        rm -rf "$rootfs"
    fi
    # Re-import only when the tarball changed since the last import.
    stamp="$(stat -c '%s %Y' "$ROOTFS_TAR")"
    if ! image_exists "$BASE_IMAGE" || [ "$(cat "$CACHE/base.stamp" 2>/dev/null)" != "$stamp" ]; then
        step "import $BASE_IMAGE"
        run podman import --change 'CMD ["/bin/bash"]' \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'ENV LANG=C.UTF-8' "$ROOTFS_TAR" "$BASE_IMAGE"
        echo "$stamp" >"$CACHE/base.stamp"
    fi
    SECONDS_OF[base]=$((SECONDS - begin))
fi

# --- stand-ins for docker/Dockerfile's bases -----------------------------------------------
need_services=0
for name in "${WANTED[@]}"; do
    case " ${SERVICES[*]} " in *" $name "*) need_services=1 ;; esac
done

if [ "$need_services" = 1 ]; then
    UV_VERSION="$(sed -n 's|^ARG UV_IMAGE=.*/uv:\([0-9][0-9.]*\).*|\1|p' "$ROOT/docker/Dockerfile")"
    [ -n "$UV_VERSION" ] || fail "no uv version in docker/Dockerfile's ARG UV_IMAGE"
    UV_STANDIN="localhost/souk-standin-uv:$UV_VERSION"

    begin=$SECONDS
    step "stand-in PYTHON_IMAGE $PYTHON_STANDIN (Debian python3.11)"
    dir="$CACHE/standin-python"
    mkdir -p "$dir"
    # The machine's CA bundle, so uv and pip in the build trust what the machine trusts (a
    # TLS-inspecting proxy's CA included). Only the stand-in carries it.
    cp /etc/ssl/certs/ca-certificates.crt "$dir/host-ca-certificates.crt"
    cat >"$dir/Containerfile" <<EOF
FROM $BASE_IMAGE
RUN apt-get update \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
       python3.11 python-is-python3 ca-certificates \\
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
COPY host-ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
EOF
    bud "$PYTHON_STANDIN" -f "$dir/Containerfile" "$dir"
    SECONDS_OF[standin-python]=$((SECONDS - begin))

    begin=$SECONDS
    step "stand-in UV_IMAGE $UV_STANDIN (uv $UV_VERSION from PyPI)"
    dir="$CACHE/standin-uv-$UV_VERSION"
    mkdir -p "$dir/wheel"
    if [ ! -x "$dir/uv" ] || [ ! -x "$dir/uvx" ]; then
        run python3 -m pip download --disable-pip-version-check --no-deps --only-binary=:all: \
            --platform manylinux_2_17_x86_64 --python-version 3.11 --dest "$dir/wheel" \
            "uv==$UV_VERSION"
        wheel="$(ls "$dir"/wheel/uv-"$UV_VERSION"-*.whl | head -n 1)"
        run unzip -o -j "$wheel" "uv-$UV_VERSION.data/scripts/uv" "uv-$UV_VERSION.data/scripts/uvx" -d "$dir"
        chmod 0755 "$dir/uv" "$dir/uvx"
    fi
    printf 'FROM scratch\nCOPY uv uvx /\n' >"$dir/Containerfile"
    bud "$UV_STANDIN" -f "$dir/Containerfile" "$dir"
    SECONDS_OF[standin-uv]=$((SECONDS - begin))
fi

# docker-archive tarballs for `ctr -n k8s.io images import`, rewritten only when the image id
# changed since the last export (the id is kept beside the tarball).
export_archive() {
    local name=$1 archive id
    archive="$CACHE/archives/$name.tar"
    id="$(image_id "$name:local")"
    if [ -s "$archive" ] && [ "$(cat "$archive.id" 2>/dev/null)" = "$id" ]; then
        return 0
    fi
    step "export $name:local to $archive"
    rm -f "$archive" "$archive.tmp" "$archive.id"
    run buildah push "$name:local" "docker-archive:$archive.tmp:$name:local"
    mv "$archive.tmp" "$archive"
    echo "$id" >"$archive.id"
}

# --- the images ------------------------------------------------------------------------------
BUILT=()
for name in "${SERVICES[@]}"; do
    wanted "$name" || continue
    begin=$SECONDS
    step "build $name:local (docker/Dockerfile, PACKAGE=$name)"
    bud "$name:local" -f "$ROOT/docker/Dockerfile" --build-arg "PACKAGE=$name" \
        --build-arg "PYTHON_IMAGE=$PYTHON_STANDIN" --build-arg "UV_IMAGE=$UV_STANDIN" "$ROOT"
    SECONDS_OF[$name]=$((SECONDS - begin))
    BUILT+=("$name")
    export_archive "$name"
done

for server in postgres redis; do
    name="souk-$server"
    wanted "$name" || continue
    begin=$SECONDS
    step "build $name:local (docker/$server, Debian's packages)"
    bud "$name:local" -f "$ROOT/docker/$server/Dockerfile" --build-arg "BASE_IMAGE=$BASE_IMAGE" \
        "$ROOT/docker/$server"
    SECONDS_OF[$name]=$((SECONDS - begin))
    BUILT+=("$name")
    export_archive "$name"
done

# Last: scripts/build-kubernetes.sh may still be compiling while the others build.
if wanted souk-pause; then
    begin=$SECONDS
    step "build souk-pause:local (pause from scripts/build-kubernetes.sh)"
    pause="$(ls -d "$ENVTEST_CACHE"/v*/pause 2>/dev/null | sort -V | tail -n 1 || true)"
    [ -n "$pause" ] && [ -x "$pause" ] \
        || fail "no pause binary under $ENVTEST_CACHE/v*/pause: run scripts/build-kubernetes.sh first (or pass --no-pause)"
    dir="$CACHE/pause"
    mkdir -p "$dir"
    cp "$pause" "$dir/pause"
    printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' >"$dir/Containerfile"
    bud souk-pause:local -f "$dir/Containerfile" "$dir"
    SECONDS_OF[souk-pause]=$((SECONDS - begin))
    BUILT+=(souk-pause)
    export_archive souk-pause
fi

step "done: ${#BUILT[@]} image(s), archives in $CACHE/archives"
printf '%-36s %10s %6s\n' IMAGE SIZE BUILD
for name in base standin-python standin-uv "${BUILT[@]}"; do
    [ -n "${SECONDS_OF[$name]:-}" ] || continue
    case "$name" in
    base) ref="$BASE_IMAGE" ;;
    standin-python) ref="$PYTHON_STANDIN" ;;
    standin-uv) ref="$UV_STANDIN" ;;
    *) ref="$name:local" ;;
    esac
    size="$(buildah images --noheading --format '{{.Size}}' "$ref" | head -n 1)"
    printf '%-36s %10s %5ss\n' "${ref#localhost/}" "$size" "${SECONDS_OF[$name]}"
done
