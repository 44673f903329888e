"""The benchmark script still runs (tiny sizes); the real figures come from a full run."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "bench" / "bench_catalog.py"


@pytest.mark.bench
async def test_benchmark_runs_and_reports_every_figure():
    spec = importlib.util.spec_from_file_location("bench_catalog", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    arguments = argparse.Namespace(products=300, requests=3, orders=40, concurrency=4, json=None)
    figures = await module.main(arguments)
    assert figures["products"] == 300
    assert len(figures["listing_latency"]) == 4
    assert all(value["p50_ms"] > 0 for value in figures["listing_latency"].values())
    assert all(rate > 0 for rate in figures["reservations_per_second"].values())
