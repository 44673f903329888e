# Souk's developer commands. `make run` starts the whole marketplace; `make test` runs every test.
.PHONY: bootstrap run test lint format pytest bench bench-tools charts envtest-setup envtest observability-setup observe

bootstrap:
	@scripts/bootstrap.sh

run: bootstrap
	uv run souk-dev up

lint: bootstrap
	uv run ruff check .
	uv run ruff format --check .
	uv run mypy

pytest: bootstrap observability-setup bench-tools
	uv run pytest

# Every tier: lint, types, then all tests (envtest too, once `make envtest-setup` has run;
# without it those tests say in one line that the API server is not built).
test: lint pytest

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

# Builds kube-apiserver 1.20 from Debian's source (once, ~5 min; cached outside the checkout)
# and fetches kubectl and helm, for the tests that need a real Kubernetes API server.
envtest-setup:
	@scripts/build-kubernetes.sh

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
