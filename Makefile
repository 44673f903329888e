# Souk's developer commands. `make run` starts the whole marketplace; `make test` runs every test.
.PHONY: bootstrap run test lint format pytest bench

bootstrap:
	@scripts/bootstrap.sh

run: bootstrap
	uv run souk-dev up

lint: bootstrap
	uv run ruff check .
	uv run ruff format --check .
	uv run mypy

pytest: bootstrap
	uv run pytest

test: lint pytest

format: bootstrap
	uv run ruff check --fix .
	uv run ruff format .

bench: bootstrap
	uv run python tests/bench/bench_events.py --events 20000
