"""Smoke runs of the benchmarks, so the harness keeps working (seconds, not figures)."""

import json
import os
from pathlib import Path

import pytest

from tests.bench.bench_events import main as bench_events
from tests.bench.run import main as bench_run
from tests.bench.wrk import INSTALL_HINT, wrk_path

pytestmark = pytest.mark.bench

# Figures every run must report (a renamed or lost figure fails here, not in a comparison).
REQUIRED_FIGURES = (
    "limits.xadd_pipelined_per_s",
    "limits.xreadgroup_xack_per_s",
    "limits.consumer_runner_per_s",
    "limits.consumer_batch_handler_per_s",
    "limits.outbox_relay_per_s",
    "limits.postgres_tx_per_s",
    "limits.trivial.requests_per_s",
    "catalog.no_q.requests_per_s",
    "catalog.no_q.p99_ms",
    "catalog.q.requests_per_s",
    "catalog.q.p99_ms",
    "login.requests_per_s",
    "login.p99_ms",
    "orders_post.achieved_per_s",
    "orders_post.p99_ms",
    "orders_post.closed_loop.requests_per_s",
    "saga.orders_per_s",
    "saga.half_rate.confirm_p50_ms",
    "saga.half_rate.confirm_p99_ms",
    "groups.catalog.handled_per_s",
    "groups.orders.handled_per_s",
    "groups.payments.handled_per_s",
    "groups.notifications.handled_per_s",
    "cost.orders.cpu_s_per_1000_orders",
    "cost.orders.peak_rss_mib",
    "cost.machine.cpu_s_per_1000_orders",
    "soak.orders.max_mib",
)


def require_wrk() -> None:
    """Skip (or, with SOUK_BENCH_REQUIRED=1, fail) in one line when wrk is missing."""
    if wrk_path() is None:
        if os.environ.get("SOUK_BENCH_REQUIRED") == "1":
            pytest.fail(INSTALL_HINT, pytrace=False)
        pytest.skip(INSTALL_HINT)


def test_event_layer_benchmark_runs_and_reports_every_measurement(tmp_path, capsys):
    output = tmp_path / "events.json"
    assert bench_events(["--events", "300", "--json", str(output)]) == 0
    document = json.loads(output.read_text())
    names = {result["name"] for result in document["results"]}
    assert any("relay" in name for name in names)
    assert any("consumer" in name for name in names)
    for result in document["results"]:
        assert result["count"] > 0
        assert result["rate"] > 0
    table = capsys.readouterr().out
    for name in names:
        assert name in table


@pytest.mark.timeout(280)
def test_quick_run_measures_every_figure_and_prints_the_table(tmp_path, capsys):
    require_wrk()
    output = tmp_path / "bench.json"
    argv = ["--quick", "--profile", "--soak", "2", "--soak-interval", "0.5"]
    assert bench_run([*argv, "--json", str(output), "--out-dir", str(tmp_path)]) == 0

    document = json.loads(output.read_text())
    figures = document["figures"]
    assert not [name for name in REQUIRED_FIGURES if name not in figures]
    assert not {name: value for name, value in figures.items() if not value > 0}
    assert document["machine"]["cores"] > 0
    assert document["machine"]["versions"]["wrk"]
    assert document["machine"]["versions"]["postgresql"]
    assert len(document["load_average"]["start"]) == 3
    assert {goal["status"] for goal in document["goals"]} <= {"pass", "miss", "not run"}
    assert not [p for p in document["problems"] if "wrk counted errors" in p]
    for name, profile in document["platform"]["saga"]["saturation"]["profiles"].items():
        assert "error" not in profile, name
        assert Path(profile["speedscope"]).stat().st_size > 0

    table = capsys.readouterr().out
    for heading in ("LIMITS OF THE PARTS", "THE PLATFORM", "GOALS", "COST", "SOAK", "PROFILES"):
        assert heading in table
    assert "GET /api/catalog/products" in table
