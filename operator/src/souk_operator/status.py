"""The Marketplace status as pure functions: conditions, phase, per-service entries.

Ready means "the shop is up": the infrastructure is provisioned (``DatabasesReady``,
``StreamsReady``) *and* every service's Deployment (found by the labels
``souk.dev/marketplace`` and ``souk.dev/service``) has all its replicas ready
(``ServicesReady``). Phases: ``Failed`` when the spec or a referenced object must be fixed
by the user, ``Degraded`` when a backend fails temporarily (retried with back-off),
``Provisioning`` while anything is still coming up (waiting for managed servers or for
Deployments), ``Ready`` when the ``Ready`` condition is True.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from souk_common.provisioning import database_name
from souk_operator import naming

CONDITION_TYPES = ("DatabasesReady", "StreamsReady", "ServicesReady", "Ready")
StageState = Literal["ok", "waiting", "temporary", "permanent"]
# metav1.Condition's limits, repeated in the CRD's conditions schema.
REASON_MAX = 1024
MESSAGE_MAX = 32768


@dataclass(frozen=True)
class Stage:
    """The outcome of one provisioning stage: a state, a CamelCase reason, a message."""

    state: StageState
    reason: str
    message: str

    @property
    def ok(self) -> bool:
        """True when the stage converged."""
        return self.state == "ok"


@dataclass(frozen=True)
class DeploymentState:
    """What a service's Deployment reports: wanted and ready replicas, and if it is current."""

    replicas: int
    ready_replicas: int
    current: bool = True

    @property
    def ready(self) -> bool:
        """True when every wanted replica is ready on the current generation."""
        return self.current and self.replicas > 0 and self.ready_replicas >= self.replicas


def deployment_state(deployment: Mapping[str, Any]) -> DeploymentState:
    """Read a Deployment object (as a dict in API form) into a :class:`DeploymentState`."""
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    generation = (deployment.get("metadata") or {}).get("generation", 0)
    return DeploymentState(
        replicas=int(spec.get("replicas", 1)),
        ready_replicas=int(status.get("readyReplicas") or 0),
        current=int(status.get("observedGeneration") or 0) >= int(generation or 0),
    )


def services_stage(services: Sequence[str], deployments: Mapping[str, DeploymentState]) -> Stage:
    """Return ``ServicesReady``: every listed service has a ready Deployment."""
    missing = [s for s in services if s not in deployments]
    waiting = [s for s in services if s in deployments and not deployments[s].ready]
    if not missing and not waiting:
        return Stage("ok", "AllServicesReady", f"{len(services)} of {len(services)} ready")
    parts = []
    if missing:
        parts.append(f"no Deployment labelled {naming.SERVICE_LABEL} for: {', '.join(missing)}")
    if waiting:
        parts.append("not ready: " + ", ".join(
            f"{s} ({deployments[s].ready_replicas}/{deployments[s].replicas})" for s in waiting
        ))  # fmt: skip
    reason = "DeploymentsMissing" if missing else "DeploymentsNotReady"
    return Stage("waiting", reason, "; ".join(parts))


def condition_reason(reason: str) -> str:
    """Return ``reason`` in the form metav1.Condition requires (CamelCase, never empty).

    Characters outside ``[A-Za-z0-9_,:]`` are dropped, the first character must be a letter and
    the last must not be ``,`` or ``:``; at most :data:`REASON_MAX` characters. What is left
    empty becomes ``Unknown``, so the API server never refuses the status patch.
    """
    kept = "".join(c for c in reason if c.isascii() and (c.isalnum() or c in "_,:"))
    kept = kept.lstrip("0123456789_,:")[:REASON_MAX].rstrip(",:")
    return kept or "Unknown"


def condition_message(message: str) -> str:
    """Return ``message`` cut to :data:`MESSAGE_MAX` characters (metav1.Condition's limit)."""
    if len(message) <= MESSAGE_MAX:
        return message
    return message[: MESSAGE_MAX - 1] + "…"


def condition(kind: str, stage: Stage, generation: int) -> dict[str, Any]:
    """Return a standard condition (``lastTransitionTime`` is filled by :func:`merge`).

    Every field metav1.Condition requires is set, in the form the CRD's schema accepts.
    """
    return {
        "type": kind,
        "status": "True" if stage.ok else "False",
        "reason": condition_reason(stage.reason),
        "message": condition_message(stage.message),
        "observedGeneration": max(0, generation),
    }


def ready_stage(databases: Stage, streams: Stage, services: Stage) -> Stage:
    """Return the ``Ready`` stage: the first stage that is not ok, or ok."""
    for name, stage in (("databases", databases), ("streams", streams), ("services", services)):
        if not stage.ok:
            return Stage(stage.state, stage.reason, f"{name}: {stage.message}")
    return Stage("ok", "MarketplaceReady", "databases, streams and every service are ready")


def phase(stages: Iterable[Stage]) -> str:
    """Return the phase: Failed > Degraded > Provisioning > Ready."""
    states = {stage.state for stage in stages}
    if "permanent" in states:
        return "Failed"
    if "temporary" in states:
        return "Degraded"
    return "Provisioning" if "waiting" in states else "Ready"


def merge(
    previous: Sequence[Mapping[str, Any]], wanted: Sequence[dict[str, Any]], now: str
) -> list[dict[str, Any]]:
    """Return ``wanted`` conditions, keeping ``lastTransitionTime`` where status is unchanged."""
    before = {c.get("type"): c for c in previous}
    merged = []
    for item in wanted:
        old = before.get(item["type"])
        same = old is not None and old.get("status") == item["status"]
        stamp = old.get("lastTransitionTime") if same and old is not None else None
        merged.append({**item, "lastTransitionTime": stamp or now})
    return merged


def build_status(
    *,
    generation: int,
    marketplace: str,
    services: Sequence[str],
    databases: Stage,
    streams: Stage,
    deployments: Mapping[str, DeploymentState],
    previous: Mapping[str, Any] | None,
    now: str,
) -> dict[str, Any]:
    """Return the whole ``status`` of a Marketplace from the stages of one reconcile."""
    svc = services_stage(services, deployments)
    ready = ready_stage(databases, streams, svc)
    wanted = [
        condition(kind, stage, generation)
        for kind, stage in zip(CONDITION_TYPES, (databases, streams, svc, ready), strict=True)
    ]
    previous_conditions = (previous or {}).get("conditions") or []
    ready_count = sum(1 for s in services if s in deployments and deployments[s].ready)
    return {
        "observedGeneration": generation,
        "phase": phase((databases, streams, svc)),
        "servicesReady": f"{ready_count}/{len(services)}",
        "conditions": merge(previous_conditions, wanted, now),
        "services": {
            s: {
                "database": database_name(marketplace, s),
                "secret": naming.db_secret_name(marketplace, s),
                "ready": s in deployments and deployments[s].ready,
            }
            for s in services
        },
    }


def stage_from_conditions(status: Mapping[str, Any], kind: str) -> Stage:
    """Rebuild a stage from a stored condition (``waiting`` when it is absent)."""
    for item in status.get("conditions") or []:
        if item.get("type") == kind:
            ok = item.get("status") == "True"
            state: StageState = "ok" if ok else _state_of(str(status.get("phase", "")))
            return Stage(state, str(item.get("reason", "")), str(item.get("message", "")))
    return Stage("waiting", "Pending", "not reconciled yet")


def _state_of(phase_name: str) -> StageState:
    if phase_name == "Failed":
        return "permanent"
    return "temporary" if phase_name == "Degraded" else "waiting"
