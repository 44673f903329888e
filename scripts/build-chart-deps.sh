#!/usr/bin/env bash
# Packages the charts' local (file://) dependencies: every chart whose Chart.yaml declares
# dependencies gets them under charts/<chart>/charts/ (build output, gitignored; Chart.lock is
# committed). The service charts depend on charts/souk-lib and the umbrella charts/souk on the
# service charts, so the umbrella goes last.
#
# The one place that knows this: `make charts`, skaffold's deploy hook, the Tiltfile and the
# kind suite's run.sh all call it. HELM=/path/to/helm picks the binary (default: helm on PATH).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
HELM="${HELM:-helm}"
UMBRELLA=charts/souk
charts=()
for chart_yaml in charts/*/Chart.yaml; do
  chart="$(dirname "$chart_yaml")"
  if [ "$chart" != "$UMBRELLA" ] && grep -q '^dependencies:' "$chart_yaml"; then
    charts+=("$chart")
  fi
done
charts+=("$UMBRELLA")
for chart in "${charts[@]}"; do
  "$HELM" dependency build "$chart" >/dev/null
done
echo "chart dependencies built: ${charts[*]}"
