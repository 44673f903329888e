# Souk's developer commands. `make run` starts the whole marketplace; `make test` runs every test.
.PHONY: images bootstrap run test lint format pytest bench bench-tools charts envtest-setup envtest observability-setup observe cluster-setup cluster-up cluster-down cluster-e2e

bootstrap:
	@scripts/bootstrap.sh

run: bootstrap
	uv run souk-dev up

lint: bootstrap
	uv run ruff check .
	uv run ruff format --check .
	uv run mypy

# Every pytest tier but the real node's: unit, integration, envtest, images, charts,
# observability, bench smoke. Installs what they need first. With CI=true a skipped test fails
# the run, naming the tier and the missing piece.
pytest: bootstrap envtest-setup observability-setup bench-tools images
	uv run pytest -m "not cluster"

# Every tier: lint, types, all pytest tiers, then the real-node tier (make cluster-e2e).
test: lint pytest cluster-e2e

format: bootstrap
	uv run ruff check --fix .
	uv run ruff format .

# The full benchmark (~6 min on 2 cores; run it on a quiet machine): the limits of the parts
# and the platform side by side, a table and bench-results/latest.json. See docs/performance.md.
bench: bootstrap bench-tools
	uv run python -m tests.bench.run

# wrk, the load generator, from Debian's package (idempotent).
bench-tools:
	@scripts/install-bench-tools.sh

# Builds the Kubernetes 1.20 node binaries from Debian's source (once, ~7-12 min; cached
# outside the checkout) and fetches kubectl and helm: the envtest tier and the real node.
envtest-setup:
	@scripts/build-kubernetes.sh

# The nine images (six services and the operator, Managed PostgreSQL and Redis, pause) built
# with buildah from docker/Dockerfile and docker/{postgres,redis}; cached.
images: envtest-setup
	@scripts/cluster-setup.sh

# A real single-node Kubernetes in the network namespace souk-node (root): node, images,
# operator and shop installed, READY; kubeconfig and endpoints.json in .souk/cluster/.
cluster-setup:
	@scripts/cluster-setup.sh

cluster-up: bootstrap cluster-setup
	uv run souk-cluster up

# Stops everything of the node; leaves no process, mount, cgroup or namespace behind.
cluster-down: bootstrap
	uv run souk-cluster down

# The real-node tier: a fresh node, the journeys and the kill tests against pods, teardown.
cluster-e2e: bootstrap
	@scripts/cluster-e2e.sh

envtest: bootstrap envtest-setup
	SOUK_ENVTEST_REQUIRED=1 uv run pytest -m envtest

# Prometheus and promtool from Debian's package (idempotent; its system service stays off).
observability-setup:
	@observability/install-prometheus.sh

# The local stack plus a real Prometheus scraping every service with the project's rules.
observe: bootstrap observability-setup
	uv run souk-dev up --prometheus

# Chart dependencies (build output, gitignored): the service charts need souk-lib, the umbrella
# needs the service charts. Needs helm (make envtest-setup puts one in ~/.cache/souk-envtest/bin).
HELM ?= $(shell command -v helm 2>/dev/null || echo $(HOME)/.cache/souk-envtest/bin/helm)
charts:
	HELM=$(HELM) scripts/build-chart-deps.sh
