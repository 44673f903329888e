"""The two provisioning stages of a reconcile: databases (with their Secrets) and streams.

Each stage converges one backend and returns a :class:`~souk_operator.status.Stage`; errors
become stages (temporary: retried with back-off, shown as Degraded; permanent: shown as
Failed with what to fix), so one failing backend never hides the state of the other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from souk_common.provisioning import (
    PermanentProvisioningError,
    TemporaryProvisioningError,
    database_name,
    generate_password,
    service_credentials,
)
from souk_contracts.topology import SERVICES
from souk_operator import naming, secretdata
from souk_operator.backends import Backends
from souk_operator.kube import Kube, KubeError
from souk_operator.managed import postgres_servers
from souk_operator.model import Backend, MarketplaceSpec
from souk_operator.status import Stage


class Waiting(Exception):  # noqa: N818 - a state, not a failure
    """A managed server is not ready yet; the message says which."""


@dataclass
class Context:
    """What both stages need: where, for whom, with which adapters; collects actions."""

    namespace: str
    name: str
    owner: dict[str, Any]
    spec: MarketplaceSpec
    previous_services: set[str]
    kube: Kube
    backends: Backends
    actions: list[str] = field(default_factory=list)

    async def apply_secret(self, manifest: dict[str, Any]) -> None:
        """Create or update a Secret, recording what changed."""
        done = await self.kube.apply_secret(self.namespace, manifest)
        if done:
            self.actions.append(done)


async def secret_value(ctx: Context, backend: Backend, path: str) -> str:
    """Return the value a Secret reference points at, or raise a permanent error saying why."""
    assert backend.secret_ref is not None
    ref = backend.secret_ref
    data = await ctx.kube.read_secret(ctx.namespace, ref.name)
    if data is None:
        raise PermanentProvisioningError(
            f"Secret {ref.name!r} ({path}.name) does not exist in namespace {ctx.namespace!r}:"
            f" create it with key {ref.key!r}, or point {path} at an existing Secret"
        )
    value = data.get(ref.key, "").strip()
    if not value:
        raise PermanentProvisioningError(
            f"Secret {ref.name!r} has no key {ref.key!r} ({path}.key): add the key, or set"
            f" {path}.key to one of {sorted(data) or 'its keys (it has none)'}"
        )
    return value


async def _wait_ready(ctx: Context, server: str) -> None:
    ready, wanted = await ctx.kube.statefulset_ready(ctx.namespace, server)
    if wanted == 0 or ready < wanted:
        raise Waiting(f"StatefulSet {server} has {ready}/{max(wanted, 1)} ready replicas")


async def admin_dsns(ctx: Context) -> dict[str, str]:
    """Return ``{service: admin DSN}``; in Managed mode apply the servers and wait for them."""
    spec = ctx.spec
    if spec.postgres.mode == "External":
        dsn = await secret_value(ctx, spec.postgres, "spec.postgres.external.adminSecretRef")
        return dict.fromkeys(spec.service_names, dsn)
    secret = naming.postgres_admin_secret_name(ctx.name)
    existing = await ctx.kube.read_secret(ctx.namespace, secret)
    password = (existing or {}).get("password") or generate_password()
    labels = naming.labels(ctx.name, "postgres-credentials", "postgres")
    await ctx.apply_secret(
        secretdata.secret_manifest(secret, {"password": password}, labels, ctx.owner)
    )
    servers = postgres_servers(ctx.name, spec)
    for server in sorted(set(servers.values())):
        await _wait_ready(ctx, server)
    host = {s: naming.service_host(server, ctx.namespace) for s, server in servers.items()}
    return {s: f"postgresql://postgres:{password}@{host[s]}:5432/postgres" for s in servers}


async def _retire_databases(ctx: Context, dsns: dict[str, str]) -> None:
    """Remove what belonged to services no longer in the spec, per the deletion policy."""
    selector = naming.selector(ctx.name, "database-credentials")
    listed = await ctx.kube.list_names(ctx.namespace, "Secret", selector)
    found = {n.removeprefix(f"{ctx.name}-").removesuffix("-db") for n in listed}
    for service in sorted((found | ctx.previous_services) - set(ctx.spec.service_names)):
        if ctx.spec.deletion_policy == "Delete" and ctx.spec.postgres.mode == "External":
            dsn = next(iter(dsns.values()), None)
            if dsn is not None:
                result = await ctx.backends.drop_database(dsn, database_name(ctx.name, service))
                ctx.actions += result.actions
        if await ctx.kube.delete(ctx.namespace, "Secret", naming.db_secret_name(ctx.name, service)):
            ctx.actions.append(f"deleted Secret {naming.db_secret_name(ctx.name, service)}")


async def databases_stage(ctx: Context) -> Stage:
    """Converge every service's database, role and Secret; retire removed services."""
    return await _guard("Postgres", lambda: _databases(ctx))


async def _databases(ctx: Context) -> Stage:
    dsns = await admin_dsns(ctx)
    for service in ctx.spec.service_names:
        name = database_name(ctx.name, service)
        existing = await ctx.kube.read_secret(
            ctx.namespace, naming.db_secret_name(ctx.name, service)
        )
        password = secretdata.kept_password(existing, generate_password)
        ctx.actions += (await ctx.backends.ensure_database(dsns[service], name, password)).actions
        credentials = service_credentials(dsns[service], name, password)
        await ctx.apply_secret(secretdata.db_secret(ctx.name, service, credentials, ctx.owner))
    await _retire_databases(ctx, dsns)
    count = len(ctx.spec.service_names)
    return Stage("ok", "DatabasesProvisioned", f"{count} databases, roles and Secrets in place")


async def redis_url(ctx: Context) -> str:
    """Return the Redis URL; in Managed mode apply the server and wait for it."""
    if ctx.spec.redis.mode == "External":
        return await secret_value(ctx, ctx.spec.redis, "spec.redis.external.urlSecretRef")
    server = naming.redis_server_name(ctx.name)
    await _wait_ready(ctx, server)
    return f"redis://{naming.service_host(server, ctx.namespace)}:6379/0"


async def streams_stage(ctx: Context) -> Stage:
    """Converge the Redis Secret, streams, consumer groups and dead-letter streams."""
    return await _guard("Redis", lambda: _streams(ctx))


async def _streams(ctx: Context) -> Stage:
    spec = ctx.spec
    url = await redis_url(ctx)
    streams = {"STREAM_MAX_LENGTH": str(spec.max_length),
               "STREAM_MAX_DELIVERIES": str(spec.max_deliveries)}  # fmt: skip
    await ctx.apply_secret(secretdata.redis_secret(ctx.name, url, ctx.owner, streams))
    prefix = naming.stream_prefix(ctx.name)
    subscriptions = spec.subscriptions()
    ctx.actions += (await ctx.backends.ensure_streams(url, prefix, subscriptions)).actions
    if spec.deletion_policy == "Delete":
        for service in sorted(ctx.previous_services - set(spec.service_names)):
            # Its subscriptions may have been customised: look for its group on every stream.
            result = await ctx.backends.drop_service_streams(url, prefix, service, SERVICES)
            ctx.actions += result.actions
    groups = sum(len(p) for p in subscriptions.values())
    return Stage("ok", "StreamsProvisioned", f"{groups} consumer groups on prefix {prefix!r}")


async def _guard(backend: str, run: Callable[[], Awaitable[Stage]]) -> Stage:
    """Run a stage, turning its errors into a stage with a reason and a message."""
    try:
        return await run()
    except Waiting as waiting:
        return Stage("waiting", f"WaitingFor{backend}", str(waiting))
    except TemporaryProvisioningError as error:
        return Stage("temporary", f"{backend}Unavailable", str(error))
    except PermanentProvisioningError as error:
        return Stage("permanent", f"{backend}ConfigurationError", str(error))
    except KubeError as error:
        return Stage(
            "temporary" if error.temporary else "permanent", "KubernetesApiError", str(error)
        )
