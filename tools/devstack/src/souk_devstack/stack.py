"""Orchestration of the local stack: check servers, provision, migrate, start, seed, stop."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
from redis.asyncio import Redis
from redis.exceptions import RedisError

from souk_common.provisioning import (
    ServiceCredentials,
    drop_service_database,
    drop_streams,
    ensure_service_database,
    ensure_streams,
)
from souk_common.service import ServiceManifest, discover_services
from souk_contracts.topology import subscriptions
from souk_devstack.config import StackConfig
from souk_devstack.credentials import CredentialStore
from souk_devstack.processes import ServiceProcess, run_to_completion

# Readiness waits judge progress, not the clock since launch: a service may take as long as
# it needs while it visibly works (CPU time or log output grows before it answers; its
# /readyz answer changes after), and fails once it shows no progress for STALL_SECONDS, or
# after READY_LIMIT_SECONDS whatever it shows.
STALL_SECONDS = 60.0
READY_LIMIT_SECONDS = 600.0


class StackError(RuntimeError):
    """The stack cannot start; the message is one line saying what is missing or broke."""


@dataclass
class RunningService:
    """A started service: its manifest, URL, environment and process."""

    manifest: ServiceManifest
    url: str
    env: dict[str, str]
    process: ServiceProcess


class LocalStack:
    """The whole marketplace on one machine; use ``async with LocalStack(config):``."""

    def __init__(self, config: StackConfig, *, echo: bool = True) -> None:
        self.config = config
        self.echo = echo
        installed = discover_services()
        wanted = config.services or tuple(installed)
        unknown = sorted(set(wanted) - set(installed))
        if unknown:
            raise StackError(f"unknown or uninstalled services: {', '.join(unknown)}")
        self.manifests = [installed[name] for name in installed if name in wanted]
        self.credentials = CredentialStore(config.state_dir / "credentials.json")
        self.services: dict[str, RunningService] = {}

    # -- checks -------------------------------------------------------------------------
    async def check_servers(self) -> None:
        """Fail with one line when PostgreSQL or Redis is unreachable."""
        try:
            connection = await asyncpg.connect(self.config.pg_admin_url, timeout=5)
            await connection.close()
        except (OSError, asyncpg.PostgresError) as error:
            raise StackError(
                f"PostgreSQL is not reachable at {_safe(self.config.pg_admin_url)} ({error}); "
                "start it or set SOUK_PG_ADMIN_URL to an admin URL"
            ) from None
        redis = Redis.from_url(self.config.redis_url)
        try:
            await redis.ping()
        except (OSError, RedisError) as error:
            raise StackError(
                f"Redis is not reachable at {_safe(self.config.redis_url)} ({error}); "
                "start it or set REDIS_URL"
            ) from None
        finally:
            await redis.aclose()

    # -- provisioning -------------------------------------------------------------------
    def _credentials(self, manifest: ServiceManifest) -> ServiceCredentials:
        admin = urlsplit(self.config.pg_admin_url)
        name = self.config.database_name(manifest.name)
        return ServiceCredentials(
            database=name,
            role=name,
            password=self.credentials.password_for(name),
            host=admin.hostname or "127.0.0.1",
            port=admin.port or 5432,
        )

    async def provision(self) -> list[str]:
        """Create each service's database, role and streams (idempotent); return actions."""
        actions: list[str] = []
        for manifest in self.manifests:
            credentials = self._credentials(manifest)
            result = await ensure_service_database(
                self.config.pg_admin_url, credentials.database, credentials.password
            )
            actions.extend(result.actions)
        redis = Redis.from_url(self.config.redis_url)
        try:
            names = [m.name for m in self.manifests]
            result = await ensure_streams(redis, self.config.stream_prefix, subscriptions(names))
            actions.extend(result.actions)
        finally:
            await redis.aclose()
        return actions

    async def deprovision(self) -> None:
        """Drop every service's database, role and streams (used by tests and ``reset``)."""
        for manifest in self.manifests:
            name = self.config.database_name(manifest.name)
            await drop_service_database(self.config.pg_admin_url, name)
            self.credentials.forget(name)
        redis = Redis.from_url(self.config.redis_url)
        try:
            await drop_streams(
                redis,
                self.config.stream_prefix,
                [m.name for m in self.manifests],
                whole_prefix=True,
            )
        finally:
            await redis.aclose()

    # -- processes ----------------------------------------------------------------------
    def service_url(self, name: str) -> str:
        """Return the base URL of service ``name`` in this stack."""
        manifest = next(m for m in self.manifests if m.name == name)
        return f"http://{self.config.host}:{manifest.port + self.config.port_offset}"

    def environment(self, manifest: ServiceManifest) -> dict[str, str]:
        """Return the environment a service process gets (DESIGN.md's settings)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "OTEL_SDK"))}
        auth_url = self.service_url("auth") if any(m.name == "auth" for m in self.manifests) else ""
        env.update(
            {
                "SERVICE_NAME": manifest.name,
                "DATABASE_URL": self._credentials(manifest).database_url,
                "REDIS_URL": self.config.redis_url,
                "STREAM_PREFIX": self.config.stream_prefix,
                "AUTH_JWKS_URL": f"{auth_url}/.well-known/jwks.json",
                "LOG_FORMAT": self.config.log_format,
                "LOG_LEVEL": self.config.log_level,
                "CONSUMER_NAME": f"{self.config.marketplace}-{manifest.name}-local",
                "COOKIE_SECURE": "false",
                "PORT": str(manifest.port + self.config.port_offset),
                "HOST": self.config.host,
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.config.extra_env)
        return env

    def _command(self, manifest: ServiceManifest, *args: str) -> list[str]:
        return [sys.executable, "-m", manifest.module, *args]

    def _log_path(self, name: str) -> Path:
        return self.config.state_dir / "logs" / f"{self.config.marketplace}-{name}.log"

    async def migrate(self) -> None:
        """Apply every service's migrations (each service runs its own ``migrate``)."""
        await asyncio.gather(
            *(
                run_to_completion(
                    f"{m.name}-migrate",
                    self._command(m, "migrate"),
                    self.environment(m),
                    self._log_path(f"{m.name}-migrate"),
                    self.echo,
                )
                for m in self.manifests
            )
        )

    async def start_service(self, manifest: ServiceManifest) -> RunningService:
        """Start one service process (also used to restart one after a kill)."""
        env = self.environment(manifest)
        process = ServiceProcess(
            manifest.name,
            self._command(manifest, "serve"),
            env,
            self._log_path(manifest.name),
            self.echo,
        )
        await process.start()
        running = RunningService(manifest, self.service_url(manifest.name), env, process)
        self.services[manifest.name] = running
        return running

    async def wait_ready(self, names: Iterable[str] | None = None) -> None:
        """Wait until every (named) service answers ``/readyz`` with 200, while it progresses."""
        started = time.monotonic()
        pending = set(names or self.services)
        marks: dict[str, tuple[object, float]] = {name: (None, started) for name in pending}
        async with httpx.AsyncClient(timeout=2.0) as client:
            while pending:
                now = time.monotonic()
                for name in sorted(pending):
                    service = self.services[name]
                    if not service.process.running:
                        raise StackError(
                            f"{name} exited during start-up:\n{service.process.tail()}"
                        )
                    mark: object
                    try:
                        response = await client.get(f"{service.url}/readyz")
                    except httpx.HTTPError:
                        mark = service.process.progress()  # not serving yet: is it working?
                    else:
                        if response.status_code == 200:
                            pending.discard(name)
                            continue
                        mark = response.text  # serving: does what it waits for change?
                    if mark != marks[name][0]:
                        marks[name] = (mark, now)
                self._check_progress(pending, marks, started, now)
                if pending:
                    await asyncio.sleep(0.2)

    @staticmethod
    def _check_progress(
        pending: set[str], marks: dict[str, tuple[object, float]], started: float, now: float
    ) -> None:
        """Raise when a pending service stalled, or when the start-up took far too long."""
        stalled = sorted(n for n in pending if now - marks[n][1] > STALL_SECONDS)
        if stalled:
            raise StackError(f"not ready, no progress for {STALL_SECONDS:.0f}s: {stalled}")
        if pending and now - started > READY_LIMIT_SECONDS:
            raise StackError(f"not ready after {READY_LIMIT_SECONDS:.0f}s: {sorted(pending)}")

    async def seed(self) -> None:
        """Run each service's demo-data seed; a service seeds after those in ``seed_after``."""
        remaining = [m for m in self.manifests if m.seed is not None]
        while remaining:
            waiting_for = {m.name for m in remaining}
            ready = [m for m in remaining if not set(m.seed_after) & waiting_for]
            if not ready:
                raise StackError("seed_after dependencies form a cycle")
            for manifest in ready:
                await run_to_completion(
                    f"{manifest.name}-seed",
                    self._command(manifest, "seed"),
                    self.environment(manifest),
                    self._log_path(f"{manifest.name}-seed"),
                    self.echo,
                )
                remaining.remove(manifest)

    async def start(self) -> None:
        """Check, provision, migrate, start every service, wait until ready, then seed."""
        await self.check_servers()
        await self.provision()
        await self.migrate()
        for manifest in self.manifests:
            await self.start_service(manifest)
        await self.wait_ready()
        if self.config.seed:
            await self.seed()

    async def stop(self) -> None:
        """Stop every service gracefully (SIGTERM, then SIGKILL after a grace period)."""
        await asyncio.gather(*(s.process.stop() for s in self.services.values()))

    async def __aenter__(self) -> LocalStack:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()


def _safe(url: str) -> str:
    """Return ``url`` without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
