"""Smoke runs of the benchmarks, so the harness keeps working (seconds, not figures)."""

import json

import pytest

from tests.bench.bench_events import main as bench_events

pytestmark = pytest.mark.bench


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
