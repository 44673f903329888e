"""Every chart value is described, and each chart's README.md is generated and current.

``charts/readme.py`` builds each chart's values table (key, type, default, description) from
its ``values.schema.json`` and ``values.yaml``; these tests fail on a value without a
description, on a README that differs from a fresh generation, and on an empty
``helm show readme``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from tests.charts.conftest import load_script
from tests.support.helm import REPO_ROOT, require_helm, run_helm

CHARTS = REPO_ROOT / "charts"
ALL = sorted(path.parent.name for path in CHARTS.glob("*/Chart.yaml"))
WITH_VALUES = [name for name in ALL if (CHARTS / name / "values.schema.json").exists()]


@pytest.fixture(scope="module")
def readme() -> ModuleType:
    """The README generator, imported from its script."""
    return load_script(CHARTS / "readme.py", "souk_charts_readme")


def test_every_chart_is_covered():
    assert len(ALL) == 8
    assert set(ALL) - set(WITH_VALUES) == {"souk-lib"}


@pytest.mark.parametrize("chart", WITH_VALUES)
def test_every_value_has_a_description(readme, chart):
    schema = json.loads((CHARTS / chart / "values.schema.json").read_text())
    assert len(list(readme.fields(schema))) > 20
    assert readme.missing_descriptions(schema) == []


@pytest.mark.parametrize("chart", ALL)
def test_the_readme_is_current(readme, chart):
    path = CHARTS / chart / "README.md"
    assert path.exists(), "run: uv run python charts/readme.py"
    assert path.read_text() == readme.render(path.parent), "run: uv run python charts/readme.py"


def test_the_check_notices_a_changed_description(readme, tmp_path: Path):
    chart = tmp_path / "souk-orders"
    shutil.copytree(CHARTS / "souk-orders", chart, ignore=shutil.ignore_patterns("charts"))
    assert not readme.stale(chart)
    schema = json.loads((chart / "values.schema.json").read_text())
    schema["properties"]["replicas"]["description"] = "Something else."
    (chart / "values.schema.json").write_text(json.dumps(schema))
    assert readme.stale(chart)
    assert readme.main(["--check"]) == 0  # the repository's own charts stay current


@pytest.mark.parametrize("chart", WITH_VALUES)
def test_the_table_lists_every_value_with_its_default(readme, chart):
    text = (CHARTS / chart / "README.md").read_text()
    schema = json.loads((CHARTS / chart / "values.schema.json").read_text())
    for key, _ in readme.fields(schema):
        assert f"| `{key}` |" in text
    assert '| `global.image.tag` | string | `""` |' in text


@pytest.mark.parametrize("chart", ALL)
def test_helm_show_readme_is_not_empty(chart):
    require_helm()
    shown = run_helm(["show", "readme", str(CHARTS / chart)]).stdout
    assert shown.startswith("# ")
    assert "## Values" in shown
