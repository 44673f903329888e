"""The use cases behind the kopf handlers: reconcile, refresh service readiness, clean up.

Each takes the Marketplace object and the adapters, does its work, writes the status and
records Events, and returns what happened; the handlers only map that to kopf's retry
semantics. Reconciling is level-based: it recomputes everything from the spec and what
exists, so the periodic check, a restart mid-way and a spec change all run the same code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from souk_common.provisioning import InvalidNameError, database_name
from souk_contracts.topology import SERVICES
from souk_operator import managed, naming, secretdata
from souk_operator.backends import Backends
from souk_operator.kube import Kube
from souk_operator.model import SpecError, parse_spec
from souk_operator.provision import (
    Context,
    admin_dsns,
    databases_stage,
    redis_url,
    streams_stage,
)
from souk_operator.status import (
    Stage,
    build_status,
    deployment_state,
    stage_from_conditions,
)


class Recorder(Protocol):
    """Posts Kubernetes Events about the Marketplace being handled."""

    def normal(self, reason: str, message: str) -> None:
        """Record something the operator did."""

    def warning(self, reason: str, message: str) -> None:
        """Record something that failed or needs the user."""


@dataclass(frozen=True)
class Outcome:
    """What one reconcile ended in: the phase, the stages and the actions taken."""

    phase: str
    stages: tuple[Stage, ...]
    actions: tuple[str, ...]

    def worst(self) -> Stage | None:
        """Return the first failed stage (permanent before temporary), if any."""
        for state in ("permanent", "temporary"):
            for stage in self.stages:
                if stage.state == state:
                    return stage
        return None


def now() -> str:
    """Return the current UTC time in the RFC 3339 form conditions use."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _invalid(message: str) -> Stage:
    return Stage("permanent", "InvalidSpec", message)


async def reconcile(
    body: Mapping[str, Any], kube: Kube, backends: Backends, events: Recorder
) -> Outcome:
    """Converge everything a Marketplace owns, write its status, and say what happened."""
    meta = body["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    previous = dict(body.get("status") or {})
    try:
        spec = parse_spec(body.get("spec") or {})
        for service in spec.service_names:
            database_name(name, service)
    except (SpecError, InvalidNameError) as error:
        databases = streams = _invalid(str(error))
        services: tuple[str, ...] = ()
        ctx = None
    else:
        ctx = Context(
            namespace, name, naming.owner_reference(body), spec,
            set(previous.get("services") or {}), kube, backends,
        )  # fmt: skip
        services = spec.service_names
        if "auth" in services:
            auth = naming.auth_keys_secret_name(name)
            existing = await kube.read_secret(namespace, auth)
            await ctx.apply_secret(secretdata.auth_keys_secret(name, existing, ctx.owner))
        for manifest in managed.managed_objects(name, spec, ctx.owner):
            done = await kube.apply_object(namespace, manifest)
            if done:
                ctx.actions.append(done)
        databases = await databases_stage(ctx)
        streams = await streams_stage(ctx)
    deployments = {
        service: deployment_state(item)
        for service, item in (await kube.deployments(namespace, name)).items()
    }
    status = build_status(
        generation=int(meta.get("generation") or 0),
        marketplace=name,
        services=services,
        databases=databases,
        streams=streams,
        deployments=deployments,
        previous=previous,
        now=now(),
    )
    await kube.patch_status(namespace, name, {**status, "services": _replace(previous, status)})
    actions = tuple(ctx.actions if ctx else ())
    for action in actions:
        events.normal("Provisioned", action)
    outcome = Outcome(status["phase"], (databases, streams), actions)
    worst = outcome.worst()
    if worst is not None and _changed(previous, status):
        events.warning(worst.reason, worst.message)
    return outcome


def _replace(previous: Mapping[str, Any], status: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``status.services`` for a merge patch: removed services set to null."""
    gone = {s: None for s in (previous.get("services") or {}) if s not in status["services"]}
    return {**gone, **status["services"]}


def _changed(previous: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    """True when the phase or a condition's reason changed (to avoid repeating Events)."""

    def key(s: Mapping[str, Any]) -> tuple[Any, ...]:
        return (
            s.get("phase"),
            *((c.get("reason"), c.get("message")) for c in s.get("conditions") or []),
        )

    return key(previous) != key(status)


async def refresh_services(kube: Kube, namespace: str, name: str) -> str | None:
    """Recompute ServicesReady/Ready from the Deployments, keeping the infrastructure state."""
    body = await kube.marketplace(namespace, name)
    if body is None or not body.get("status") or body["metadata"].get("deletionTimestamp"):
        return None
    previous = body["status"]
    services = tuple(previous.get("services") or {})
    deployments = {
        s: deployment_state(item) for s, item in (await kube.deployments(namespace, name)).items()
    }
    status = build_status(
        generation=int(previous.get("observedGeneration") or 0),
        marketplace=name,
        services=services,
        databases=stage_from_conditions(previous, "DatabasesReady"),
        streams=stage_from_conditions(previous, "StreamsReady"),
        deployments=deployments,
        previous=previous,
        now=now(),
    )
    if {k: status[k] for k in ("phase", "servicesReady", "conditions")} != {
        k: previous.get(k) for k in ("phase", "servicesReady", "conditions")
    }:
        await kube.patch_status(namespace, name, status)
    return str(status["phase"])


async def _drop(
    run: Callable[[], Awaitable[list[str]]], what: str, required: bool, events: Recorder
) -> list[str]:
    """Run one drop step; for a Managed server a failure is an event, not a blocked delete."""
    if required:
        return await run()
    try:
        return await run()
    except Exception as error:  # the server may already be gone; its claim goes next
        events.warning("CleanupSkipped", f"managed {what} not dropped ({error}); claims deleted")
        return []


async def clean_up(
    body: Mapping[str, Any], kube: Kube, backends: Backends, events: Recorder
) -> list[str]:
    """Apply the deletion policy before the finalizer goes: Retain keeps, Delete drops."""
    meta = body["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    try:
        spec = parse_spec(body.get("spec") or {})
    except SpecError as error:
        events.warning("InvalidSpec", f"nothing dropped, the spec is invalid: {error}")
        return []
    if spec.deletion_policy == "Retain":
        kept = ", ".join(database_name(name, s) for s in spec.service_names)
        events.normal(
            "Retained", f"kept databases {kept} and streams {naming.stream_prefix(name)}*"
        )
        return []
    known = set(spec.service_names) | set((body.get("status") or {}).get("services") or {})
    ctx = Context(namespace, name, naming.owner_reference(body), spec, known, kube, backends)
    actions: list[str] = []

    async def drop_databases() -> list[str]:
        dsns = await admin_dsns(ctx)
        dropped: list[str] = []
        for service in sorted(known):
            dsn = dsns.get(service) or next(iter(dsns.values()))
            dropped += (await backends.drop_database(dsn, database_name(name, service))).actions
        return dropped

    async def drop_streams() -> list[str]:
        # Every stream under the prefix is the marketplace's, producers outside it included.
        everything = known | set(SERVICES)
        prefix = naming.stream_prefix(name)
        return (await backends.drop_all_streams(await redis_url(ctx), prefix, everything)).actions

    # External servers outlive the Marketplace: dropping must succeed (kopf retries). Managed
    # servers are dropped too, so the data is gone whatever the volumes' reclaim policy, but
    # best effort: their claims are deleted below anyway.
    external_postgres = spec.postgres.mode == "External"
    actions += await _drop(drop_databases, "databases", external_postgres, events)
    actions += await _drop(drop_streams, "streams", spec.redis.mode == "External", events)
    for claim in await kube.list_names(namespace, "PersistentVolumeClaim", naming.selector(name)):
        if await kube.delete(namespace, "PersistentVolumeClaim", claim):
            actions.append(f"deleted PersistentVolumeClaim {claim}")
    for action in actions:
        events.normal("Deleted", action)
    return actions
