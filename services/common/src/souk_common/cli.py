"""The command line every service shares: ``serve``, ``migrate`` and ``seed``.

``python -m souk_<service> serve`` runs uvicorn on the app factory (port from ``PORT`` or the
manifest), ``migrate`` applies Alembic migrations, ``seed`` loads demo data. Settings are
validated before anything starts, so a bad one stops the command with a single line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from souk_common.logging import configure_logging, get_logger
from souk_common.migrations import upgrade_to_head
from souk_common.server import serve
from souk_common.service import ServiceManifest, load_object
from souk_common.settings import ServiceSettings, load_settings


def _parser(manifest: ServiceManifest) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"souk-{manifest.name}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve HTTP (and run the event workers)")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", manifest.port)))
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("seed", help="load demo data (idempotent)")
    return parser


def run_service_cli(
    manifest: ServiceManifest,
    settings_class: type[ServiceSettings],
    argv: Sequence[str] | None = None,
) -> None:
    """Parse ``argv`` and run the chosen command for ``manifest``'s service."""
    args = _parser(manifest).parse_args(argv)
    settings = load_settings(settings_class)
    configure_logging(settings.service_name, settings.log_level, settings.log_format)
    log = get_logger("souk.cli")
    if args.command == "migrate":
        asyncio.run(upgrade_to_head(manifest.migrations_package, settings.sqlalchemy_url))
        log.info("migrations_applied")
    elif args.command == "seed":
        if manifest.seed is None:
            log.info("nothing_to_seed")
            return
        seed: Callable[[ServiceSettings], Coroutine[Any, Any, None]] = load_object(manifest.seed)
        asyncio.run(seed(settings))
        log.info("demo_data_seeded")
    else:
        serve(manifest.app_factory, host=args.host, port=args.port, factory=True)
