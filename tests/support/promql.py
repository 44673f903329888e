"""Reading Souk's dashboards and rules: their PromQL, and the metric names it uses.

The tests use this to prove that every metric a dashboard panel or a rule names is one the
code exports, and to evaluate each panel's query against a real Prometheus.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "observability"
DASHBOARDS = OBSERVABILITY / "grafana" / "dashboards"
RULES = OBSERVABILITY / "prometheus" / "rules"
RULE_TESTS = OBSERVABILITY / "prometheus" / "tests"
# Grafana's variables, replaced by what a query would see on a dashboard.
VARIABLES = {"$__rate_interval": "30s", "$__range": "5m", "$job": ".+"}
_KEYWORDS = frozenset(
    [
        "sum",
        "min",
        "max",
        "avg",
        "count",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "quantile",
        "count_values",
        "group",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "and",
        "or",
        "unless",
        "offset",
        "bool",
        "le",
        "inf",
        "nan",
    ]
)
_IDENTIFIER = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


@dataclass(frozen=True)
class PanelQuery:
    """One target of one dashboard panel."""

    dashboard: str
    panel: str
    expr: str

    def resolved(self) -> str:
        """Return the expression with Grafana's variables replaced."""
        expr = self.expr
        for name, value in VARIABLES.items():
            expr = expr.replace(name, value)
        return expr


def tool(name: str) -> str:
    """Return the path of ``prometheus``/``promtool``, failing the test in one line if absent."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not installed: run observability/install-prometheus.sh", pytrace=False
        )
    return path


def load_dashboards() -> dict[str, dict[str, Any]]:
    """Return every provisioned dashboard by file name."""
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARDS.glob("*.json"))}


def panel_queries(dashboards: dict[str, dict[str, Any]] | None = None) -> list[PanelQuery]:
    """Return every target of every (non-row) panel."""
    queries = []
    for dashboard in (dashboards or load_dashboards()).values():
        for panel in dashboard["panels"]:
            for target in panel.get("targets", ()):
                queries.append(PanelQuery(dashboard["uid"], panel["title"], target["expr"]))
    return queries


def rule_groups() -> list[dict[str, Any]]:
    """Return every rule group of every rule file."""
    groups: list[dict[str, Any]] = []
    for path in sorted(RULES.glob("*.yml")):
        groups.extend(yaml.safe_load(path.read_text())["groups"])
    return groups


def rule_expressions() -> list[str]:
    """Return the expression of every recording and alerting rule."""
    return [rule["expr"] for group in rule_groups() for rule in group["rules"]]


def recorded_names() -> set[str]:
    """Return the names the recording rules define."""
    return {
        rule["record"] for group in rule_groups() for rule in group["rules"] if "record" in rule
    }


def metric_names(expr: str) -> set[str]:
    """Return the metric names a PromQL expression selects (functions and labels excluded)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # label values
    text = re.sub(r"\{[^}]*\}", "", text)  # matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges
    text = re.sub(r"\b\d+(?:\.\d+)?(?:ms|[smhdwy])?\b", "", text)  # numbers, durations
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        name = match.group(0)
        following = text[match.end() :].lstrip()
        if name.lower() in _KEYWORDS or following.startswith("("):
            continue
        names.add(name)
    return names


def names_in_use() -> dict[str, set[str]]:
    """Return ``{metric name: where it is used}`` over every panel and rule."""
    used: dict[str, set[str]] = {}
    for query in panel_queries():
        for name in metric_names(query.resolved()):
            used.setdefault(name, set()).add(f"{query.dashboard}: {query.panel}")
    for expr in rule_expressions():
        for name in metric_names(expr):
            used.setdefault(name, set()).add("rules")
    return used


def sample_names_from_text(text: str) -> set[str]:
    """Return every sample name in a Prometheus text exposition."""
    return {
        sample.name for family in text_string_to_metric_families(text) for sample in family.samples
    }


def defined_names(registry: CollectorRegistry) -> set[str]:
    """Return every name a registry's metrics export, including labelled ones not yet used."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
        "summary": ("_count", "_sum", "_created", ""),
        "gauge": ("",),
    }
    names: set[str] = set()
    for family in registry.collect():
        names.update(family.name + suffix for suffix in suffixes.get(family.type, ("",)))
        names.update(sample.name for sample in family.samples)
    return names


def flatten(items: Iterable[Iterable[str]]) -> Iterator[str]:
    """Yield every string of every iterable."""
    for item in items:
        yield from item
