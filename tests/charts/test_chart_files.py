"""The umbrella chart's copies of observability/ match their sources (one source of truth).

``observability/chart_files.py`` writes them; a dashboard or rule edited in ``observability/``
without re-running it fails here, and so does a hand edit of a copy.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from tests.charts.conftest import load_script
from tests.support.helm import REPO_ROOT

SCRIPT = REPO_ROOT / "observability" / "chart_files.py"


def _chart_files() -> ModuleType:
    return load_script(SCRIPT, "observability_chart_files")


def test_copies_in_the_chart_match_observability():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_source_has_a_copy():
    chart_files = _chart_files()
    copies = chart_files.expected_copies()
    names = {path.relative_to(REPO_ROOT / "charts/souk/files").as_posix() for path in copies}
    dashboards = list((REPO_ROOT / "observability/grafana/dashboards").glob("*.json"))
    assert dashboards
    assert {f"dashboards/{p.name}" for p in dashboards} <= names
    assert {"rules/alerts.yml", "rules/recording.yml", "otel/collector.yaml"} <= names


def _tree(tmp_path: Path) -> Path:
    """A copy of the sources (and of the chart's copies) to break on purpose."""
    root = tmp_path / "repo"
    shutil.copytree(REPO_ROOT / "observability", root / "observability")
    shutil.copytree(REPO_ROOT / "charts/souk/files", root / "charts/souk/files")
    return root


def test_check_names_each_stale_copy_and_writing_fixes_it(tmp_path):
    chart_files = _chart_files()
    root = _tree(tmp_path)
    assert chart_files.stale_copies(root) == []
    files = root / "charts/souk/files"
    (files / "rules/alerts.yml").write_text("groups: []\n")
    (files / "otel/collector.yaml").unlink()
    (files / "dashboards/souk-retired.json").write_text("{}\n")
    source = root / "observability/grafana/dashboards/souk-overview.json"
    source.write_text(source.read_text().replace("Souk", "Bazaar"))
    assert sorted(chart_files.stale_copies(root)) == [
        "differs: charts/souk/files/dashboards/souk-overview.json",
        "differs: charts/souk/files/rules/alerts.yml",
        "missing: charts/souk/files/otel/collector.yaml",
        "no source: charts/souk/files/dashboards/souk-retired.json",
    ]
    assert chart_files.main(["--check", "--root", str(root)]) == 1
    assert chart_files.main(["--root", str(root)]) == 0
    assert chart_files.stale_copies(root) == []
    assert not (files / "dashboards/souk-retired.json").exists()
    assert (files / "dashboards/souk-overview.json").read_bytes() == source.read_bytes()
