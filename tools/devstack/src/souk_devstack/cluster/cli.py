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
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from souk_devstack.cluster import daemons, node, shop
from souk_devstack.cluster.daemons import NodeError
from souk_devstack.cluster.layout import NodeLayout


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def status(layout: NodeLayout) -> int:
    """Print each daemon's state and memory; return 0 when all run."""
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
