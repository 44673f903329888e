"""The node's network namespace: created with ``ip netns``, entered with setns(2).

The node's NIC is a veth pair whose both ends live inside the namespace (the kernel here has no
``dummy`` driver), so nothing is added to the host's network; forwarding and
bridge-netfilter are switched on inside the namespace only.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from souk_devstack.cluster.layout import NETNS, NODE_IP, NODE_PREFIX

_CLONE_NEWNET = 0x40000000


class NetnsError(RuntimeError):
    """Creating or entering the namespace failed."""


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603 - fixed argv
        ["/usr/sbin/ip" if Path("/usr/sbin/ip").exists() else "/sbin/ip", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result


def exists() -> bool:
    """Tell whether the namespace is there."""
    return (Path("/run/netns") / NETNS).exists()


def create() -> None:
    """Create the namespace with its veth NIC, loopback and sysctls (idempotent)."""
    if not exists():
        _ip("netns", "add", NETNS)
    links = _ip("-n", NETNS, "-o", "link", "show").stdout
    if " eth0@" not in links:
        _ip("-n", NETNS, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0-peer")
    addresses = _ip("-n", NETNS, "-o", "addr", "show", "dev", "eth0").stdout
    if f"{NODE_IP}/" not in addresses:
        _ip("-n", NETNS, "addr", "add", f"{NODE_IP}/{NODE_PREFIX}", "dev", "eth0")
    for link in ("lo", "eth0", "eth0-peer"):
        _ip("-n", NETNS, "link", "set", link, "up")
    if "default" not in _ip("-n", NETNS, "route", "show").stdout:
        _ip("-n", NETNS, "route", "add", "default", "dev", "eth0")
    for key, value in (
        ("net.ipv4.ip_forward", "1"),
        ("net.bridge.bridge-nf-call-iptables", "1"),
        ("net.ipv4.conf.all.route_localnet", "1"),
    ):
        _ip("netns", "exec", NETNS, "sysctl", "-q", "-w", f"{key}={value}")


def delete() -> None:
    """Delete the namespace (and with it its links, routes and iptables rules)."""
    if exists():
        _ip("netns", "delete", NETNS)


def _setns(path: str | Path) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, _CLONE_NEWNET) != 0:
            raise NetnsError(f"setns({path}): {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)


def enter() -> None:
    """Move the calling thread (and the children it starts) into the namespace for good."""
    _setns(Path("/run/netns") / NETNS)


@contextlib.contextmanager
def inside() -> Iterator[None]:
    """Run a block in the namespace (children started in it stay there), then come back."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        _setns(Path("/run/netns") / NETNS)
        try:
            yield
        finally:
            _setns(f"/proc/self/fd/{home}")
    finally:
        os.close(home)
