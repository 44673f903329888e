"""Building blocks of Souk's Grafana dashboards: variables, links and the panel builder.

``generate.py`` composes the dashboards from these; keeping them apart leaves that file with
only what each dashboard shows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "dashboards"
DS = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"
HTTP = "http_server_request_duration_seconds"

Panel = dict[str, Any]


def dashboard_variables(extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Return the templating block: datasource, trace/log stores, correlation ID, extras."""
    datasource = {
        "name": "datasource",
        "label": "Prometheus",
        "type": "datasource",
        "query": "prometheus",
        "current": {},
        "hide": 0,
    }
    traces = {
        "name": "traces",
        "label": "Traces (Tempo)",
        "type": "datasource",
        "query": "tempo",
        "current": {},
        "hide": 0,
    }
    logs = {
        "name": "logs",
        "label": "Logs (Loki)",
        "type": "datasource",
        "query": "loki",
        "current": {},
        "hide": 0,
    }
    correlation = {
        "name": "correlation_id",
        "label": "Correlation ID",
        "type": "textbox",
        "query": "",
        "current": {"text": "", "value": ""},
        "hide": 0,
    }
    return {"list": [datasource, traces, logs, correlation, *(extra or [])]}


def job_variable(multi: bool = True) -> dict[str, Any]:
    """Return the ``job`` (service) variable, filled from the scraped jobs."""
    return {
        "name": "job",
        "label": "Service",
        "type": "query",
        "datasource": DS,
        "query": {"query": f"label_values({HTTP}_count, job)", "refId": "job"},
        "definition": f"label_values({HTTP}_count, job)",
        "includeAll": multi,
        "multi": multi,
        "allValue": ".+",
        "current": {},
        "refresh": 2,
        "hide": 0,
    }


def correlation_links() -> list[dict[str, Any]]:
    """Data links opening one correlation ID's log lines (Loki) and traces (Tempo) in Explore."""
    logs = {
        "datasource": "${logs}",
        "queries": [
            {
                "refId": "A",
                "expr": '{namespace=~".+"} | json | correlation_id="${correlation_id}"',
            }
        ],
    }
    traces = {
        "datasource": "${traces}",
        "queries": [
            {
                "refId": "A",
                "queryType": "traceql",
                "query": '{ span.souk.correlation_id = "${correlation_id}" }',
            }
        ],
    }
    return [
        {
            "title": "Logs of correlation ID ${correlation_id}",
            "url": "/explore?left=" + json.dumps(logs, separators=(",", ":")),
            "targetBlank": True,
        },
        {
            "title": "Traces of correlation ID ${correlation_id}",
            "url": "/explore?left=" + json.dumps(traces, separators=(",", ":")),
            "targetBlank": True,
        },
    ]


class Board:
    """Accumulates panels on a 24-column grid."""

    def __init__(self, uid: str, title: str, description: str, tags: list[str]) -> None:
        self.uid, self.title, self.description, self.tags = uid, title, description, tags
        self.panels: list[Panel] = []
        self._x = 0
        self._y = 0
        self._row_height = 0
        self.variables = dashboard_variables()

    def row(self, title: str) -> None:
        """Start a new row with a collapsed=false header."""
        self._newline()
        self.panels.append(
            {
                "id": len(self.panels) + 1,
                "type": "row",
                "title": title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": self._y},
                "panels": [],
            }
        )
        self._y += 1

    def _newline(self) -> None:
        if self._x:
            self._y += self._row_height
            self._x, self._row_height = 0, 0

    def panel(
        self,
        title: str,
        targets: list[tuple[str, str]],
        *,
        kind: str = "timeseries",
        unit: str = "short",
        width: int = 12,
        height: int = 8,
        description: str = "",
        links: bool = False,
        instant: bool = False,
    ) -> None:
        """Add a panel whose targets are (PromQL, legend) pairs."""
        if self._x + width > 24:
            self._newline()
        panel: Panel = {
            "id": len(self.panels) + 1,
            "type": kind,
            "title": title,
            "description": description,
            "datasource": DS,
            "gridPos": {"h": height, "w": width, "x": self._x, "y": self._y},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
            "targets": [
                {
                    "refId": chr(ord("A") + index),
                    "datasource": DS,
                    "expr": expr,
                    "legendFormat": legend,
                    "instant": instant,
                    "range": not instant,
                }
                for index, (expr, legend) in enumerate(targets)
            ],
        }
        if links:
            panel["fieldConfig"]["defaults"]["links"] = correlation_links()
        self.panels.append(panel)
        self._x += width
        self._row_height = max(self._row_height, height)

    def to_json(self) -> dict[str, Any]:
        """Return the dashboard model Grafana provisions."""
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": ["souk", *self.tags],
            "schemaVersion": 39,
            "version": 1,
            "editable": True,
            "timezone": "utc",
            "refresh": "30s",
            "time": {"from": "now-1h", "to": "now"},
            "templating": self.variables,
            "annotations": {"list": []},
            "links": [
                {
                    "title": "Souk dashboards",
                    "type": "dashboards",
                    "tags": ["souk"],
                    "asDropdown": True,
                    "includeVars": True,
                    "keepTime": True,
                }
            ],
            "panels": self.panels,
        }


def red_panels(board: Board, selector: str, by: str) -> None:
    """Request rate, error ratio and p95/p99 latency panels for ``selector``."""
    count = f"{HTTP}_count{{{selector}}}"
    errors = f'{HTTP}_count{{{selector},status_code=~"5.."}}'
    bucket = f"{HTTP}_bucket{{{selector}}}"
    legend = "{{" + "}} {{".join(by.split(", ")) + "}}"
    board.panel(
        "Request rate",
        [(f"sum by ({by}) (rate({count}[{RATE}]))", legend)],
        unit="reqps",
        links=True,
        description="Requests per second by route template. The data links open one "
        "correlation ID's logs and traces (set the Correlation ID variable).",
    )
    board.panel(
        "Error ratio (5xx)",
        [
            (
                f"(sum by ({by}) (rate({errors}[{RATE}])) or "
                f"sum by ({by}) (rate({count}[{RATE}])) * 0) / "
                f"sum by ({by}) (rate({count}[{RATE}]))",
                legend,
            )
        ],
        unit="percentunit",
        links=True,
        description="Share of requests answered with a 5xx status (0 when there are none).",
    )
    for quantile in ("0.95", "0.99"):
        board.panel(
            f"Latency p{quantile[2:]}",
            [
                (
                    f"histogram_quantile({quantile}, sum by ({by}, le) (rate({bucket}[{RATE}])))",
                    legend,
                )
            ],
            unit="s",
            links=True,
        )
