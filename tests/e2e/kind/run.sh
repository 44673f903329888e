#!/usr/bin/env bash
# Souk's kind end-to-end suite: a real cluster, the real images and charts, the journeys
# through the Ingress.
#
#   bash tests/e2e/kind/run.sh            # create (or reuse) kind cluster "souk", run, delete it
#   bash tests/e2e/kind/run.sh --keep     # leave the cluster running afterwards
#
# Steps: create the cluster from k8s/kind-cluster.yaml (reused when it exists), install
# ingress-nginx (kind flavour, pinned), build the six images from docker/Dockerfile and load
# them into the node (no registry), install charts/souk-operator (release souk-operator,
# namespace souk-system) and charts/souk (release shop, namespace shop, Managed PostgreSQL and
# Redis, demo data seeded), wait for Marketplace "shop" to be Ready, the Deployments to be
# available and the seed Jobs to complete, then run the journey tests (tests/e2e, marker e2e)
# against http://localhost: the same tests that run against the local stack.
#
# Needs docker, kind, kubectl, helm, uv and curl on PATH. On failure it writes pods, events,
# the Marketplace's status, Helm status and every container's logs to $SOUK_E2E_DIAGNOSTICS
# (default .souk/kind-e2e/) and prints a summary. A cluster this script did not create is
# never deleted.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: tests/e2e/kind/run.sh [--keep] [--skip-build] [-- PYTEST_ARGS...]

  --keep         keep the kind cluster afterwards (default: delete it if this run created it)
  --skip-build   do not build images; load the existing souk-*:$SOUK_IMAGE_TAG ones
  -h, --help     show this help

environment:
  KIND_NODE_IMAGE        node image (default kindest/node:v1.32.2)
  INGRESS_NGINX_VERSION  ingress-nginx release tag (default controller-v1.12.1)
  SOUK_IMAGE_TAG         tag of the built images (default e2e)
  SOUK_E2E_DIAGNOSTICS   folder for diagnostics on failure (default .souk/kind-e2e)
  SOUK_E2E_TIMEOUT       seconds to wait for the shop to become ready (default 900)
EOF
}

KEEP=0
SKIP_BUILD=0
PYTEST_ARGS=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --keep) KEEP=1 ;;
    --skip-build) SKIP_BUILD=1 ;;
    -h | --help) usage; exit 0 ;;
    --) shift; PYTEST_ARGS=("$@"); break ;;
    *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$ROOT"

CLUSTER=souk
CONTEXT="kind-${CLUSTER}"
KIND_NODE_IMAGE="${KIND_NODE_IMAGE:-kindest/node:v1.32.2}"
INGRESS_NGINX_VERSION="${INGRESS_NGINX_VERSION:-controller-v1.12.1}"
INGRESS_NGINX_MANIFEST="https://raw.githubusercontent.com/kubernetes/ingress-nginx/${INGRESS_NGINX_VERSION}/deploy/static/provider/kind/deploy.yaml"
TAG="${SOUK_IMAGE_TAG:-e2e}"
DIAGNOSTICS="${SOUK_E2E_DIAGNOSTICS:-${ROOT}/.souk/kind-e2e}"
TIMEOUT="${SOUK_E2E_TIMEOUT:-900}"
BASE_URL="http://localhost"
SERVICES=(auth catalog orders payments notifications)
PACKAGES=(souk-auth souk-catalog souk-orders souk-payments souk-notifications souk-operator)
SHOP_NAMESPACE=shop
OPERATOR_NAMESPACE=souk-system

log() { printf '\n==> %s\n' "$*" >&2; }
kc() { kubectl --context "$CONTEXT" "$@"; }

for tool in docker kind kubectl helm uv curl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "run.sh: $tool is not on PATH (needs docker, kind, kubectl, helm, uv, curl)" >&2
    exit 1
  fi
done
if ! docker info >/dev/null 2>&1; then
  echo "run.sh: the Docker daemon is not reachable (docker info failed); kind needs it" >&2
  exit 1
fi

CREATED=0

diagnostics() {
  mkdir -p "$DIAGNOSTICS"
  log "diagnostics in $DIAGNOSTICS"
  kc get nodes -o wide >"$DIAGNOSTICS/nodes.txt" 2>&1 || true
  kc get pods -A -o wide >"$DIAGNOSTICS/pods.txt" 2>&1 || true
  kc get events -A --sort-by=.lastTimestamp >"$DIAGNOSTICS/events.txt" 2>&1 || true
  kc -n "$SHOP_NAMESPACE" get all,ingress,secrets,jobs -o wide >"$DIAGNOSTICS/shop-objects.txt" 2>&1 || true
  kc -n "$SHOP_NAMESPACE" get marketplaces -o yaml >"$DIAGNOSTICS/marketplace.yaml" 2>&1 || true
  kc -n "$SHOP_NAMESPACE" describe marketplaces >"$DIAGNOSTICS/marketplace-describe.txt" 2>&1 || true
  kc -n "$SHOP_NAMESPACE" describe pods >"$DIAGNOSTICS/shop-pods-describe.txt" 2>&1 || true
  helm --kube-context "$CONTEXT" -n "$OPERATOR_NAMESPACE" status souk-operator >"$DIAGNOSTICS/helm-operator.txt" 2>&1 || true
  helm --kube-context "$CONTEXT" -n "$SHOP_NAMESPACE" status shop >"$DIAGNOSTICS/helm-shop.txt" 2>&1 || true
  local namespace pod
  for namespace in "$OPERATOR_NAMESPACE" "$SHOP_NAMESPACE" ingress-nginx; do
    for pod in $(kc -n "$namespace" get pods -o name 2>/dev/null); do
      kc -n "$namespace" logs "$pod" --all-containers --prefix --timestamps \
        >"$DIAGNOSTICS/logs-${namespace}-${pod#pod/}.txt" 2>&1 || true
      kc -n "$namespace" logs "$pod" --all-containers --prefix --previous \
        >"$DIAGNOSTICS/logs-${namespace}-${pod#pod/}-previous.txt" 2>/dev/null || true
    done
  done
  {
    echo "--- pods"
    cat "$DIAGNOSTICS/pods.txt"
    echo "--- Marketplace status"
    kc -n "$SHOP_NAMESPACE" get marketplaces -o jsonpath='{range .items[*]}{.metadata.name}{": "}{.status}{"\n"}{end}' 2>&1 || true
    echo "--- last events"
    tail -n 30 "$DIAGNOSTICS/events.txt"
  } >&2
}

finish() {
  local status=$?
  trap - EXIT
  if [ "$status" -ne 0 ]; then
    log "FAILED (exit $status)"
    diagnostics || true
  fi
  if [ "$CREATED" -eq 1 ] && [ "$KEEP" -eq 0 ]; then
    log "deleting kind cluster $CLUSTER (--keep keeps it)"
    kind delete cluster --name "$CLUSTER" || true
  fi
  exit "$status"
}
trap finish EXIT

# --- cluster ---------------------------------------------------------------------------------
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  log "reusing kind cluster $CLUSTER"
else
  log "creating kind cluster $CLUSTER ($KIND_NODE_IMAGE)"
  kind create cluster --config k8s/kind-cluster.yaml --image "$KIND_NODE_IMAGE" --wait 180s
  CREATED=1
fi
kc cluster-info >/dev/null

log "installing ingress-nginx $INGRESS_NGINX_VERSION"
kc apply -f "$INGRESS_NGINX_MANIFEST"

# --- images ----------------------------------------------------------------------------------
for package in "${PACKAGES[@]}"; do
  if [ "$SKIP_BUILD" -eq 0 ]; then
    log "building $package:$TAG"
    DOCKER_BUILDKIT=1 docker build -f docker/Dockerfile --build-arg "PACKAGE=$package" \
      -t "$package:$TAG" .
  fi
  kind load docker-image --name "$CLUSTER" "$package:$TAG"
done

# --- charts ----------------------------------------------------------------------------------
log "packaging chart dependencies"
scripts/build-chart-deps.sh

log "waiting for ingress-nginx"
kc -n ingress-nginx wait --for=condition=Ready pod \
  --selector=app.kubernetes.io/component=controller --timeout=300s

log "installing the operator (release souk-operator)"
helm --kube-context "$CONTEXT" upgrade --install souk-operator charts/souk-operator \
  --namespace "$OPERATOR_NAMESPACE" --create-namespace \
  --set image.repository=souk-operator --set "image.tag=$TAG" \
  --set image.pullPolicy=IfNotPresent --set replicas=1 \
  --wait --timeout 5m

SHOP_SET=(
  --set marketplace.postgres.mode=Managed
  --set marketplace.redis.mode=Managed
  --set global.seed.enabled=true
  --set auth.cookieSecure=false
)
for service in "${SERVICES[@]}"; do
  SHOP_SET+=(
    --set "${service}.image.repository=souk-${service}"
    --set "${service}.image.tag=${TAG}"
    --set "${service}.image.pullPolicy=IfNotPresent"
  )
done

log "installing the shop (release shop)"
# No --wait: the pods wait for the operator's Secrets, which the waits below cover.
helm --kube-context "$CONTEXT" upgrade --install shop charts/souk \
  --namespace "$SHOP_NAMESPACE" --create-namespace "${SHOP_SET[@]}" --timeout 5m

log "waiting for Marketplace shop to be Ready"
kc -n "$SHOP_NAMESPACE" wait marketplace/shop --for=condition=Ready --timeout="${TIMEOUT}s"

log "waiting for the Deployments and the demo data"
kc -n "$SHOP_NAMESPACE" wait deployment --all --for=condition=Available --timeout="${TIMEOUT}s"
kc -n "$SHOP_NAMESPACE" wait job --selector=app.kubernetes.io/component=seed \
  --for=condition=Complete --timeout="${TIMEOUT}s"

log "waiting for the Ingress at $BASE_URL"
for attempt in $(seq 1 60); do
  if curl -fsS -o /dev/null "$BASE_URL/api/catalog/categories" \
    && curl -fsS -o /dev/null "$BASE_URL/.well-known/jwks.json"; then
    break
  fi
  if [ "$attempt" -eq 60 ]; then
    echo "run.sh: $BASE_URL does not route to the shop after 120 s" >&2
    exit 1
  fi
  sleep 2
done

# --- journeys --------------------------------------------------------------------------------
log "running the journeys against $BASE_URL"
SOUK_E2E_BASE_URL="$BASE_URL" uv run pytest tests/e2e -m e2e -v -p no:cacheprovider \
  ${PYTEST_ARGS[@]+"${PYTEST_ARGS[@]}"}

log "kind end-to-end suite passed"
