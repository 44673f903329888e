"""The operator process: logging, metrics, leader election, then kopf.

``python -m souk_operator`` (or ``souk-operator``) configures JSON logs, serves Prometheus
metrics, waits to become leader (a Lease), then runs kopf with its liveness endpoint until
SIGTERM, or until the Lease is lost (it exits non-zero so the pod restarts as a follower).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

import kopf
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from prometheus_client import start_http_server

from souk_common.logging import configure_logging, get_logger
from souk_common.settings import load_settings
from souk_operator import handlers
from souk_operator.config import OperatorSettings
from souk_operator.leader import LeaseElector

log = get_logger(__name__)


def _api_client() -> k8s.ApiClient:
    configuration = k8s.Configuration()
    try:
        k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    except k8s_config.ConfigException:
        k8s_config.load_kube_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    return k8s.ApiClient(configuration)


async def run(settings: OperatorSettings) -> int:
    """Run until stopped; return the process exit code."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    elector = None
    holder: asyncio.Task[None] | None = None
    if settings.leader_election:
        elector = LeaseElector(
            _api_client(), settings.lease_namespace, settings.lease_name,
            settings.identity, settings.lease_duration,
        )  # fmt: skip
        acquiring = asyncio.ensure_future(elector.acquire())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({acquiring, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if stop.is_set():
            acquiring.cancel()
            return 0
        holder = asyncio.create_task(elector.hold(stop))
    namespaces = settings.namespace_list()
    log.info("operator_starting", namespaces=namespaces or "all", identity=settings.identity)
    await kopf.operator(
        standalone=True,
        clusterwide=not namespaces,
        namespaces=namespaces,
        registry=handlers.registry(settings),
        memo=kopf.Memo(settings=settings),
        liveness_endpoint=f"http://0.0.0.0:{settings.health_port}/healthz",
        stop_flag=stop,
    )
    lost = holder is not None and holder.done()
    if holder is not None:
        holder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await holder
    if elector is not None and not lost:
        await elector.release()
    return 1 if lost else 0


class _DropKopfExtras(logging.Filter):
    """Remove kopf's bulky ``settings`` record attribute so each log line stays one event."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("settings", None)
        return True


def main() -> None:
    """Entry point: ``python -m souk_operator``."""
    settings = load_settings(OperatorSettings)
    configure_logging("souk-operator", settings.log_level, settings.log_format)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_DropKopfExtras())
    start_http_server(settings.metrics_port)
    sys.exit(asyncio.run(run(settings)))
