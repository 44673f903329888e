#!/usr/bin/env bash
# make cluster-e2e: the shop on a real Kubernetes node, end to end.
#
#   1. scripts/cluster-setup.sh: Debian packages, Kubernetes binaries, images (all cached);
#   2. a fresh node: `souk-cluster down`, then `souk-cluster up` (node, images loaded, the
#      operator chart and the umbrella chart in Managed mode, READY, endpoints.json);
#   3. the journeys of tests/e2e against the pods, then tests/cluster: READY follows a scaled
#      Deployment, kill tests (orders pod with 100 orders in flight, operator pod mid-reconcile,
#      PostgreSQL pod), teardown (Marketplace deletion drops databases, roles and streams; helm
#      uninstall; `souk-cluster down` leaves nothing behind).
#
# On failure: pods, events, the Marketplace's status and every container's log in
# .souk/cluster/diagnostics (SOUK_CLUSTER_DIAGNOSTICS), then the node is taken down.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
START=$SECONDS
DIAGNOSTICS="${SOUK_CLUSTER_DIAGNOSTICS:-.souk/cluster/diagnostics}"
step() { printf '[cluster-e2e %5ds] %s\n' "$((SECONDS - START))" "$1"; }

failed() {
  step "FAILED: diagnostics in $DIAGNOSTICS"
  uv run souk-cluster diagnostics "$DIAGNOSTICS" || true
  grep -h . "$DIAGNOSTICS/pods.txt" 2>/dev/null | head -n 30 >&2 || true
  uv run souk-cluster down || true
  exit 1
}

step "setup"
scripts/cluster-setup.sh
step "a fresh node"
uv run souk-cluster down >/dev/null
uv run souk-cluster up || failed
uv run souk-cluster status || failed
step "journeys (tests/e2e) and the real-node tier (tests/cluster) against the pods"
SOUK_E2E_ENDPOINTS=.souk/cluster/endpoints.json SOUK_CLUSTER_REQUIRED=1 \
  uv run pytest -p no:cacheprovider -s -v \
  tests/e2e \
  tests/cluster/test_1_shop_on_node.py \
  tests/cluster/test_2_readiness_and_kills.py \
  tests/cluster/test_3_teardown.py || failed
step "passed"
