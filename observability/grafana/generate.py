"""Generate Souk's Grafana dashboards (provisioned JSON) from one place.

Run ``uv run python observability/grafana/generate.py`` after changing a panel; a test fails
when a committed dashboard differs from what this script writes. Every dashboard takes its
Prometheus data source from the ``datasource`` variable (no hard-coded UIDs), and the
``traces``/``logs`` variables, where a trace store (Tempo) and a log store (Loki) exist, back
the links that open one correlation ID's traces and log lines.

Services are scraped as ``job=<service name>`` (the local stack's Prometheus, and the
collector's scrape configuration, both do this), so ``job`` is the service label everywhere.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from souk_contracts.topology import SERVICES

sys.path.insert(0, str(Path(__file__).parent))
from panels import (
    OUT,
    RATE,
    Board,
    job_variable,
    red_panels,
)


def overview() -> Board:
    """Marketplace overview: RED per service and route, and saturation."""
    board = Board(
        "souk-overview",
        "Souk / Marketplace overview",
        "Request rate, errors and latency per service and route; process saturation.",
        ["overview"],
    )
    board.variables["list"].append(job_variable())
    board.row("Per service")
    red_panels(board, 'job=~"$job"', "job")
    board.row("Per route")
    red_panels(board, 'job=~"$job"', "job, route")
    board.row("Saturation")
    board.panel(
        "CPU (cores)",
        [(f'sum by (job) (rate(process_cpu_seconds_total{{job=~"$job"}}[{RATE}]))', "{{job}}")],
        width=8,
    )
    board.panel(
        "Resident memory",
        [('sum by (job) (process_resident_memory_bytes{job=~"$job"})', "{{job}}")],
        unit="bytes",
        width=8,
    )
    board.panel(
        "Open file descriptors (share of limit)",
        [
            (
                'max by (job) (process_open_fds{job=~"$job"} / process_max_fds{job=~"$job"})',
                "{{job}}",
            )
        ],
        unit="percentunit",
        width=8,
    )
    board.panel(
        "Unacknowledged stream entries per service",
        [('sum by (job) (souk_stream_pending{job=~"$job"})', "{{job}}")],
        width=12,
    )
    board.panel(
        "Outbox backlog per service",
        [('sum by (job) (souk_outbox_unpublished{job=~"$job"})', "{{job}}")],
        width=12,
    )
    return board


def saga() -> Board:
    """The order saga: statuses, funnel, time to a terminal status, endings, payments."""
    board = Board(
        "souk-order-saga",
        "Souk / Order saga",
        "Orders through PENDING → RESERVED → CONFIRMED, their endings and payments.",
        ["saga"],
    )
    board.panel(
        "Orders entering each status",
        [(f"sum by (status) (rate(souk_orders_total[{RATE}]))", "{{status}}")],
        unit="ops",
        links=True,
    )
    board.panel(
        "Funnel: placed → reserved → confirmed (over the range)",
        [
            ('sum(increase(souk_orders_total{status="PENDING"}[$__range]))', "placed"),
            ('sum(increase(souk_orders_total{status="RESERVED"}[$__range]))', "reserved"),
            ('sum(increase(souk_orders_total{status="CONFIRMED"}[$__range]))', "confirmed"),
        ],
        kind="bargauge",
        instant=True,
    )
    board.panel(
        "Time from placement to a terminal status",
        [
            (
                f"histogram_quantile({q}, sum by (le) "
                f"(rate(souk_order_saga_duration_seconds_bucket[{RATE}])))",
                f"p{q[2:]}",
            )
            for q in ("0.5", "0.95", "0.99")
        ],
        unit="s",
        description="Most orders end CONFIRMED, so this is the time to confirm in practice.",
    )
    board.panel(
        "Saga completion (terminal / placed)",
        [
            (
                'sum(rate(souk_orders_total{status=~"CONFIRMED|REJECTED|CANCELLED"}[5m])) / '
                'sum(rate(souk_orders_total{status="PENDING"}[5m]))',
                "completion",
            )
        ],
        unit="percentunit",
    )
    board.panel(
        "Rejections and cancellations by reason",
        [
            (
                "sum by (status, reason) (increase(souk_order_terminations_total"
                f'{{status=~"REJECTED|CANCELLED"}}[{RATE}]))',
                "{{status}} {{reason}}",
            )
        ],
        links=True,
    )
    board.panel(
        "Payments by outcome",
        [(f"sum by (outcome) (rate(souk_payments_total[{RATE}]))", "{{outcome}}")],
        unit="ops",
    )
    board.panel(
        "Stock reservations by outcome",
        [
            (
                f"sum by (outcome) (rate(souk_inventory_reservations_total[{RATE}]))",
                "{{outcome}}",
            )
        ],
        unit="ops",
    )
    return board


def streams() -> Board:
    """Event streams: throughput, pending, lag, handler latency, dead letters, outbox."""
    board = Board(
        "souk-event-streams",
        "Souk / Event streams",
        "Redis Streams consumer groups and the transactional outbox.",
        ["streams"],
    )
    by = "stream, group"
    board.panel(
        "Entries handled per stream and group",
        [(f"sum by ({by}) (rate(souk_stream_events_total[{RATE}]))", "{{stream}} → {{group}}")],
        unit="ops",
    )
    board.panel(
        "Outcomes (ok, duplicate, ignored, error, dead_letter)",
        [(f"sum by (outcome) (rate(souk_stream_events_total[{RATE}]))", "{{outcome}}")],
        unit="ops",
    )
    board.panel(
        "Pending (delivered, not acknowledged)",
        [(f"max by ({by}) (souk_stream_pending)", "{{stream}} → {{group}}")],
        width=8,
    )
    board.panel(
        "Lag (not yet delivered)",
        [(f"max by ({by}) (souk_stream_lag)", "{{stream}} → {{group}}")],
        width=8,
    )
    board.panel(
        "Handler latency p95",
        [
            (
                f"histogram_quantile(0.95, sum by ({by}, le) "
                f"(rate(souk_stream_handler_duration_seconds_bucket[{RATE}])))",
                "{{stream}} → {{group}}",
            )
        ],
        unit="s",
        width=8,
    )
    board.panel(
        "Dead letters",
        [
            (
                f"sum by ({by}) (souk_stream_dead_letters_total) or "
                f"sum by ({by}) (souk_stream_pending) * 0",
                "{{stream}} → {{group}}",
            )
        ],
        description="Entries moved to dlq.<group> (0 while none: read with XRANGE, see "
        "docs/events.md to re-drive).",
        width=8,
    )
    board.panel(
        "Outbox backlog",
        [("max by (service) (souk_outbox_unpublished)", "{{service}}")],
        width=8,
    )
    board.panel(
        "Outbox publish rate",
        [(f"sum by (service) (rate(souk_outbox_published_total[{RATE}]))", "{{service}}")],
        unit="ops",
        width=8,
    )
    return board


def operator() -> Board:
    """The operator: reconciles, failures, duration, Marketplaces by phase."""
    board = Board(
        "souk-operator",
        "Souk / Operator",
        "Marketplace reconciles. The operator exports reconcile counts by the phase they "
        "ended in (outcome) and their duration; there is no per-Marketplace gauge.",
        ["operator"],
    )
    board.panel(
        "Reconciles by outcome",
        [(f"sum by (outcome) (rate(souk_operator_reconcile_total[{RATE}]))", "{{outcome}}")],
        unit="ops",
    )
    board.panel(
        "Reconcile failures (error, failed)",
        [
            (
                "sum by (outcome) (increase(souk_operator_reconcile_total"
                f'{{outcome=~"error|failed"}}[{RATE}]))',
                "{{outcome}}",
            )
        ],
    )
    board.panel(
        "Reconcile duration",
        [
            (
                f"histogram_quantile({q}, sum by (le) "
                f"(rate(souk_operator_reconcile_duration_seconds_bucket[{RATE}])))",
                f"p{q[2:]}",
            )
            for q in ("0.5", "0.95")
        ],
        unit="s",
    )
    board.panel(
        "Marketplaces by phase (phase of the latest reconciles)",
        [
            (
                'sum by (outcome) (increase(souk_operator_reconcile_total{outcome!="error"}[10m]))',
                "{{outcome}}",
            )
        ],
        kind="bargauge",
        instant=True,
        description="Reconciles in the last 10 minutes by the phase they ended in; the "
        "operator's timer re-reconciles every Marketplace, so this follows their phases.",
    )
    return board


def _consumer_panels(board: Board, name: str) -> None:
    """Panels of the consumer group ``name`` (only for services that consume streams)."""
    board.panel(
        "Entries handled by outcome",
        [
            (
                f'sum by (stream, outcome) (rate(souk_stream_events_total{{group="{name}"}}'
                f"[{RATE}]))",
                "{{stream}} {{outcome}}",
            )
        ],
        unit="ops",
        width=8,
    )
    board.panel(
        "Pending and lag",
        [
            (f'max by (stream) (souk_stream_pending{{group="{name}"}})', "pending {{stream}}"),
            (f'max by (stream) (souk_stream_lag{{group="{name}"}})', "lag {{stream}}"),
        ],
        width=8,
    )


def service(name: str) -> Board:
    """One service: its RED per route, its consumer groups, its outbox and business metrics."""
    board = Board(
        f"souk-service-{name}",
        f"Souk / Service / {name}",
        f"The {name} service: requests, events consumed and published, business metrics.",
        ["service", name],
    )
    selector = f'job="{name}"'
    board.row("HTTP")
    red_panels(board, selector, "route")
    board.row("Events")
    if SERVICES[name].subscribes:
        _consumer_panels(board, name)
    board.panel(
        "Outbox backlog",
        [(f'max(souk_outbox_unpublished{{service="{name}"}})', "unpublished")],
        width=8,
    )
    business = {
        "auth": [
            (
                f"sum by (role) (rate(souk_users_registered_total[{RATE}]))",
                "registered {{role}}",
            )
        ],
        "catalog": [
            (
                f"sum by (outcome) (rate(souk_inventory_reservations_total[{RATE}]))",
                "reservations {{outcome}}",
            ),
            (f"sum(rate(souk_low_stock_events_total[{RATE}]))", "low stock"),
        ],
        "orders": [(f"sum by (status) (rate(souk_orders_total[{RATE}]))", "{{status}}")],
        "payments": [(f"sum by (outcome) (rate(souk_payments_total[{RATE}]))", "{{outcome}}")],
        "notifications": [],
    }[name]
    if business:
        board.row("Business")
        board.panel("Business events", business, unit="ops", width=24)
    return board


def dashboards() -> dict[str, dict[str, Any]]:
    """Return every dashboard by file name."""
    boards = [overview(), saga(), streams(), operator(), *(service(s) for s in SERVICES)]
    return {f"{b.uid}.json": b.to_json() for b in boards}


def render(dashboard: dict[str, Any]) -> str:
    """Return the file text of one dashboard."""
    return json.dumps(dashboard, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    """Write every dashboard into ``dashboards/`` (``--check``: fail if one differs)."""
    check = "--check" in sys.argv
    stale = []
    for filename, dashboard in dashboards().items():
        path = OUT / filename
        text = render(dashboard)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(filename)
        else:
            path.write_text(text)
    if stale:
        sys.exit(f"stale dashboards (run generate.py): {', '.join(stale)}")


if __name__ == "__main__":
    main()
