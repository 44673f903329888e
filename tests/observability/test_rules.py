"""Prometheus rules: ``promtool check rules``, ``promtool test rules``, and their coverage.

Every alert must have at least one unit test where it fires and one where it does not, and
carry a summary, a description and runbook text. The OpenTelemetry collector configuration is
checked for a consistent pipeline (no collector binary is installed here).
"""

import subprocess

import yaml

from tests.support.promql import OBSERVABILITY, RULE_TESTS, RULES, rule_groups, tool

ALERTS = {
    "SoukHighErrorRatio",
    "SoukHighLatencyP95",
    "SoukConsumerLagGrowing",
    "SoukDeadLetter",
    "SoukOutboxBacklogGrowing",
    "SoukSagaCompletionFalling",
    "SoukOperatorReconcileFailures",
    "SoukMarketplaceNotReady",
}


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)


def test_promtool_check_rules_passes():
    files = sorted(str(p) for p in RULES.glob("*.yml"))
    result = run(tool("promtool"), "check", "rules", *files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(files)


def test_promtool_unit_tests_pass():
    files = sorted(str(p) for p in RULE_TESTS.glob("*.yml"))
    assert files
    result = run(tool("promtool"), "test", "rules", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_promtool_unit_tests_can_fail():
    """A broken expectation must make promtool fail (so the passing run means something)."""
    document = yaml.safe_load((RULE_TESTS / "alerts_test.yml").read_text())
    document["rule_files"] = [str(p) for p in sorted(RULES.glob("*.yml"))]
    first = document["tests"][0]["alert_rule_test"][-1]
    first["exp_alerts"] = []  # the error-ratio alert does fire here
    document["tests"] = document["tests"][:1]
    broken = RULE_TESTS.parent / ".broken_test.yml"
    try:
        broken.write_text(yaml.safe_dump(document))
        result = run(tool("promtool"), "test", "rules", str(broken))
    finally:
        broken.unlink(missing_ok=True)
    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr


def test_every_alert_is_tested_firing_and_not_firing():
    fired: set[str] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS.glob("*.yml"):
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (fired if check.get("exp_alerts") else quiet).add(check["alertname"])
    assert fired >= ALERTS, ALERTS - fired
    assert quiet >= ALERTS, ALERTS - quiet


def test_every_alert_has_runbook_text_and_a_severity():
    alerts = {r["alert"]: r for g in rule_groups() for r in g["rules"] if "alert" in r}
    assert set(alerts) == ALERTS
    for name, rule in alerts.items():
        annotations = rule["annotations"]
        assert annotations["summary"], name
        assert annotations["description"], name
        assert len(annotations["runbook"].splitlines()) >= 3, name
        assert rule["labels"]["severity"] in {"page", "warn"}, name


def test_error_ratio_alert_waits_5_minutes_and_not_ready_10():
    alerts = {r["alert"]: r for g in rule_groups() for r in g["rules"] if "alert" in r}
    assert alerts["SoukHighErrorRatio"]["for"] == "5m"
    assert "0.05" in alerts["SoukHighErrorRatio"]["expr"]
    assert alerts["SoukMarketplaceNotReady"]["for"] == "10m"


def test_collector_pipelines_use_only_defined_components():
    config = yaml.safe_load((OBSERVABILITY / "otel" / "collector.yaml").read_text())
    assert "otlp" in config["receivers"]
    assert set(config["receivers"]["otlp"]["protocols"]) == {"grpc", "http"}
    pipelines = config["service"]["pipelines"]
    assert {"traces", "metrics"} <= set(pipelines)
    for pipeline in pipelines.values():
        for kind in ("receivers", "processors", "exporters"):
            for component in pipeline.get(kind, []):
                assert component in config[kind], (kind, component)
    assert any(e.startswith("otlp") for e in pipelines["traces"]["exporters"])
    assert any(e.startswith("prometheus") for e in pipelines["metrics"]["exporters"])
