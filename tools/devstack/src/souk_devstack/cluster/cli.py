"""``souk-cluster``: a real single-node Kubernetes on this machine, with the shop installed.

    souk-cluster up            node up, images loaded, operator and shop installed, READY
    souk-cluster up --node-only
    souk-cluster install       (re)install the operator and the shop on a running node
    souk-cluster status        daemons, memory, pods
    souk-cluster diagnostics   pods, events, Marketplace status and logs to a folder
    souk-cluster down          stop everything; nothing is left behind

Needs root (network namespaces, mounts, cgroups). Errors are one line naming the step.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from souk_devstack.cluster import daemons, node, shop
from souk_devstack.cluster.daemons import NodeError
from souk_devstack.cluster.layout import NodeLayout
from souk_devstack.cluster.node import kubectl


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _pod_memory(layout: NodeLayout) -> list[tuple[str, float]]:
    """Return ``(namespace/pod, MiB)`` from each pod's memory cgroup (RSS + active file).

    Like ``kubectl top``'s working set, without a metrics server.
    """
    names: dict[str, str] = {}
    try:
        for pod in json.loads(kubectl(layout, "get", "pods", "-A", "-o", "json"))["items"]:
            meta = pod["metadata"]
            names[meta["uid"]] = f"{meta['namespace']}/{meta['name']}"
    except (NodeError, ValueError):
        return []
    root = Path("/sys/fs/cgroup/memory") / layout.cgroup_parent.strip("/")
    usage = []
    for folder in root.glob("kubepods/**/pod*"):
        uid = folder.name.removeprefix("pod").replace("_", "-")
        if uid in names and (folder / "memory.usage_in_bytes").is_file():
            stat = dict(line.split() for line in (folder / "memory.stat").read_text().splitlines())
            working = int(stat.get("total_rss", 0)) + int(stat.get("total_active_file", 0))
            usage.append((names[uid], working / 2**20))
    return sorted(usage)


def status(layout: NodeLayout) -> int:
    """Print each daemon's and each pod's memory; return 0 when every daemon runs."""
    missing = 0
    total = 0.0
    for name in ["agent", *node.daemons_names()]:
        pid = daemons.running_pid(layout, name)
        if pid is None:
            missing += 1
            print(f"  {name:<24} not running")
            continue
        rss = _rss_mib(pid)
        total += rss
        print(f"  {name:<24} pid {pid:<8} {rss:7.1f} MiB")
    print(f"  {'node total':<24} {'':12} {total:7.1f} MiB")
    pods = _pod_memory(layout) if not missing else []
    for name, mib in pods:
        print(f"  pod {name:<46} {mib:7.1f} MiB")
    if pods:
        print(f"  {'pods total':<24} {'':12} {sum(m for _, m in pods):7.1f} MiB")
    return 1 if missing else 0


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``souk-cluster``."""
    parser = argparse.ArgumentParser(prog="souk-cluster", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="bring the node up and install the shop")
    up.add_argument("--node-only", action="store_true", help="do not install the charts")
    commands.add_parser("install", help="install the operator and the shop")
    commands.add_parser("status", help="daemons and their memory")
    diagnostics = commands.add_parser("diagnostics", help="write pods, events and logs")
    diagnostics.add_argument("folder", nargs="?", default=".souk/cluster/diagnostics")
    commands.add_parser("down", help="stop the node and remove its state")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("souk-cluster: needs root (network namespace, mounts, cgroups)", file=sys.stderr)
        sys.exit(1)
    layout = NodeLayout.from_environment()
    steps = node.Steps()
    try:
        if args.command == "up":
            node.up(layout, steps)
            if not args.node_only:
                shop.install(layout, steps)
            print(f"[cluster {sum(steps.durations.values()):6.1f}s] up: kubectl "
                  f"--kubeconfig {layout.host_kubeconfig} get pods -A; endpoints in "
                  f"{layout.endpoints_file}")  # fmt: skip
        elif args.command == "install":
            shop.install(layout, steps)
        elif args.command == "status":
            sys.exit(status(layout))
        elif args.command == "diagnostics":
            shop.write_diagnostics(layout, Path(args.folder))
            print(f"diagnostics in {args.folder}")
        elif args.command == "down":
            node.down(layout, steps)
            left = node.leftovers(layout)
            if left:
                print(f"souk-cluster: left behind: {', '.join(left)}", file=sys.stderr)
                sys.exit(1)
    except (NodeError, FileNotFoundError, OSError) as error:
        print(f"souk-cluster: {error}", file=sys.stderr)
        sys.exit(1)
