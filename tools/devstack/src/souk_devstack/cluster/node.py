"""Bringing the node up and tearing it down, one timed line per step.

``up`` is idempotent: a running daemon is left alone, a missing one is started. ``down``
leaves nothing behind — no process, mount, cgroup or namespace — and :func:`leftovers`
says what would remain, for the test that proves it.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from souk_devstack.cluster import configs, daemons, netns
from souk_devstack.cluster.daemons import Daemon, NodeError
from souk_devstack.cluster.layout import (
    APISERVER_PORT,
    DAEMONS,
    NETNS,
    NODE_IP,
    NODE_NAME,
    NodeLayout,
)
from souk_devstack.cluster.pki import NodePki

CGROUP_ROOT = Path("/sys/fs/cgroup")
_MNT_DETACH = 2


class Steps:
    """Prints ``[cluster  12.3s] step`` lines and keeps each step's duration."""

    def __init__(self, prefix: str = "cluster") -> None:
        self.prefix = prefix
        self.start = time.monotonic()
        self.durations: dict[str, float] = {}

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time one step and print it when it starts and how long it took."""
        began = time.monotonic()
        print(f"[{self.prefix} {began - self.start:6.1f}s] {name}", flush=True)
        yield
        self.durations[name] = time.monotonic() - began


def wait_until(
    what: str,
    check: Callable[[], bool],
    layout: NodeLayout,
    daemon: str | None = None,
    timeout: float = 600.0,
) -> None:
    """Poll ``check`` until true; fail at once if ``daemon`` died, else after ``timeout``.

    The timeout is a backstop for a hung machine: progress is judged by the daemon being
    alive, so a slow (busy) machine waits longer instead of failing.
    """
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            if check():
                return
        if daemon is not None and daemons.running_pid(layout, daemon) is None:
            raise NodeError(f"{daemon} exited while {what}: {daemons.last_lines(layout, daemon)}")
        if time.monotonic() > deadline:
            last = daemons.last_lines(layout, daemon) if daemon else ""
            raise NodeError(f"timed out after {timeout:.0f}s {what}{': ' + last if last else ''}")
        time.sleep(0.25)


def _http_ok(url: str, pki: NodePki | None = None) -> bool:
    verify = pki.client_context("admin") if pki is not None else True
    return httpx.get(url, timeout=2, verify=verify).status_code == 200


def kubectl(layout: NodeLayout, *args: str, stdin: str | None = None) -> str:
    """Run kubectl with the host kubeconfig; return stdout or raise NodeError."""
    result = subprocess.run(  # noqa: S603 - fixed tool path
        [str(layout.tool("kubectl")), f"--kubeconfig={layout.host_kubeconfig}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise NodeError(f"kubectl {' '.join(args)}: {result.stderr.strip()[:400]}")
    return result.stdout


def _prepare_cgroups(layout: NodeLayout) -> None:
    """Create the kubelet's parent cgroup in every hierarchy (cpuset needs cpus and mems)."""
    for hierarchy in _hierarchies():
        target = hierarchy / layout.cgroup_parent.strip("/")
        target.mkdir(exist_ok=True)
        if hierarchy.name == "cpuset":
            for knob in ("cpuset.cpus", "cpuset.mems"):
                if not (target / knob).read_text().strip():
                    (target / knob).write_text((hierarchy / knob).read_text())


def _hierarchies() -> list[Path]:
    mounted = {line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()}
    return [p for p in sorted(CGROUP_ROOT.iterdir()) if str(p) in mounted and p.is_dir()]


def _import_images(layout: NodeLayout) -> list[str]:
    archives = sorted((layout.image_cache / "archives").glob("*.tar"))
    if not archives:
        raise NodeError(
            f"no image archives in {layout.image_cache / 'archives'}: run scripts/build-images.sh"
        )
    names = []
    imported = layout.root / "imported"
    imported.mkdir(parents=True, exist_ok=True)
    for archive in archives:
        stamp = archive.with_name(archive.name + ".id")
        seen = imported / stamp.name
        if stamp.is_file() and seen.is_file() and seen.read_text() == stamp.read_text():
            continue  # this very image is in containerd already
        result = subprocess.run(  # noqa: S603 - fixed tool
            [
                shutil.which("ctr") or "/usr/bin/ctr",
                f"--address={layout.containerd_socket}",
                "-n",
                "k8s.io",
                "images",
                "import",
                str(archive),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise NodeError(f"ctr images import {archive.name}: {result.stderr.strip()[:300]}")
        names.append(archive.stem)
        if stamp.is_file():
            seen.write_text(stamp.read_text())
    return names


_BOOTSTRAP = """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: souk-node-agent}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:kube-dns"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: souk-node-agent}]
"""

VOLUME_COUNT = 8


def _persistent_volumes(layout: NodeLayout) -> str:
    """Return hostPath PersistentVolumes for StatefulSets (a bare node has no provisioner)."""
    items = []
    for index in range(VOLUME_COUNT):
        folder = layout.volumes / f"pv{index}"
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o777)  # hostPath ignores fsGroup; the servers run as uid 999
        items.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": f"souk-node-pv{index}", "labels": {"souk.dev/node": "local"}},
                "spec": {
                    "capacity": {"storage": "10Gi"},
                    "accessModes": ["ReadWriteOnce"],
                    "persistentVolumeReclaimPolicy": "Retain",
                    "storageClassName": "",
                    "hostPath": {"path": str(folder), "type": "Directory"},
                },
            }
        )
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})


def _start_agent(layout: NodeLayout) -> None:
    agent = Daemon("agent", [sys.executable, "-m", "souk_devstack.cluster.agent"])
    daemons.start(layout, agent)


def up(layout: NodeLayout, steps: Steps) -> None:
    """Bring the node up (idempotent) and leave it Ready with the images loaded."""
    with steps.step("checking the binaries"):
        for name in ("kube-apiserver", "kubelet", "kube-proxy", "kube-scheduler"):
            layout.kube_binary(name)
        layout.tool("kubectl")
        for tool in ("containerd", "runc", "ctr", "iptables", "etcd"):
            if shutil.which(tool) is None:
                raise NodeError(f"{tool} is not installed: run `make cluster-setup`")
    with steps.step(f"network namespace {NETNS} ({NODE_IP})"):
        netns.create()
    pki = NodePki(layout.pki)
    with steps.step("certificates and configuration"):
        for folder in (layout.root, layout.run, layout.state):
            folder.mkdir(parents=True, exist_ok=True)
        pki.ensure()
        configs.write_all(layout, pki)
        layout.dns_hosts.parent.mkdir(parents=True, exist_ok=True)
        if not layout.dns_hosts.exists():
            layout.dns_hosts.write_text("")
        _prepare_cgroups(layout)
    with steps.step("node agent (host ports, cluster DNS records)"):
        _start_agent(layout)
    by_name = {d.name: d for d in daemons.daemons(layout, pki)}
    with netns.inside():
        with steps.step("etcd"):
            daemons.start(layout, by_name["etcd"])
            wait_until("starting", lambda: _http_ok("http://127.0.0.1:2379/health"), layout,
                       "etcd")  # fmt: skip
        with steps.step("kube-apiserver"):
            daemons.start(layout, by_name["kube-apiserver"])
            readyz = f"https://{NODE_IP}:{APISERVER_PORT}/readyz"
            wait_until("starting", lambda: _http_ok(readyz, pki), layout, "kube-apiserver")
        with steps.step("containerd"):
            daemons.start(layout, by_name["containerd"])
            wait_until("starting", layout.containerd_socket.exists, layout, "containerd")
    with steps.step("importing images into containerd"):
        names = _import_images(layout)
        print(f"               {', '.join(names) or 'all current already'}", flush=True)
    with netns.inside():
        with steps.step("controller-manager, scheduler, kubelet, kube-proxy, dnsmasq"):
            for name in ("kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy",
                         "dnsmasq"):  # fmt: skip
                daemons.start(layout, by_name[name])
        with steps.step(f"node {NODE_NAME} Ready"):
            kubelet_health = "http://127.0.0.1:10248/healthz"
            wait_until("waiting for the kubelet", lambda: _http_ok(kubelet_health), layout,
                       "kubelet")  # fmt: skip
            proxy_health = "http://127.0.0.1:10256/healthz"
            wait_until("waiting for kube-proxy", lambda: _http_ok(proxy_health), layout,
                       "kube-proxy")  # fmt: skip
    with steps.step("API through the agent; RBAC and volumes"):
        _settle(layout)


def _jsonpath(layout: NodeLayout, kind: str, name: str, path: str) -> str:
    return kubectl(layout, "get", kind, name, "-o", f"jsonpath={path}")


def _settle(layout: NodeLayout) -> None:
    """Bind the agent's role, add the volumes, wait for the node and the default SA."""
    readyz = ("get", "--raw=/readyz")
    wait_until("waiting for the agent's API port", lambda: bool(kubectl(layout, *readyz)),
               layout, "agent")  # fmt: skip
    kubectl(layout, "apply", "-f", "-", stdin=_BOOTSTRAP)
    kubectl(layout, "apply", "-f", "-", stdin=_persistent_volumes(layout))
    ready = "{.status.conditions[?(@.type=='Ready')].status}"
    node_ready = lambda: _jsonpath(layout, "node", NODE_NAME, ready) == "True"  # noqa: E731
    wait_until("waiting for the node to be Ready", node_ready, layout, "kubelet")
    wait_until("waiting for the default ServiceAccount",
               lambda: bool(_jsonpath(layout, "serviceaccount", "default", "{.metadata.name}")),
               layout, "kube-controller-manager")  # fmt: skip


# --- teardown ---------------------------------------------------------------------------------
def _netns_inode() -> int | None:
    try:
        return os.stat(Path("/run/netns") / NETNS).st_ino
    except OSError:
        return None


def _node_processes(layout: NodeLayout) -> list[int]:
    """Every process in the node's namespace or cgroups, or a shim of its containerd."""
    inode = _netns_inode()
    pids: set[int] = set()
    socket = str(layout.containerd_socket)
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        pid = int(entry.name)
        with contextlib.suppress(OSError):
            if inode is not None and os.stat(entry / "ns" / "net").st_ino == inode:
                pids.add(pid)
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if socket in cmdline or str(layout.root) in cmdline:
                pids.add(pid)
    for procs in _cgroup_dirs(layout):
        with contextlib.suppress(OSError):
            pids.update(int(p) for p in (procs / "cgroup.procs").read_text().split())
    pids.discard(me)
    return sorted(pids)


def _cgroup_dirs(layout: NodeLayout) -> list[Path]:
    found: list[Path] = []
    for hierarchy in _hierarchies():
        top = hierarchy / layout.cgroup_parent.strip("/")
        if top.is_dir():
            found += [Path(root) for root, _, _ in os.walk(top)]
    return found


def _node_mounts(layout: NodeLayout) -> list[str]:
    prefixes = (str(layout.root) + "/", str(layout.run) + "/", "/run/netns/" + NETNS)
    mounts = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point.startswith(prefixes) or point in (str(layout.root), str(layout.run)):
            mounts.append(point)
    return mounts


def leftovers(layout: NodeLayout) -> list[str]:
    """Describe every process, mount, cgroup and namespace of the node still present."""
    found = [f"process {pid}" for pid in _node_processes(layout)]
    found += [f"mount {m}" for m in _node_mounts(layout) if not m.startswith("/run/netns/")]
    found += [f"cgroup {c}" for c in _cgroup_dirs(layout)]
    if netns.exists():
        found.append(f"network namespace {NETNS}")
    # Pod network namespaces live under the node's state dir (containerd's
    # netns_mounts_under_state_dir); any in /run/netns would be a containerd left loose.
    found += [f"network namespace {p.name}" for p in sorted(Path("/run/netns").glob("cni-*"))]
    return found


def down(layout: NodeLayout, steps: Steps) -> None:
    """Stop everything of the node and remove its state; idempotent."""
    with steps.step("stopping the agent, kubelet and kube-proxy"):
        for name in ("agent", "kubelet", "kube-proxy"):
            daemons.stop(layout, name)
    with steps.step("stopping every pod process and containerd shim"):
        for _ in range(3):
            pids = _node_processes(layout)
            pids = [p for p in pids if daemons.running_pid(layout, "containerd") != p]
            if not pids:
                break
            daemons.kill_all(pids, grace=3)
    with steps.step("stopping the control plane, containerd and dnsmasq"):
        for name in reversed(daemons_names()):
            daemons.stop(layout, name)
        daemons.kill_all(_node_processes(layout), grace=3)
    with steps.step("unmounting"):
        libc = ctypes.CDLL(None, use_errno=True)
        for _ in range(3):
            mounts = [m for m in _node_mounts(layout) if not m.startswith("/run/netns/")]
            if not mounts:
                break
            for point in sorted(mounts, key=len, reverse=True):
                libc.umount2(point.encode(), _MNT_DETACH)
    with steps.step("removing cgroups"):
        for _ in range(20):
            remaining = _cgroup_dirs(layout)
            if not remaining:
                break
            for folder in sorted(remaining, key=lambda p: len(p.parts), reverse=True):
                with contextlib.suppress(OSError):
                    folder.rmdir()
            time.sleep(0.1)
    with steps.step(f"deleting network namespace {NETNS}"):
        netns.delete()
    with steps.step("removing node state"):
        for folder in (layout.root, layout.run):
            shutil.rmtree(folder, ignore_errors=True)
        layout.endpoints_file.unlink(missing_ok=True)


def daemons_names() -> list[str]:
    """The daemon names in start order (the agent is not one of them)."""
    return list(DAEMONS)
