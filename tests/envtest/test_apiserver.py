"""The envtest harness against the real kube-apiserver: version, CRUD, RBAC, kubectl, CRDs."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from souk_common.testing import wait_until
from tests.envtest.apiserver import ApiServer

pytestmark = pytest.mark.envtest


def run_tool(binary: Path, *args: str, kubeconfig: Path, check: bool = True):
    return subprocess.run(
        [str(binary), "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=check,
    )


def test_server_reports_kubernetes_1_20(apiserver: ApiServer, kube_admin):
    info = k8s.VersionApi(kube_admin).get_code()
    assert (info.major, info.minor) == ("1", "20")
    assert info.git_version.startswith("v1.20.")
    assert apiserver.running
    # Printed so a run shows what it measured (cold start of etcd + apiserver).
    print(f"envtest: {info.git_version} ready in {apiserver.startup_seconds:.1f}s")


def test_admin_kubeconfig_creates_a_namespace_and_a_configmap(apiserver: ApiServer):
    name = f"t-{uuid.uuid4().hex[:10]}"
    with k8s_config.new_client_from_config(config_file=str(apiserver.admin_kubeconfig)) as api:
        core = k8s.CoreV1Api(api)
        core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
        core.create_namespaced_config_map(
            name,
            k8s.V1ConfigMap(
                metadata=k8s.V1ObjectMeta(name="settings", labels={"app": "souk"}),
                data={"greeting": "marhaba"},
            ),
        )
        stored = core.read_namespaced_config_map("settings", name)
        assert stored.data == {"greeting": "marhaba"}
        assert stored.metadata.uid
        listed = core.list_namespaced_config_map(name, label_selector="app=souk")
        assert [item.metadata.name for item in listed.items] == ["settings"]
        assert name in {ns.metadata.name for ns in core.list_namespace().items}


def test_service_account_token_is_refused_until_rbac_grants_it(
    apiserver: ApiServer, kube_admin, kube_namespace
):
    token = apiserver.token_for("reader", kube_namespace)
    assert token.count(".") == 2  # a signed JWT from the TokenRequest API

    with apiserver.api_client(token) as reader_api:
        reader = k8s.CoreV1Api(reader_api)
        with pytest.raises(k8s.ApiException) as refused:
            reader.list_namespaced_secret(kube_namespace)
        assert refused.value.status == 403
        assert f"system:serviceaccount:{kube_namespace}:reader" in refused.value.body

        rbac = k8s.RbacAuthorizationV1Api(kube_admin)
        rbac.create_namespaced_role(
            kube_namespace,
            k8s.V1Role(
                metadata=k8s.V1ObjectMeta(name="secret-reader"),
                rules=[
                    k8s.V1PolicyRule(api_groups=[""], resources=["secrets"], verbs=["get", "list"])
                ],
            ),
        )
        rbac.create_namespaced_role_binding(
            kube_namespace,
            k8s.V1RoleBinding(
                metadata=k8s.V1ObjectMeta(name="secret-reader"),
                role_ref=k8s.V1RoleRef(
                    api_group="rbac.authorization.k8s.io", kind="Role", name="secret-reader"
                ),
                subjects=[
                    k8s.RbacV1Subject(
                        kind="ServiceAccount", name="reader", namespace=kube_namespace
                    )
                ],
            ),
        )
        # The authorizer reads RBAC objects from an informer: allow it a moment to see them.
        secrets = wait_until(lambda: reader.list_namespaced_secret(kube_namespace))
        assert secrets.items == []
        # The grant is scoped: other namespaces and other verbs stay refused.
        with pytest.raises(k8s.ApiException) as elsewhere:
            reader.list_namespaced_secret("default")
        assert elsewhere.value.status == 403
        with pytest.raises(k8s.ApiException) as write:
            reader.create_namespaced_secret(
                kube_namespace, k8s.V1Secret(metadata=k8s.V1ObjectMeta(name="nope"))
            )
        assert write.value.status == 403


def test_cached_kubectl_works_against_the_server(apiserver: ApiServer, kubectl, kube_namespace):
    result = run_tool(kubectl, "get", "ns", "-o", "name", kubeconfig=apiserver.admin_kubeconfig)
    names = set(result.stdout.split())
    assert {"namespace/default", "namespace/kube-system", f"namespace/{kube_namespace}"} <= names

    # A ServiceAccount kubeconfig, checked with kubectl's own view of RBAC.
    sa_config = apiserver.kubeconfig_for("viewer", kube_namespace)
    can_i = run_tool(kubectl, "auth", "can-i", "list", "secrets", kubeconfig=sa_config, check=False)
    assert can_i.stdout.strip() == "no"

    # `kubectl create token` (the TokenRequest API, as DESIGN.md describes) works too.
    created = run_tool(
        kubectl,
        "-n",
        kube_namespace,
        "create",
        "token",
        "viewer",
        kubeconfig=apiserver.admin_kubeconfig,
    )
    assert created.stdout.strip().count(".") == 2


WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.envtest.souk.dev"},
    "spec": {
        "group": "envtest.souk.dev",
        "scope": "Namespaced",
        "names": {
            "plural": "widgets",
            "singular": "widget",
            "kind": "Widget",
            "shortNames": ["wdg"],
        },
        "versions": [
            {
                "name": "v1alpha1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "SIZE", "type": "integer", "jsonPath": ".spec.size"}
                ],
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {
                                    "size": {"type": "integer", "minimum": 1, "maximum": 10}
                                },
                            },
                            "status": {
                                "type": "object",
                                "properties": {"phase": {"type": "string"}},
                            },
                        },
                    }
                },
            }
        ],
    },
}


def test_crd_becomes_established_and_serves_its_resource(
    apiserver: ApiServer, kube_admin, kubectl, kube_namespace
):
    extensions = k8s.ApiextensionsV1Api(kube_admin)
    extensions.create_custom_resource_definition(WIDGET_CRD)

    def established() -> bool:
        crd = extensions.read_custom_resource_definition(WIDGET_CRD["metadata"]["name"])
        status = {c.type: c.status for c in crd.status.conditions or []}
        return status.get("Established") == "True" and status.get("NamesAccepted") == "True"

    # Established is set by the API server's own apiextensions controllers, not by a
    # controller-manager, so it must turn True here too.
    wait_until(established, within=20)

    custom = k8s.CustomObjectsApi(kube_admin)
    group, version, plural = "envtest.souk.dev", "v1alpha1", "widgets"
    widget = {
        "apiVersion": f"{group}/{version}",
        "kind": "Widget",
        "metadata": {"name": "w1"},
        "spec": {"size": 3},
    }
    # Discovery of a brand-new group can lag the Established condition by a moment.
    wait_until(
        lambda: custom.create_namespaced_custom_object(
            group, version, kube_namespace, plural, widget
        ),
        within=10,
    )

    # The schema is enforced by the API server.
    bad = {**widget, "metadata": {"name": "w2"}, "spec": {"size": 99}}
    with pytest.raises(k8s.ApiException) as invalid:
        custom.create_namespaced_custom_object(group, version, kube_namespace, plural, bad)
    assert invalid.value.status == 422

    # The status subresource: writes through /status land; the main resource ignores status.
    custom.patch_namespaced_custom_object_status(
        group, version, kube_namespace, plural, "w1", {"status": {"phase": "Ready"}}
    )
    stored = custom.get_namespaced_custom_object(group, version, kube_namespace, plural, "w1")
    assert stored["status"] == {"phase": "Ready"}
    assert stored["metadata"]["generation"] == 1

    # kubectl sees the short name and the printer column.
    table = run_tool(
        kubectl, "-n", kube_namespace, "get", "wdg", kubeconfig=apiserver.admin_kubeconfig
    )
    header, row = table.stdout.splitlines()[:2]
    assert header.split()[:2] == ["NAME", "SIZE"]
    assert row.split()[:2] == ["w1", "3"]


def test_cached_helm_installs_and_upgrades_a_chart(
    apiserver: ApiServer, helm, kube_admin, tmp_path
):
    chart = tmp_path / "probe"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: probe\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("greeting: hello\n")
    (chart / "templates" / "configmap.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\n"
        "data:\n  greeting: {{ .Values.greeting | quote }}\n"
    )
    namespace = f"h-{uuid.uuid4().hex[:10]}"
    common = ["--kubeconfig", str(apiserver.admin_kubeconfig), "-n", namespace]

    def helm_run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(helm), *args, *common], capture_output=True, text=True, timeout=60, check=True
        )

    helm_run("install", "probe", str(chart), "--create-namespace")
    helm_run("upgrade", "probe", str(chart), "--set", "greeting=salaam")
    releases = json.loads(helm_run("list", "-o", "json").stdout)
    assert [(r["name"], r["revision"], r["status"]) for r in releases] == [
        ("probe", "2", "deployed")
    ]
    stored = k8s.CoreV1Api(kube_admin).read_namespaced_config_map("probe-settings", namespace)
    assert stored.data == {"greeting": "salaam"}
