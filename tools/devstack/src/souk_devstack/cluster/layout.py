"""Where the node lives: names, addresses, ports and folders, in one place.

Everything the node writes sits under :attr:`NodeLayout.root` (default ``/var/lib/souk-node``,
outside the checkout because it holds mounts and the containerd image store) and
:attr:`NodeLayout.run` (sockets and pid files); what a user needs from the host (the kubeconfig,
``endpoints.json`` and the logs) sits in the checkout's ``.souk/cluster``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

NETNS = "souk-node"
NODE_NAME = "souk-node"
NODE_IP = "10.250.0.1"
NODE_PREFIX = 24
POD_SUBNET = "10.244.0.0/24"
CLUSTER_CIDR = "10.244.0.0/16"
SERVICE_CIDR = "10.96.0.0/16"
KUBERNETES_SERVICE_IP = "10.96.0.1"
CLUSTER_DOMAIN = "cluster.local"
APISERVER_PORT = 6443
ETCD_URL = "http://127.0.0.1:2379"
SHOP_SERVICES = ("auth", "catalog", "orders", "payments", "notifications")
# The control plane and node daemons, in start order (dnsmasq and the agent are extra).
DAEMONS = (
    "etcd",
    "kube-apiserver",
    "containerd",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
    "dnsmasq",
)


def _repo_root() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "charts").is_dir() and (parent / "pyproject.toml").is_file():
            return parent
    return Path.cwd()


@dataclass(frozen=True)
class NodeLayout:
    """Paths and host ports of one node; every field can be moved by an environment variable."""

    repo: Path
    root: Path
    run: Path
    state: Path
    kube_cache: Path
    image_cache: Path
    api_host_port: int
    service_host_ports: dict[str, int]

    @classmethod
    def from_environment(cls) -> NodeLayout:
        """Read ``SOUK_NODE_ROOT``, ``SOUK_NODE_RUN``, ``SOUK_CLUSTER_STATE`` and friends."""
        repo = Path(os.environ.get("SOUK_REPO", _repo_root()))
        base = int(os.environ.get("SOUK_CLUSTER_PORT_BASE", "18000"))
        return cls(
            repo=repo,
            root=Path(os.environ.get("SOUK_NODE_ROOT", "/var/lib/souk-node")),
            run=Path(os.environ.get("SOUK_NODE_RUN", "/run/souk-node")),
            state=Path(os.environ.get("SOUK_CLUSTER_STATE", repo / ".souk" / "cluster")),
            kube_cache=Path(
                os.environ.get("SOUK_ENVTEST_CACHE", Path.home() / ".cache" / "souk-envtest")
            ),
            image_cache=Path(
                os.environ.get("SOUK_IMAGE_CACHE", Path.home() / ".cache" / "souk-images")
            ),
            api_host_port=base + 443,
            service_host_ports={name: base + 1 + i for i, name in enumerate(SHOP_SERVICES)},
        )

    # --- folders -------------------------------------------------------------------------
    @property
    def pki(self) -> Path:
        """Certificates and keys of the node's components (0600 keys)."""
        return self.root / "pki"

    @property
    def config(self) -> Path:
        """Generated configuration files (containerd, kubelet, CNI, kubeconfigs)."""
        return self.root / "config"

    @property
    def logs(self) -> Path:
        """One log file per daemon, in the checkout so diagnostics find them."""
        return self.state / "logs"

    @property
    def pids(self) -> Path:
        """One pid file per daemon."""
        return self.run / "pids"

    @property
    def containerd_socket(self) -> Path:
        """The CRI socket the kubelet talks to."""
        return self.run / "containerd" / "containerd.sock"

    @property
    def kubelet_root(self) -> Path:
        """The kubelet's root dir (pod volumes are mounted below it)."""
        return self.root / "kubelet"

    @property
    def volumes(self) -> Path:
        """Host folders behind the node's pre-made PersistentVolumes."""
        return self.root / "volumes"

    @property
    def dns_hosts(self) -> Path:
        """The records dnsmasq serves: one ``IP name...`` line per Service or endpoint."""
        return self.root / "dns" / "hosts"

    @property
    def host_kubeconfig(self) -> Path:
        """The kubeconfig for ``kubectl`` on the host (API through the agent's forward)."""
        return self.state / "kubeconfig"

    @property
    def endpoints_file(self) -> Path:
        """``{service: base URL on 127.0.0.1}`` of the installed shop."""
        return self.state / "endpoints.json"

    @property
    def netns_path(self) -> Path:
        """The bind-mounted network namespace every node process enters."""
        return Path("/run/netns") / NETNS

    @property
    def cgroup_parent(self) -> str:
        """The cgroup the kubelet puts every pod under, so teardown finds them all."""
        return "/souk-node"

    # --- binaries ------------------------------------------------------------------------
    def kube_binary(self, name: str) -> Path:
        """Return the newest cached build of a Kubernetes binary (scripts/build-kubernetes.sh)."""
        versions = sorted(
            (p for p in self.kube_cache.glob("v*/" + name) if os.access(p, os.X_OK)),
            key=lambda p: tuple(int(x) for x in p.parent.name[1:].split(".") if x.isdigit()),
        )
        if not versions:
            raise FileNotFoundError(f"{name} is not built: run scripts/build-kubernetes.sh")
        return versions[-1]

    def tool(self, name: str) -> Path:
        """Return kubectl or helm from the envtest cache."""
        path = self.kube_cache / "bin" / name
        if not path.is_file():
            raise FileNotFoundError(f"{name} is missing: run scripts/build-kubernetes.sh")
        return path
