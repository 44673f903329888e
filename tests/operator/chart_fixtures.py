"""Helpers for installing the charts into the envtest API server and checking what they made.

Used by ``test_chart_install.py``: helm and kubectl against the admin kubeconfig, the
operator started with exactly the environment its installed Deployment declares, the Secret
and ConfigMap references of a pod template, and Deployments made "ready" through the status
subresource (no kubelet runs on the envtest server).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client as k8s

from souk_common.testing import wait_until
from tests.envtest.apiserver import ApiServer
from tests.operator.conftest import OperatorProcess

# prometheus-operator's kinds, whose CRDs the envtest server does not have by itself.
MONITORING_GROUP = "monitoring.coreos.com"
MONITORING_KINDS = (("ServiceMonitor", "servicemonitors"), ("PodMonitor", "podmonitors"),
                    ("PrometheusRule", "prometheusrules"))  # fmt: skip


def helm_run(
    helm: Path, apiserver: ApiServer, *args: str, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run helm as the admin against the envtest server; fail with helm's output."""
    result = subprocess.run(
        [str(helm), *args, "--kubeconfig", str(apiserver.admin_kubeconfig)],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"helm {' '.join(args)}:\n{result.stderr}{result.stdout}"
    return result


def server_dry_run(
    kubectl: Path, apiserver: ApiServer, namespace: str, manifests: Sequence[dict[str, Any]]
) -> str:
    """Submit ``manifests`` with ``kubectl apply --dry-run=server``; return kubectl's output.

    The API server validates and admits every object without storing it, so an apiVersion
    it does not serve, a field it does not know or a value it refuses fails here. Objects
    without a namespace go to ``namespace`` (as helm installs them); objects naming another
    namespace (a Role in a watched namespace) are sent to theirs.
    """
    groups: dict[str, list[dict[str, Any]]] = {}
    for manifest in manifests:
        target = manifest.get("metadata", {}).get("namespace") or namespace
        groups.setdefault(target, []).append(manifest)
    output = []
    for target, group in groups.items():
        result = subprocess.run(
            [str(kubectl), "--kubeconfig", str(apiserver.admin_kubeconfig), "-n", target,
             "apply", "--dry-run=server", "--validate=strict", "-f", "-"],
            input=yaml.safe_dump_all(group, sort_keys=False), capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        assert result.returncode == 0, f"server dry run refused:\n{result.stderr}{result.stdout}"
        output.append(result.stdout)
    return "".join(output)


def install_monitoring_crds(api: k8s.ApiClient) -> None:
    """Install stand-ins for prometheus-operator's CRDs, as a cluster running it has them.

    Their schemas accept any spec: they let helm map and the server admit ServiceMonitors and
    PrometheusRules, not validate them (the chart tests check those fields).
    """
    extensions = k8s.ApiextensionsV1Api(api)
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    for kind, plural in MONITORING_KINDS:
        body = {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{MONITORING_GROUP}"},
            "spec": {
                "group": MONITORING_GROUP,
                "scope": "Namespaced",
                "names": {
                    "kind": kind,
                    "plural": plural,
                    "singular": kind.lower(),
                    "listKind": f"{kind}List",
                },
                "versions": [{"name": "v1", "served": True, "storage": True, "schema": schema}],
            },
        }
        try:
            extensions.create_custom_resource_definition(body)
        except k8s.ApiException as error:
            if error.status != 409:
                raise

    def established() -> bool:
        for _kind, plural in MONITORING_KINDS:
            crd = extensions.read_custom_resource_definition(f"{plural}.{MONITORING_GROUP}")
            conditions = crd.status.conditions or []
            if not any(c.type == "Established" and c.status == "True" for c in conditions):
                return False
        return True

    wait_until(established)


def render_for_server(
    helm: Path,
    apiserver: ApiServer,
    chart: Path,
    release: str,
    namespace: str,
    values: Sequence[Path] = (),
    set_values: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """``helm template --dry-run=server``: render with the server's version and API list."""
    args = ["template", release, str(chart), "--namespace", namespace, "--dry-run=server"]
    for path in values:
        args += ["--values", str(path)]
    for item in set_values:
        args += ["--set", item]
    output = helm_run(helm, apiserver, *args).stdout
    return [doc for doc in yaml.safe_load_all(output) if doc]


def chart_operator(
    deployment: k8s.V1Deployment, kubeconfig: Path, log: Path, namespace: str
) -> OperatorProcess:
    """An operator process with the environment and command of the installed Deployment.

    ``valueFrom.fieldRef`` is resolved as the kubelet would (pod name, pod namespace); only
    the health and metrics ports are moved to free ports so tests never collide.
    """
    container = deployment.spec.template.spec.containers[0]
    assert container.command == ["python", "-m", "souk_operator"], container.command
    env: dict[str, str] = {}
    for var in container.env or []:
        if var.value_from is not None:
            field = var.value_from.field_ref.field_path
            env[var.name] = {"metadata.name": f"{deployment.metadata.name}-test-0",
                             "metadata.namespace": namespace}[field]  # fmt: skip
        else:
            env[var.name] = var.value or ""
    process = OperatorProcess(kubeconfig, env["SOUK_OPERATOR_NAMESPACES"], log, lease="unused")
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("SOUK_OPERATOR_")}
    process.env = {
        **inherited,
        **env,
        "KUBECONFIG": str(kubeconfig),
        "SOUK_OPERATOR_HEALTH_PORT": str(process.health_port),
        "SOUK_OPERATOR_METRICS_PORT": str(process.metrics_port),
    }
    return process


@dataclass(frozen=True)
class Reference:
    """One reference of a pod template to a Secret or ConfigMap (key None: the whole object)."""

    kind: str
    name: str
    key: str | None
    optional: bool
    where: str


def pod_references(owner: str, pod: k8s.V1PodSpec) -> Iterator[Reference]:
    """Yield every Secret/ConfigMap reference of a pod spec: env, envFrom, volumes."""
    containers = [*(pod.init_containers or []), *(pod.containers or [])]
    for container in containers:
        where = f"{owner} container {container.name}"
        for source in container.env_from or []:
            if source.secret_ref is not None:
                ref = source.secret_ref
                yield Reference("Secret", ref.name, None, bool(ref.optional), where)
            if source.config_map_ref is not None:
                ref = source.config_map_ref
                yield Reference("ConfigMap", ref.name, None, bool(ref.optional), where)
        for var in container.env or []:
            source = var.value_from
            if source is None:
                continue
            if source.secret_key_ref is not None:
                ref = source.secret_key_ref
                yield Reference("Secret", ref.name, ref.key, bool(ref.optional),
                                f"{where} env {var.name}")  # fmt: skip
            if source.config_map_key_ref is not None:
                ref = source.config_map_key_ref
                yield Reference("ConfigMap", ref.name, ref.key, bool(ref.optional),
                                f"{where} env {var.name}")  # fmt: skip
    for volume in pod.volumes or []:
        where = f"{owner} volume {volume.name}"
        sources: list[tuple[str, Any]] = []
        if volume.secret is not None:
            sources.append(("Secret", volume.secret))
        if volume.config_map is not None:
            sources.append(("ConfigMap", volume.config_map))
        for projected in (volume.projected.sources or []) if volume.projected else []:
            if projected.secret is not None:
                sources.append(("Secret", projected.secret))
            if projected.config_map is not None:
                sources.append(("ConfigMap", projected.config_map))
        for kind, ref in sources:
            name = ref.secret_name if kind == "Secret" and hasattr(ref, "secret_name") else None
            name = name or ref.name
            yield Reference(kind, name, None, bool(ref.optional), where)
            for item in ref.items or []:
                yield Reference(kind, name, item.key, bool(ref.optional), where)


def missing_references(
    core: k8s.CoreV1Api, namespace: str, references: Sequence[Reference]
) -> list[str]:
    """Return one line per non-optional reference whose object or key does not exist."""
    problems = []
    cache: dict[tuple[str, str], set[str] | None] = {}
    for ref in references:
        if (ref.kind, ref.name) not in cache:
            read = core.read_namespaced_secret if ref.kind == "Secret" else (
                core.read_namespaced_config_map
            )  # fmt: skip
            try:
                found = read(ref.name, namespace)
                cache[(ref.kind, ref.name)] = set(found.data or {}) | set(
                    getattr(found, "binary_data", None) or {}
                )
            except k8s.ApiException as error:
                if error.status != 404:
                    raise
                cache[(ref.kind, ref.name)] = None
        keys = cache[(ref.kind, ref.name)]
        if ref.optional:
            continue
        if keys is None:
            problems.append(f"{ref.where}: {ref.kind} {ref.name} does not exist")
        elif ref.key is not None and ref.key not in keys:
            problems.append(f"{ref.where}: {ref.kind} {ref.name} has no key {ref.key}")
    return problems


def mark_ready(apps: k8s.AppsV1Api, namespace: str, name: str) -> None:
    """Report a Deployment's replicas ready through its status subresource, as a kubelet would."""
    deployment = apps.read_namespaced_deployment(name, namespace)
    replicas = deployment.spec.replicas if deployment.spec.replicas is not None else 1
    apps.patch_namespaced_deployment_status(
        name,
        namespace,
        {"status": {"observedGeneration": deployment.metadata.generation, "replicas": replicas,
                    "readyReplicas": replicas, "availableReplicas": replicas,
                    "updatedReplicas": replicas}},
    )  # fmt: skip
