"""The node's configuration files: containerd, CNI, kubelet, kubeconfigs and resolv.conf.

Written fresh on every ``up`` from :class:`NodeLayout`, so a changed setting never lingers.
The settings that this machine needs (and why) are listed in docs/kubernetes-dev.md.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from souk_devstack.cluster.layout import (
    APISERVER_PORT,
    CLUSTER_DOMAIN,
    NODE_IP,
    POD_SUBNET,
    NodeLayout,
)
from souk_devstack.cluster.pki import NodePki

PAUSE_IMAGE = "docker.io/library/souk-pause:local"


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def kubeconfig(pki: NodePki, identity: str, server: str) -> str:
    """Return a kubeconfig (JSON, which is YAML) for one client identity of :mod:`pki`."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "souk-node",
                    "cluster": {
                        "server": server,
                        "certificate-authority-data": _b64(pki.path("ca.crt")),
                    },
                }
            ],
            "users": [
                {
                    "name": identity,
                    "user": {
                        "client-certificate-data": _b64(pki.path(f"{identity}.crt")),
                        "client-key-data": _b64(pki.path(f"{identity}.key")),
                    },
                }
            ],
            "contexts": [
                {"name": "souk-node", "context": {"cluster": "souk-node", "user": identity}}
            ],
            "current-context": "souk-node",
        },
        indent=2,
    )


def containerd_config(layout: NodeLayout) -> str:
    """Return containerd's config: own root, state and socket; the CRI plugin set up for this node.

    ``restrict_oom_score_adj``: the machine lacks CAP_SYS_RESOURCE, so a sandbox's -998 fails.
    ``sandbox_image``: the pause image built here (no registry to pull one from).
    ``netns_mounts_under_state_dir``: pod network namespaces are the node's to remove.
    """
    cni = layout.config / "cni"
    return f"""version = 2
root = "{layout.root / "containerd"}"
state = "{layout.run / "containerd" / "state"}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.internal.v1.tracing"]

[grpc]
  address = "{layout.containerd_socket}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  # Pod network namespaces under our state dir, not /run/netns: `down` unmounts them with the
  # rest, so no cni-* namespace outlives the node (they did before, one set per run).
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{cni}"

[plugins."io.containerd.internal.v1.opt"]
  path = "{layout.root / "opt"}"
"""


def cni_config(layout: NodeLayout) -> str:
    """A bridge network for the pods: cni0, host-local addresses, no masquerade, hairpin on."""
    return json.dumps(
        {
            "cniVersion": "0.4.0",
            "name": "souk-pods",
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": "cni0",
                    "isGateway": True,
                    "ipMasq": False,
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": POD_SUBNET}]],
                        "routes": [{"dst": "0.0.0.0/0"}],
                        "dataDir": str(layout.root / "cni" / "ipam"),
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
            ],
        },
        indent=2,
    )


def kubelet_config(layout: NodeLayout, pki: NodePki) -> str:
    """The KubeletConfiguration: cgroupfs under one parent cgroup, cluster DNS, no image GC."""
    return json.dumps(
        {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "authentication": {
                "anonymous": {"enabled": False},
                "webhook": {"enabled": True},
                "x509": {"clientCAFile": str(pki.path("ca.crt"))},
            },
            "authorization": {"mode": "Webhook"},
            "cgroupDriver": "cgroupfs",
            "cgroupRoot": layout.cgroup_parent,
            "clusterDNS": [NODE_IP],
            "clusterDomain": CLUSTER_DOMAIN,
            "resolvConf": str(layout.config / "resolv.conf"),
            "failSwapOn": False,
            "oomScoreAdj": 0,
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            "evictionHard": {
                "memory.available": "100Mi",
                "nodefs.available": "1%",
                "imagefs.available": "1%",
            },
            "nodeStatusUpdateFrequency": "4s",
            "serializeImagePulls": False,
            "tlsCertFile": str(pki.path("kubelet-serving.crt")),
            "tlsPrivateKeyFile": str(pki.path("kubelet-serving.key")),
            "healthzBindAddress": "127.0.0.1",
            "healthzPort": 10248,
            "maxPods": 60,
        },
        indent=2,
    )


def write_all(layout: NodeLayout, pki: NodePki) -> None:
    """Write every configuration file of the node."""
    config = layout.config
    (config / "cni").mkdir(parents=True, exist_ok=True)
    (config / "containerd.toml").write_text(containerd_config(layout))
    (config / "cni" / "10-souk-pods.conflist").write_text(cni_config(layout))
    (config / "kubelet.json").write_text(kubelet_config(layout, pki))
    # Pods with dnsPolicy Default get this; there is no upstream DNS to offer them.
    (config / "resolv.conf").write_text(f"nameserver {NODE_IP}\n")
    inside = f"https://{NODE_IP}:{APISERVER_PORT}"
    for identity in ("controller-manager", "scheduler", "kubelet", "kube-proxy", "agent"):
        path = config / f"{identity}.kubeconfig"
        path.write_text(kubeconfig(pki, identity, inside))
        path.chmod(0o600)
    layout.state.mkdir(parents=True, exist_ok=True)
    host = layout.host_kubeconfig
    host.write_text(kubeconfig(pki, "admin", f"https://127.0.0.1:{layout.api_host_port}"))
    host.chmod(0o600)
    inside_admin = config / "admin.kubeconfig"
    inside_admin.write_text(kubeconfig(pki, "admin", inside))
    inside_admin.chmod(0o600)
