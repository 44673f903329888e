"""The node's daemons: their command lines, and starting and stopping them by pid file.

Each daemon is started by the ``souk-cluster`` process after it entered the node's network
namespace, so it inherits that namespace (and the host's mount namespace, which containerd and
the kubelet must share for volumes). Output goes to ``.souk/cluster/logs/<daemon>.log``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from souk_devstack.cluster.layout import (
    APISERVER_PORT,
    CLUSTER_CIDR,
    ETCD_URL,
    NODE_IP,
    NODE_NAME,
    SERVICE_CIDR,
    NodeLayout,
)
from souk_devstack.cluster.pki import NodePki


class NodeError(RuntimeError):
    """A step of the node failed; the message is one line that names it."""


@dataclass(frozen=True)
class Daemon:
    """One long-running process of the node."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)


def _require(path: str) -> str:
    found = shutil.which(path) or (path if Path(path).is_file() else None)
    if found is None:
        raise NodeError(f"{path} is not installed: run `make cluster-setup`")
    return found


def daemons(layout: NodeLayout, pki: NodePki) -> list[Daemon]:
    """Return every daemon of the node in start order."""
    config = layout.config
    p = pki.path
    api_flags = [
        f"--etcd-servers={ETCD_URL}",
        "--bind-address=0.0.0.0",
        f"--advertise-address={NODE_IP}",
        f"--secure-port={APISERVER_PORT}",
        "--insecure-port=0",
        f"--cert-dir={layout.pki}",
        f"--tls-cert-file={p('apiserver.crt')}",
        f"--tls-private-key-file={p('apiserver.key')}",
        f"--client-ca-file={p('ca.crt')}",
        f"--kubelet-client-certificate={p('apiserver-kubelet-client.crt')}",
        f"--kubelet-client-key={p('apiserver-kubelet-client.key')}",
        # Without it exec/logs dial the node by a name nothing resolves.
        "--kubelet-preferred-address-types=InternalIP,Hostname",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={p('sa.pub')}",
        f"--service-account-signing-key-file={p('sa.key')}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--allow-privileged=true",
        "--profiling=false",
        "--v=1",
    ]
    return [
        Daemon(
            "etcd",
            [
                _require("etcd"),
                "--name=souk-node",
                f"--data-dir={layout.root / 'etcd'}",
                f"--listen-client-urls={ETCD_URL}",
                f"--advertise-client-urls={ETCD_URL}",
                "--listen-peer-urls=http://127.0.0.1:2380",
                "--initial-advertise-peer-urls=http://127.0.0.1:2380",
                "--initial-cluster=souk-node=http://127.0.0.1:2380",
                "--logger=zap",
                "--log-level=warn",
            ],
        ),
        Daemon("kube-apiserver", [str(layout.kube_binary("kube-apiserver")), *api_flags]),
        Daemon(
            "containerd",
            [_require("containerd"), f"--config={config / 'containerd.toml'}"],
            # The shims find runc and the CNI plugins on PATH.
            {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
        ),
        Daemon(
            "kube-controller-manager",
            [
                str(layout.kube_binary("kube-controller-manager")),
                f"--kubeconfig={config / 'controller-manager.kubeconfig'}",
                f"--authentication-kubeconfig={config / 'controller-manager.kubeconfig'}",
                f"--authorization-kubeconfig={config / 'controller-manager.kubeconfig'}",
                f"--service-account-private-key-file={p('sa.key')}",
                f"--root-ca-file={p('ca.crt')}",
                "--use-service-account-credentials=true",
                f"--cluster-cidr={CLUSTER_CIDR}",
                "--allocate-node-cidrs=false",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                "--port=0",
                "--v=1",
            ],
        ),
        Daemon(
            "kube-scheduler",
            [
                str(layout.kube_binary("kube-scheduler")),
                f"--kubeconfig={config / 'scheduler.kubeconfig'}",
                f"--authentication-kubeconfig={config / 'scheduler.kubeconfig'}",
                f"--authorization-kubeconfig={config / 'scheduler.kubeconfig'}",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                "--port=0",
                "--v=1",
            ],
        ),
        Daemon(
            "kubelet",
            [
                str(layout.kube_binary("kubelet")),
                f"--config={config / 'kubelet.json'}",
                f"--kubeconfig={config / 'kubelet.kubeconfig'}",
                "--container-runtime=remote",
                f"--container-runtime-endpoint=unix://{layout.containerd_socket}",
                f"--root-dir={layout.kubelet_root}",
                f"--cert-dir={layout.root / 'kubelet-pki'}",
                f"--hostname-override={NODE_NAME}",
                f"--node-ip={NODE_IP}",
                # CAP_SYS_RESOURCE is missing: no negative OOM scores, no swap check.
                "--oom-score-adj=0",
                "--fail-swap-on=false",
                "--v=1",
            ],
            {
                "AWS_EC2_METADATA_DISABLED": "true",
                "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            },
        ),
        Daemon(
            "kube-proxy",
            [
                str(layout.kube_binary("kube-proxy")),
                f"--kubeconfig={config / 'kube-proxy.kubeconfig'}",
                f"--hostname-override={NODE_NAME}",
                "--proxy-mode=iptables",
                f"--cluster-cidr={CLUSTER_CIDR}",
                "--conntrack-max-per-core=0",
                "--conntrack-tcp-timeout-established=0",
                "--conntrack-tcp-timeout-close-wait=0",
                # An EndpointSlice once stayed not-ready after its pod was Ready.
                "--feature-gates=EndpointSliceProxying=false",
                "--oom-score-adj=0",
                "--healthz-bind-address=127.0.0.1:10256",
                "--metrics-bind-address=127.0.0.1:10249",
                "--v=1",
            ],
        ),
        Daemon(
            "dnsmasq",
            [
                _require("/usr/sbin/dnsmasq"),
                "--keep-in-foreground",
                "--log-facility=-",
                f"--listen-address={NODE_IP}",
                "--bind-interfaces",
                "--no-resolv",
                "--no-hosts",
                f"--addn-hosts={layout.dns_hosts}",
                # No upstream exists: every other name is NXDOMAIN at once, so a resolver
                # walks its search list instead of failing with "temporary failure".
                "--local=/#/",
                "--no-negcache",
                "--local-ttl=1",
                "--user=root",
                "--pid-file=",
            ],
        ),
    ]


def pid_file(layout: NodeLayout, name: str) -> Path:
    """Return the pid file of a daemon (or of ``agent``)."""
    return layout.pids / f"{name}.pid"


def running_pid(layout: NodeLayout, name: str) -> int | None:
    """Return the daemon's pid when it is alive, else None."""
    path = pid_file(layout, name)
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return None
    return None if state == "Z" else pid


def start(layout: NodeLayout, daemon: Daemon) -> int:
    """Start a daemon unless it already runs; return its pid."""
    pid = running_pid(layout, daemon.name)
    if pid is not None:
        return pid
    layout.logs.mkdir(parents=True, exist_ok=True)
    layout.pids.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **daemon.env}
    with (layout.logs / f"{daemon.name}.log").open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - argv built above from fixed paths
            list(daemon.argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    pid_file(layout, daemon.name).write_text(f"{process.pid}\n")
    return process.pid


def last_lines(layout: NodeLayout, name: str, count: int = 5) -> str:
    """Return the last lines of a daemon's log, joined with `` | ``."""
    try:
        lines = (layout.logs / f"{name}.log").read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(line.strip()[:300] for line in lines[-count:])


def stop(layout: NodeLayout, name: str, grace: float = 10.0) -> None:
    """SIGTERM a daemon, SIGKILL it after ``grace`` seconds, and remove its pid file."""
    pid = running_pid(layout, name)
    if pid is not None:
        _terminate([pid], grace)
    pid_file(layout, name).unlink(missing_ok=True)


def _terminate(pids: Sequence[int], grace: float) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [pid for pid in alive if _alive(pid)]
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in alive:
        for _ in range(50):
            if not _alive(pid):
                break
            time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return False
    if state == "Z":
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return False
    return True


def kill_all(pids: Sequence[int], grace: float = 5.0) -> None:
    """Terminate a set of processes (SIGTERM, then SIGKILL after ``grace``)."""
    _terminate(pids, grace)
