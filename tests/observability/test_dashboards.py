"""The provisioned dashboards: Grafana's schema fields, no hard-coded UIDs, known metrics only.

"Known" here means defined by the code: every service's and the operator's metrics modules
are imported and their registry read (the operator is not started by the local stack, so its
two metrics are checked from their definitions). The live test repeats the check against the
names the running services actually expose on ``/metrics``.
"""

import importlib
import json
import subprocess
import sys

import pytest
from prometheus_client import REGISTRY

from tests.support.promql import (
    DASHBOARDS,
    OBSERVABILITY,
    defined_names,
    load_dashboards,
    names_in_use,
    recorded_names,
)

METRIC_MODULES = (
    "souk_common.metrics",
    "souk_auth.metrics",
    "souk_catalog.metrics",
    "souk_orders.metrics",
    "souk_payments.metrics",
    "souk_operator.metrics",
)
EXPECTED = {
    "souk-overview",
    "souk-order-saga",
    "souk-event-streams",
    "souk-operator",
    *(f"souk-service-{s}" for s in ("auth", "catalog", "orders", "payments", "notifications")),
}


def test_every_expected_dashboard_is_provisioned():
    assert {d["uid"] for d in load_dashboards().values()} == EXPECTED


@pytest.mark.parametrize("filename", sorted(p.name for p in DASHBOARDS.glob("*.json")))
def test_dashboard_has_the_schema_fields_grafana_needs(filename):
    dashboard = json.loads((DASHBOARDS / filename).read_text())
    assert dashboard["uid"] == filename.removesuffix(".json")
    assert dashboard["title"].startswith("Souk / ")
    assert isinstance(dashboard["schemaVersion"], int)
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert panels
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels:
        assert panel["title"]
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"}
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip()
            assert target["refId"]
            assert target["datasource"]["uid"] == "${datasource}"
    # No hard-coded data source UID anywhere: every "uid" but the dashboard's is a variable.
    text = json.dumps(dashboard["panels"]) + json.dumps(dashboard["templating"])
    assert '"uid": "${datasource}"' in text
    for fragment in text.split('"uid": ')[1:]:
        assert fragment.startswith('"${'), fragment[:40]


def test_panels_link_to_one_correlation_ids_logs_and_traces():
    overview = load_dashboards()["souk-overview.json"]
    links = [
        link
        for panel in overview["panels"]
        for link in panel.get("fieldConfig", {}).get("defaults", {}).get("links", [])
    ]
    assert any("${traces}" in link["url"] and "${correlation_id}" in link["url"] for link in links)
    assert any("${logs}" in link["url"] and "${correlation_id}" in link["url"] for link in links)


def test_committed_dashboards_are_what_the_generator_writes():
    result = subprocess.run(
        [sys.executable, str(OBSERVABILITY / "grafana" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_every_metric_in_a_panel_or_rule_is_defined_by_the_code():
    for module in METRIC_MODULES:
        importlib.import_module(module)
    known = defined_names(REGISTRY) | recorded_names()
    unknown = {name: where for name, where in names_in_use().items() if name not in known}
    assert not unknown, unknown


def test_an_unknown_metric_name_would_be_caught():
    from tests.support.promql import metric_names

    names = metric_names('sum by (job) (rate(souk_made_up_total{job=~".+"}[5m])) > 0.5')
    assert names == {"souk_made_up_total"}
    assert "souk_made_up_total" not in defined_names(REGISTRY)
