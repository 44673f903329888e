"""Root pytest configuration: the shared fixtures, and the CI rule on skipped tests.

With ``CI=true`` a skipped test fails the run: a tier that cannot run must say so, not pass.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

pytest_plugins = ["tests.support.fixtures"]


def _tier(nodeid: str) -> str:
    parts = nodeid.split("/")
    return "/".join(parts[:2]) if parts[0] == "tests" else parts[0] + "/" + parts[1]


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int) -> None:
    """With ``CI=true``, fail the session if anything was skipped, naming tier and reason."""
    if os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        return
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    reasons: Counter[tuple[str, str]] = Counter()
    for report in skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[(_tier(report.nodeid), reason.removeprefix("Skipped: "))] += 1
    terminalreporter.section("CI: skipped tests fail the run", sep="=", red=True, bold=True)
    for (tier, reason), count in sorted(reasons.items()):
        terminalreporter.line(f"{tier}: {count} skipped: {reason}", red=True)
    terminalreporter._session.exitstatus = pytest.ExitCode.TESTS_FAILED  # type: ignore[attr-defined]
