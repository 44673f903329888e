"""Envtest: the operator and umbrella charts installed with helm into a real API server.

The server is kube-apiserver 1.20, so helm's capability checks meet a real (old) server: the
operator's PodDisruptionBudget must come out as policy/v1beta1, and every object both charts
render, with default and with full values, must pass the server's own validation
(``kubectl apply --dry-run=server``). Then the operator runs as a process with the installed
Deployment's environment and a token of the chart's ServiceAccount, bound only by the
namespaced Roles the chart creates when ``watchNamespaces`` is set; it provisions the
Marketplace that the umbrella chart rendered from values (External mode, local PostgreSQL
and Redis), and every Secret and key that any rendered Deployment references must exist.
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s

from souk_common.testing import PG_ADMIN_URL, REDIS_URL, wait_until
from souk_contracts.topology import SERVICES
from tests.envtest.apiserver import ApiServer
from tests.operator.chart_fixtures import (
    Reference,
    chart_operator,
    helm_run,
    install_monitoring_crds,
    mark_ready,
    missing_references,
    pod_references,
    render_for_server,
    server_dry_run,
)
from tests.operator.conftest import ROOT
from tests.operator.helpers import conditions, get_mkt, infra_ready
from tests.support.helm import dependency_build

pytestmark = pytest.mark.envtest
OPERATOR_CHART = ROOT / "charts/souk-operator"
UMBRELLA = ROOT / "charts/souk"
OPERATOR_RELEASE, SHOP_RELEASE = "op", "shop"
OPERATOR_NAME = f"{OPERATOR_RELEASE}-souk-operator"  # the chart's fullname for release "op"
# The External-mode Secrets the Marketplace references (names and keys the test chooses, so
# they must travel through the umbrella's values into the Marketplace).
PG_SECRET, PG_KEY = "external-postgres", "dsn"
REDIS_SECRET, REDIS_KEY = "external-redis", "url"
# Every optional object of the umbrella switched on, for the server-side dry run.
UMBRELLA_FULL = [
    "observability.enabled=true",
    "global.serviceMonitor.enabled=true",
    "global.seed.enabled=true",
    "ingress.host=shop.example.test",
    "ingress.tls.enabled=true",
    "ingress.tls.secretName=shop-tls",
    *(f"{service}.autoscaling.enabled=true" for service in SERVICES),
    *(f"{service}.podDisruptionBudget.enabled=true" for service in SERVICES),
    "orders.autoscaling.targetMemoryUtilizationPercentage=80",
]


def install_operator(
    helm: Path, apiserver: ApiServer, namespace: str, watch: str, *settings: str
) -> str:
    """Install the operator chart as release ``op`` watching ``watch``; return its namespace."""
    apiserver.ensure_namespace(namespace)
    args = ["install", OPERATOR_RELEASE, str(OPERATOR_CHART), "--namespace", namespace,
            "--set", f"watchNamespaces={watch}"]  # fmt: skip
    for item in settings:
        args += ["--set", item]
    helm_run(helm, apiserver, *args)
    return namespace


def crd_established(api: k8s.ApiClient) -> bool:
    """True once the Marketplace CRD is served."""
    crd = k8s.ApiextensionsV1Api(api).read_custom_resource_definition("marketplaces.souk.dev")
    return any(c.type == "Established" and c.status == "True" for c in crd.status.conditions)


def can_i(kubectl: Path, kubeconfig: Path, *args: str) -> bool:
    """Ask the server whether the kubeconfig's identity may do ``args`` (kubectl auth can-i)."""
    result = subprocess.run(
        [str(kubectl), "--kubeconfig", str(kubeconfig), "auth", "can-i", *args],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    return result.stdout.strip() == "yes"


def test_operator_chart_installs_on_1_20_with_namespaced_rbac(
    apiserver, helm, kubectl, kube_admin, kube_namespace
):
    watched = kube_namespace
    ops = install_operator(helm, apiserver, f"{kube_namespace}-ops", watched)
    wait_until(lambda: crd_established(kube_admin))

    # Capabilities of a 1.20 server: no policy/v1 PodDisruptionBudget yet.
    manifest = helm_run(helm, apiserver, "get", "manifest", OPERATOR_RELEASE, "-n", ops).stdout
    pdbs = [d for d in yaml.safe_load_all(manifest) if d and d["kind"] == "PodDisruptionBudget"]
    assert [d["apiVersion"] for d in pdbs] == ["policy/v1beta1"]
    stored = subprocess.run(
        [str(kubectl), "--kubeconfig", str(apiserver.admin_kubeconfig), "-n", ops, "get",
         "poddisruptionbudgets.v1beta1.policy", "-o", "name"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout.split()  # fmt: skip
    assert stored == [f"poddisruptionbudget.policy/{OPERATOR_NAME}"]

    # Watching one namespace: a Role there, the Lease Role at home, nothing cluster-wide.
    rbac = k8s.RbacAuthorizationV1Api(kube_admin)
    selector = f"app.kubernetes.io/instance={OPERATOR_RELEASE}"
    assert [r.metadata.name for r in rbac.list_namespaced_role(watched).items] == [
        f"{ops}-{OPERATOR_NAME}"
    ]
    assert rbac.list_cluster_role(label_selector=selector).items == []
    assert rbac.list_cluster_role_binding(label_selector=selector).items == []
    account = apiserver.kubeconfig_for(OPERATOR_NAME, ops)
    assert can_i(kubectl, account, "create", "secrets", "-n", watched)
    assert can_i(kubectl, account, "watch", "marketplaces.souk.dev", "-n", watched)
    assert can_i(kubectl, account, "update", "leases.coordination.k8s.io", "-n", ops)
    assert not can_i(kubectl, account, "get", "secrets", "-n", ops)
    assert not can_i(kubectl, account, "list", "secrets", "--all-namespaces")
    assert not can_i(kubectl, account, "list", "marketplaces.souk.dev", "-n", "default")
    assert not can_i(kubectl, account, "update", "secrets", "-n", watched)
    assert not can_i(kubectl, account, "list", "customresourcedefinitions")

    # Every object, default and full values, rendered with this server's capabilities and
    # admitted by it (stand-in prometheus-operator CRDs let the ServiceMonitor through).
    install_monitoring_crds(kube_admin)
    full = OPERATOR_CHART / "ci/full-values.yaml"
    for values in ([], [full]):
        rendered = render_for_server(
            helm, apiserver, OPERATOR_CHART, "dry", ops, values,
            [f"watchNamespaces={watched}"],
        )  # fmt: skip
        kinds = {m["kind"] for m in rendered}
        assert {"Deployment", "PodDisruptionBudget", "Role", "Service"} <= kinds
        assert ("ServiceMonitor" in kinds) == bool(values)
        server_dry_run(kubectl, apiserver, ops, rendered)


def _secret(core: k8s.CoreV1Api, namespace: str, name: str, key: str, value: str) -> None:
    core.create_namespaced_secret(
        namespace, k8s.V1Secret(metadata=k8s.V1ObjectMeta(name=name), string_data={key: value})
    )


def _umbrella_values(marketplace: str) -> list[str]:
    """``--set`` arguments: the Marketplace in External mode on the test's Secrets.

    ``global.marketplace`` is what the service charts read to name the Secrets; the umbrella
    requires ``marketplace.name``, when set, to equal it.
    """
    return [
        f"global.marketplace={marketplace}",
        f"marketplace.name={marketplace}",
        "marketplace.postgres.mode=External",
        f"marketplace.postgres.external.adminSecretRef.name={PG_SECRET}",
        f"marketplace.postgres.external.adminSecretRef.key={PG_KEY}",
        "marketplace.redis.mode=External",
        f"marketplace.redis.external.urlSecretRef.name={REDIS_SECRET}",
        f"marketplace.redis.external.urlSecretRef.key={REDIS_KEY}",
    ]


def _install_umbrella(helm: Path, apiserver: ApiServer, namespace: str, marketplace: str) -> None:
    assert (UMBRELLA / "Chart.yaml").is_file(), "the umbrella chart charts/souk is missing"
    for service in SERVICES:  # their souk-lib first: the umbrella packs them with it
        dependency_build(ROOT / f"charts/souk-{service}")
    dependency_build(UMBRELLA)
    args = ["install", SHOP_RELEASE, str(UMBRELLA), "--namespace", namespace, "--timeout", "120s"]
    for item in _umbrella_values(marketplace):
        args += ["--set", item]
    helm_run(helm, apiserver, *args)


def _container(pod: k8s.V1PodSpec, name: str) -> k8s.V1Container:
    return next(c for c in pod.containers if c.name == name)


def _env(container: k8s.V1Container) -> dict[str, Any]:
    return {e.name: e for e in container.env or []}


def _check_auth_signing_key(pod: k8s.V1PodSpec, marketplace: str, keys: set[str]) -> None:
    """AUTH_SIGNING_KEY_FILE points into the mounted ``<mkt>-auth-keys`` Secret, at a key."""
    server = _container(pod, "auth")
    path = _env(server)["AUTH_SIGNING_KEY_FILE"].value
    volumes = {v.name: v for v in pod.volumes or []}
    for mount in server.volume_mounts or []:
        volume = volumes[mount.name]
        if volume.secret is None or not path.startswith(mount.mount_path.rstrip("/") + "/"):
            continue
        assert volume.secret.secret_name == f"{marketplace}-auth-keys"
        assert path[len(mount.mount_path.rstrip("/")) + 1 :] == "private.pem"
        assert "private.pem" in keys
        return
    raise AssertionError(f"AUTH_SIGNING_KEY_FILE={path} is not in a mounted Secret")


def _secret_keys(core: k8s.CoreV1Api, namespace: str, name: str) -> set[str]:
    return set(core.read_namespaced_secret(name, namespace).data or {})


def test_umbrella_marketplace_is_provisioned_and_every_secret_reference_resolves(
    apiserver, helm, kubectl, kube_admin, kube_namespace, marketplace_name, tmp_path
):
    ns, mkt = kube_namespace, marketplace_name
    core, apps = k8s.CoreV1Api(kube_admin), k8s.AppsV1Api(kube_admin)
    ops = install_operator(
        helm, apiserver, f"{ns}-ops", ns, "checkIntervalSeconds=2", "leaseDurationSeconds=6"
    )
    wait_until(lambda: crd_established(kube_admin))
    _secret(core, ns, PG_SECRET, PG_KEY, PG_ADMIN_URL)
    _secret(core, ns, REDIS_SECRET, REDIS_KEY, REDIS_URL)
    _install_umbrella(helm, apiserver, ns, mkt)

    # The Marketplace came from the umbrella's values.
    spec = get_mkt(kube_admin, ns, mkt)["spec"]
    assert spec["postgres"]["mode"] == "External"
    assert spec["postgres"]["external"]["adminSecretRef"] == {"name": PG_SECRET, "key": PG_KEY}
    assert spec["redis"]["external"]["urlSecretRef"] == {"name": REDIS_SECRET, "key": REDIS_KEY}

    # The operator as its installed Deployment runs it, with the chart's ServiceAccount.
    deployment = apps.read_namespaced_deployment(OPERATOR_NAME, ops)
    kubeconfig = apiserver.kubeconfig_for(OPERATOR_NAME, ops)
    operator = chart_operator(deployment, kubeconfig, tmp_path / "operator.log", ops)
    try:
        operator.start().wait_live()
        lease = k8s.CoordinationV1Api(kube_admin).read_namespaced_lease(OPERATOR_NAME, ops)
        assert lease.spec.holder_identity == f"{OPERATOR_NAME}-test-0"
        wait_until(lambda: infra_ready(kube_admin, ns, mkt), within=90)
        _check_deployments(kube_admin, ns, mkt)
        # Found by their labels, not ready yet (no kubelet runs here) ...
        services = wait_until(lambda: conditions(kube_admin, ns, mkt)["ServicesReady"])
        assert services["reason"] in ("DeploymentsNotReady", "DeploymentsMissing")
        # ... and once their pods would be ready, so is the Marketplace.
        for item in apps.list_namespaced_deployment(ns).items:
            mark_ready(apps, ns, item.metadata.name)
        wait_until(lambda: conditions(kube_admin, ns, mkt)["Ready"]["status"] == "True")
        table = subprocess.run(
            [str(kubectl), "--kubeconfig", str(apiserver.admin_kubeconfig), "-n", ns, "get",
             "mkt", mkt], capture_output=True, text=True, timeout=30, check=True,
        ).stdout.splitlines()  # fmt: skip
        assert table[1].split()[:4] == [mkt, "True", "Ready", f"{len(SERVICES)}/{len(SERVICES)}"]
        assert get_mkt(kube_admin, ns, mkt)["status"]["phase"] == "Ready"
    except BaseException:
        print(operator.log.read_text(errors="replace")[-6000:])
        raise
    finally:
        operator.stop()

    # Every object of the umbrella, default, full and ci/ values, passes the 1.20 server's
    # checks (HPA and PDB API versions, Ingress, Jobs, ServiceMonitors, rules, dashboards).
    install_monitoring_crds(kube_admin)
    variants: list[tuple[list[Path], list[str]]] = [([], []), ([], UMBRELLA_FULL)]
    variants += [([path], []) for path in sorted((UMBRELLA / "ci").glob("*values.yaml"))]
    for values, extra in variants:
        rendered = render_for_server(
            helm, apiserver, UMBRELLA, SHOP_RELEASE, ns, values, [*_umbrella_values(mkt), *extra]
        )
        if extra:
            kinds = {m["kind"] for m in rendered}
            assert {"HorizontalPodAutoscaler", "PodDisruptionBudget", "ServiceMonitor"} <= kinds
        server_dry_run(kubectl, apiserver, ns, rendered)


def _check_deployments(api: k8s.ApiClient, ns: str, mkt: str) -> None:
    """Labels, Services and every Secret/ConfigMap reference of the umbrella's workloads."""
    core, apps = k8s.CoreV1Api(api), k8s.AppsV1Api(api)
    deployments = apps.list_namespaced_deployment(ns).items
    by_service = {d.metadata.labels.get("souk.dev/service"): d for d in deployments}
    assert set(by_service) == set(SERVICES), sorted(d.metadata.name for d in deployments)
    references: list[Reference] = []
    for service, deployment in by_service.items():
        labels = deployment.metadata.labels
        assert labels["souk.dev/marketplace"] == mkt
        assert labels["app.kubernetes.io/instance"] == SHOP_RELEASE
        assert labels["app.kubernetes.io/part-of"] == "souk"
        assert deployment.metadata.name == f"{SHOP_RELEASE}-{service}"
        pod = deployment.spec.template.spec
        refs = list(pod_references(f"Deployment {deployment.metadata.name}", pod))
        references += refs
        secrets = {r.name for r in refs if r.kind == "Secret"}
        assert {f"{mkt}-{service}-db", f"{mkt}-redis"} <= secrets, secrets
        server = _container(pod, service)
        assert server.command == ["python", "-m", f"souk_{service}"]
        assert server.args == ["serve", "--host", "0.0.0.0", "--port", "8000"]  # noqa: S104
        env = _env(server)
        assert env["DATABASE_URL"].value_from.secret_key_ref.name == f"{mkt}-{service}-db"
        if service == "auth":
            keys = _secret_keys(core, ns, f"{mkt}-auth-keys")
            _check_auth_signing_key(pod, mkt, keys)
        else:
            jwks = f"http://{SHOP_RELEASE}-auth/.well-known/jwks.json"
            assert env["AUTH_JWKS_URL"].value == jwks
        kube_service = core.read_namespaced_service(f"{SHOP_RELEASE}-{service}", ns)
        ports = [(p.port, p.target_port) for p in kube_service.spec.ports]
        assert ports == [(80, "http")]
        pod_labels = deployment.spec.template.metadata.labels
        assert kube_service.spec.selector.items() <= pod_labels.items(), pod_labels
    # The Ingress routes /api/<service> and the JWKS to Services that exist, on their ports.
    routed = set()
    for ingress in k8s.NetworkingV1Api(api).list_namespaced_ingress(ns).items:
        for rule in ingress.spec.rules:
            for path in rule.http.paths:
                routed.add((path.path, path.backend.service.name))
                backend = path.backend.service
                ports = core.read_namespaced_service(backend.name, ns).spec.ports
                assert any(p.name == backend.port.name if backend.port.name else
                           p.port == backend.port.number for p in ports), path  # fmt: skip
    wanted = {(f"/api/{s}", f"{SHOP_RELEASE}-{s}") for s in SERVICES}
    assert wanted | {("/.well-known/jwks.json", f"{SHOP_RELEASE}-auth")} <= routed, routed
    for job in k8s.BatchV1Api(api).list_namespaced_job(ns).items:
        references += pod_references(f"Job {job.metadata.name}", job.spec.template.spec)
    assert missing_references(core, ns, references) == []
    # The operator's Secret holds what the services read (decoded, for a readable failure).
    redis = core.read_namespaced_secret(f"{mkt}-redis", ns).data
    assert base64.b64decode(redis["STREAM_PREFIX"]).decode() == f"{mkt}:"


def test_the_reference_check_reports_missing_secrets_and_keys(kube_admin, kube_namespace):
    """The check above can fail: a missing Secret, a missing key and a missing ConfigMap."""
    core = k8s.CoreV1Api(kube_admin)
    _secret(core, kube_namespace, "present", "a", "1")

    def key(name: str, secret: str, item: str, optional: bool = False) -> k8s.V1EnvVar:
        selector = k8s.V1SecretKeySelector(name=secret, key=item, optional=optional)
        return k8s.V1EnvVar(name=name, value_from=k8s.V1EnvVarSource(secret_key_ref=selector))

    server = k8s.V1Container(
        name="server",
        env=[key("A", "present", "a"), key("B", "present", "b"), key("C", "absent", "c"),
             key("D", "absent", "d", optional=True)],
        env_from=[k8s.V1EnvFromSource(config_map_ref=k8s.V1ConfigMapEnvSource(name="settings"))],
    )  # fmt: skip
    volume = k8s.V1Volume(
        name="keys",
        secret=k8s.V1SecretVolumeSource(
            secret_name="present", items=[k8s.V1KeyToPath(key="pem", path="pem")]
        ),
    )
    pod = k8s.V1PodSpec(containers=[server], volumes=[volume])
    problems = missing_references(core, kube_namespace, list(pod_references("Deployment x", pod)))
    assert problems == [
        "Deployment x container server: ConfigMap settings does not exist",
        "Deployment x container server env B: Secret present has no key b",
        "Deployment x container server env C: Secret absent does not exist",
        "Deployment x volume keys: Secret present has no key pem",
    ]
