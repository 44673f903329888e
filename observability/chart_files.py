"""Copy the observability sources into the umbrella chart, which can only read its own files.

Helm's ``.Files`` sees nothing outside a chart's folder, so ``charts/souk`` carries copies of
the Grafana dashboards, the Prometheus rule files and the OpenTelemetry Collector config under
``charts/souk/files/``. The sources here stay the one place to edit; this script makes the
copies, and ``tests/charts/test_chart_files.py`` fails when they differ:

    uv run python observability/chart_files.py          # (re)write the copies
    uv run python observability/chart_files.py --check  # exit 1 naming each stale copy
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CHART_FILES = Path("charts/souk/files")


@dataclass(frozen=True)
class CopySet:
    """Files matching ``pattern`` in ``source`` are copied into ``target`` (repo-relative)."""

    source: Path
    pattern: str
    target: Path


COPY_SETS = (
    CopySet(Path("observability/grafana/dashboards"), "*.json", CHART_FILES / "dashboards"),
    CopySet(Path("observability/prometheus/rules"), "*.yml", CHART_FILES / "rules"),
    CopySet(Path("observability/otel"), "collector.yaml", CHART_FILES / "otel"),
)


def expected_copies(root: Path = REPO_ROOT) -> dict[Path, bytes]:
    """Return ``{copy path: content}`` for every file the chart must carry."""
    copies: dict[Path, bytes] = {}
    for copy_set in COPY_SETS:
        for source in sorted((root / copy_set.source).glob(copy_set.pattern)):
            copies[root / copy_set.target / source.name] = source.read_bytes()
    return copies


def stale_copies(root: Path = REPO_ROOT) -> list[str]:
    """Return one line per copy that is missing, differs from its source, or has no source."""
    expected = expected_copies(root)
    problems = [
        f"{'missing' if not path.exists() else 'differs'}: {path.relative_to(root)}"
        for path, content in expected.items()
        if not path.exists() or path.read_bytes() != content
    ]
    for copy_set in COPY_SETS:
        for path in sorted((root / copy_set.target).glob(copy_set.pattern)):
            if path not in expected:
                problems.append(f"no source: {path.relative_to(root)}")
    return problems


def write_copies(root: Path = REPO_ROOT) -> list[Path]:
    """Write every copy, delete copies whose source is gone; return the paths written."""
    expected = expected_copies(root)
    for copy_set in COPY_SETS:
        for path in (root / copy_set.target).glob(copy_set.pattern):
            if path not in expected:
                path.unlink()
    written = []
    for path, content in expected.items():
        if not path.exists() or path.read_bytes() != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Write the copies, or with ``--check`` list stale ones and return 1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.check:
        problems = stale_copies(args.root)
        for line in problems:
            print(line)
        if problems:
            print(f"run: uv run python {Path(__file__).relative_to(REPO_ROOT)}")
        return 1 if problems else 0
    for path in write_copies(args.root):
        print(f"wrote {path.relative_to(args.root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
