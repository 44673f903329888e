"""``souk-dev``: run the whole marketplace on this machine.

``souk-dev up`` provisions, migrates, starts and seeds every installed service and runs until
Ctrl-C; ``souk-dev provision`` only provisions; ``souk-dev reset`` drops the local databases,
roles and streams. Problems (a server down, a service failing to start) are one line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Sequence

from souk_devstack.config import StackConfig
from souk_devstack.prometheus import (
    LocalPrometheus,
    PrometheusConfig,
    PrometheusMissingError,
    default_rule_files,
    stack_targets,
)
from souk_devstack.stack import LocalStack, StackError

DEMO_USERS = ("buyer@souk.test", "seller@souk.test", "admin@souk.test")
DEMO_PASSWORD = "souk-demo-password"  # noqa: S105 - documented demo password of the local stack


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="souk-dev", description=__doc__.splitlines()[0])
    parser.add_argument("--services", help="comma-separated subset of services to run")
    parser.add_argument("--log-format", choices=("console", "json"), default="console")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument(
        "--marketplace",
        default="souk",
        help="name of this local marketplace: databases <name>_<service>; a name other than "
        "'souk' also prefixes streams with '<name>:' so two stacks can share the servers",
    )
    parser.add_argument("--port-offset", type=int, default=0, help="added to every service's port")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="provision, migrate, start and seed; Ctrl-C stops")
    up.add_argument("--no-seed", action="store_true", help="skip demo data")
    up.add_argument(
        "--prometheus",
        action="store_true",
        help="also run a real Prometheus scraping every service and the operator "
        "(127.0.0.1:9090 unless --operator-metrics), loaded with the project's rules",
    )
    up.add_argument("--prometheus-port", type=int, default=9091, help="Prometheus' port")
    up.add_argument("--operator-metrics", default="127.0.0.1:9090", help="operator's /metrics")
    commands.add_parser("provision", help="create databases, roles and streams only")
    commands.add_parser("reset", help="drop the local databases, roles and streams")
    return parser


def _print_summary(stack: LocalStack) -> None:
    lines = ["", "Souk is running:"]
    for name, service in stack.services.items():
        lines.append(f"  {name:<14} {service.url}/docs")
    lines.append(f"  demo users     {', '.join(DEMO_USERS)} (password {DEMO_PASSWORD})")
    lines.append("  logs           " + str(stack.config.state_dir / "logs"))
    lines.append("Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)


def _prometheus(stack: LocalStack, args: argparse.Namespace) -> LocalPrometheus:
    targets = stack_targets({m.name: stack.service_url(m.name) for m in stack.manifests})
    config = PrometheusConfig(
        targets=targets, rule_files=default_rule_files(), operator_target=args.operator_metrics
    )
    return LocalPrometheus(config, stack.config.state_dir, port=args.prometheus_port)


async def _up(stack: LocalStack, args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with stack, contextlib.AsyncExitStack() as extras:
        if getattr(args, "prometheus", False):
            prometheus = await extras.enter_async_context(_prometheus(stack, args))
            print(f"  prometheus     {prometheus.url} (alerts: {prometheus.url}/alerts)")
        _print_summary(stack)
        exits = [asyncio.create_task(s.process.wait()) for s in stack.services.values()]
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopper, *exits], return_when=asyncio.FIRST_COMPLETED)
        if stopper not in done:
            crashed = [s.manifest.name for s in stack.services.values() if not s.process.running]
            print(f"souk-dev: {', '.join(crashed)} exited; stopping the stack", file=sys.stderr)
            return 1
        print("\nStopping...", flush=True)
    return 0


async def _run(args: argparse.Namespace) -> int:
    services = tuple(args.services.split(",")) if args.services else None
    overrides: dict[str, object] = {}
    if args.marketplace != "souk" and "STREAM_PREFIX" not in os.environ:
        overrides["stream_prefix"] = f"{args.marketplace}:"
    config = StackConfig.from_environment(
        marketplace=args.marketplace,
        port_offset=args.port_offset,
        **overrides,
        services=services,
        log_format=args.log_format,
        log_level=args.log_level.upper(),
        seed=not getattr(args, "no_seed", False),
    )
    stack = LocalStack(config)
    if args.command == "provision":
        await stack.check_servers()
        for action in await stack.provision() or ["nothing to do: everything exists"]:
            print(action)
        return 0
    if args.command == "reset":
        await stack.check_servers()
        await stack.deprovision()
        print("local databases, roles and streams dropped")
        return 0
    return await _up(stack, args)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``souk-dev``."""
    args = _parser().parse_args(argv)
    try:
        code = asyncio.run(_run(args))
    except (StackError, PrometheusMissingError) as error:
        print(f"souk-dev: {error}", file=sys.stderr)
        code = 1
    sys.exit(code)
