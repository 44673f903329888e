"""The node agent: cluster DNS records and the host's ports into the node.

Started by ``souk-cluster up`` in the host's network namespace, it binds its listeners on the
host's 127.0.0.1 first and then enters the node's namespace, so it can serve the host and
reach ClusterIPs at once, without a single route or rule on the host:

* 127.0.0.1:<api port> -> the API server (``.souk/cluster/kubeconfig`` points there);
* 127.0.0.1:<service port> -> the shop's Service of that name (``endpoints.json``);
* every second it lists Services and Endpoints and rewrites the hosts file dnsmasq serves
  (``<svc>.<ns>.svc.cluster.local``, and ``<pod>.<svc>.<ns>...`` for headless Services),
  sending dnsmasq SIGHUP when it changed.

Read-only: its identity is bound to the bootstrap ClusterRole ``system:kube-dns``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Mapping
from typing import Any

import httpx

from souk_devstack.cluster import netns
from souk_devstack.cluster.daemons import running_pid
from souk_devstack.cluster.layout import (
    APISERVER_PORT,
    CLUSTER_DOMAIN,
    NODE_IP,
    NodeLayout,
)
from souk_devstack.cluster.pki import NodePki

SHOP_NAMESPACE = os.environ.get("SOUK_CLUSTER_SHOP_NAMESPACE", "shop")
SHOP_RELEASE = os.environ.get("SOUK_CLUSTER_SHOP_RELEASE", "shop")


def hosts_lines(services: Mapping[str, Any], endpoints: Mapping[str, Any]) -> list[str]:
    """Return the dnsmasq hosts lines for a Service list and an Endpoints list."""
    lines: list[str] = []
    headless: set[tuple[str, str]] = set()
    for item in services.get("items", []):
        meta, spec = item["metadata"], item.get("spec", {})
        fqdn = f"{meta['name']}.{meta['namespace']}.svc.{CLUSTER_DOMAIN}"
        ip = spec.get("clusterIP")
        if ip and ip != "None":
            lines.append(f"{ip} {fqdn}")
        elif ip == "None":
            headless.add((meta["namespace"], meta["name"]))
    for item in endpoints.get("items", []):
        meta = item["metadata"]
        key = (meta["namespace"], meta["name"])
        if key not in headless:
            continue
        fqdn = f"{meta['name']}.{meta['namespace']}.svc.{CLUSTER_DOMAIN}"
        for subset in item.get("subsets") or []:
            for address in subset.get("addresses") or []:
                lines.append(f"{address['ip']} {fqdn}")
                if address.get("hostname"):
                    lines.append(f"{address['ip']} {address['hostname']}.{fqdn}")
    return sorted(set(lines))


class Agent:
    """DNS sync and port forwards of one node."""

    def __init__(self, layout: NodeLayout) -> None:
        self.layout = layout
        self.cluster_ips: dict[tuple[str, str], str] = {}
        self._written = ""

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=f"https://{NODE_IP}:{APISERVER_PORT}",
            verify=NodePki(self.layout.pki).client_context("agent"),
            timeout=5,
        )

    async def sync_forever(self) -> None:
        """List Services and Endpoints every second; rewrite the DNS records on change."""
        last_error = ""
        async with self._client() as client:
            while True:
                try:
                    services = (await client.get("/api/v1/services")).raise_for_status().json()
                    endpoints = (await client.get("/api/v1/endpoints")).raise_for_status().json()
                    self.cluster_ips = {
                        (i["metadata"]["namespace"], i["metadata"]["name"]): i["spec"]["clusterIP"]
                        for i in services.get("items", [])
                        if i.get("spec", {}).get("clusterIP") not in (None, "None")
                    }
                    self._write_hosts("\n".join(hosts_lines(services, endpoints)) + "\n")
                    last_error = ""
                except (httpx.HTTPError, KeyError, ValueError, OSError) as error:
                    if repr(error) != last_error:  # the API server may not be up yet
                        print(f"souk-cluster agent: sync failed: {error!r}", flush=True)
                        last_error = repr(error)
                await asyncio.sleep(1)

    def _write_hosts(self, content: str) -> None:
        if content == self._written:
            return
        path = self.layout.dns_hosts
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(content)
        temporary.replace(path)
        self._written = content
        pid = running_pid(self.layout, "dnsmasq")
        if pid is not None:
            os.kill(pid, signal.SIGHUP)

    async def forward(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: str
    ) -> None:
        """Pipe one host connection to ``target`` (``api`` or a shop service name)."""
        if target == "api":
            host, port = NODE_IP, APISERVER_PORT
        else:
            ip = self.cluster_ips.get((SHOP_NAMESPACE, f"{SHOP_RELEASE}-{target}"))
            if ip is None:
                writer.close()
                return
            host, port = ip, 80
        try:
            up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(256)
    sock.setblocking(False)
    return sock


async def _serve(layout: NodeLayout, listeners: dict[str, socket.socket]) -> None:
    agent = Agent(layout)
    servers = []
    for target, sock in listeners.items():

        async def handle(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: str = target
        ) -> None:
            await agent.forward(reader, writer, target)

        servers.append(await asyncio.start_server(handle, sock=sock))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    sync = asyncio.create_task(agent.sync_forever())
    await stop.wait()
    sync.cancel()
    for server in servers:
        server.close()


def main() -> None:
    """Bind the host listeners, enter the node's namespace, then serve until SIGTERM."""
    layout = NodeLayout.from_environment()
    try:
        listeners = {"api": _listen(layout.api_host_port)}
        for name, port in layout.service_host_ports.items():
            listeners[name] = _listen(port)
    except OSError as error:
        print(f"souk-cluster agent: cannot listen on 127.0.0.1: {error}", file=sys.stderr)
        sys.exit(1)
    netns.enter()
    asyncio.run(_serve(layout, listeners))


if __name__ == "__main__":
    main()
