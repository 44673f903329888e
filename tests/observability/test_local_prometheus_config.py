"""The local observability mode's generated Prometheus configuration (no process started)."""

import json
import subprocess

from souk_devstack.prometheus import PrometheusConfig, default_rule_files, stack_targets
from tests.support.promql import ROOT, tool


def test_config_scrapes_every_service_as_its_job_and_the_operator(tmp_path):
    targets = stack_targets({"auth": "http://127.0.0.1:8001", "orders": "http://127.0.0.1:8003/"})
    config = PrometheusConfig(
        targets=targets,
        rule_files=default_rule_files(ROOT),
        operator_target="127.0.0.1:9090",
    )
    document = json.loads(config.render())
    jobs = {j["job_name"]: j["static_configs"][0]["targets"] for j in document["scrape_configs"]}
    assert jobs == {
        "auth": ["127.0.0.1:8001"],
        "orders": ["127.0.0.1:8003"],
        "souk-operator": ["127.0.0.1:9090"],
    }
    assert {p.rsplit("/", 1)[-1] for p in document["rule_files"]} == {"alerts.yml", "recording.yml"}
    path = tmp_path / "prometheus.yml"
    path.write_text(config.render())
    result = subprocess.run(
        [tool("promtool"), "check", "config", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
