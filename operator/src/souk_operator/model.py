"""The Marketplace spec as typed values, with the defaults the CRD schema cannot express.

The CRD schema refuses what it can (unknown service names, bad enums, missing references,
negative sizes); :func:`parse_spec` applies the rest: the default service list and each
service's default subscriptions from :mod:`souk_contracts.topology`, and the checks that
need more than one field. Its errors are :class:`SpecError` (a permanent failure whose
message names the field to fix).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from souk_contracts.topology import SERVICES

Mode = Literal["External", "Managed"]
Isolation = Literal["Shared", "PerService"]
DeletionPolicy = Literal["Retain", "Delete"]


class SpecError(ValueError):
    """A Marketplace spec the operator cannot act on; the message names the field."""


@dataclass(frozen=True)
class SecretKeyRef:
    """A key of a Secret in the Marketplace's namespace."""

    name: str
    key: str


@dataclass(frozen=True)
class ServiceSpec:
    """One service of the marketplace and the producer services whose streams it consumes."""

    name: str
    subscribes: tuple[str, ...]


@dataclass(frozen=True)
class ManagedServer:
    """What the operator runs itself in Managed mode."""

    image: str
    storage: str
    isolation: Isolation = "Shared"


@dataclass(frozen=True)
class Backend:
    """Where a backend (PostgreSQL or Redis) lives: a Secret reference, or Managed."""

    mode: Mode
    secret_ref: SecretKeyRef | None = None
    managed: ManagedServer | None = None


@dataclass(frozen=True)
class MarketplaceSpec:
    """The whole spec, defaults applied."""

    services: tuple[ServiceSpec, ...]
    postgres: Backend
    redis: Backend
    max_length: int = 100_000
    max_deliveries: int = 5
    deletion_policy: DeletionPolicy = "Retain"
    service_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "service_names", tuple(s.name for s in self.services))

    def subscriptions(self) -> dict[str, tuple[str, ...]]:
        """Return ``{consumer group: producer services}`` for services that consume."""
        return {s.name: s.subscribes for s in self.services if s.subscribes}


POSTGRES_IMAGE = "postgres:16-alpine"
REDIS_IMAGE = "redis:7-alpine"


def _service(raw: Mapping[str, Any], index: int) -> ServiceSpec:
    name = str(raw.get("name"))
    if name not in SERVICES:
        raise SpecError(f"spec.services[{index}].name: {name!r} is not one of {sorted(SERVICES)}")
    subscribes = raw.get("subscribes")
    if subscribes is None:
        return ServiceSpec(name, SERVICES[name].subscribes)
    for producer in subscribes:
        if producer not in SERVICES:
            raise SpecError(f"spec.services[{index}].subscribes: unknown service {producer!r}")
    return ServiceSpec(name, tuple(dict.fromkeys(subscribes)))


def _secret_ref(raw: Any, path: str) -> SecretKeyRef:
    if not isinstance(raw, Mapping) or not raw.get("name") or not raw.get("key"):
        raise SpecError(f"{path}: set name and key of the Secret in this namespace")
    return SecretKeyRef(str(raw["name"]), str(raw["key"]))


def _backend(raw: Mapping[str, Any], path: str, ref_field: str, image: str) -> Backend:
    mode = raw.get("mode", "External")
    if mode == "External":
        ref = _secret_ref(
            (raw.get("external") or {}).get(ref_field), f"{path}.external.{ref_field}"
        )
        return Backend("External", secret_ref=ref)
    if mode == "Managed":
        managed = raw.get("managed") or {}
        server = ManagedServer(
            image=str(managed.get("image", image)),
            storage=str(managed.get("storage", "1Gi")),
            isolation=managed.get("isolation", "Shared"),
        )
        return Backend("Managed", managed=server)
    raise SpecError(f"{path}.mode: {mode!r} is not External or Managed")


def parse_spec(spec: Mapping[str, Any]) -> MarketplaceSpec:
    """Return the typed spec with defaults, or raise :class:`SpecError` naming the field."""
    raw_services = spec.get("services")
    if raw_services is None:
        services = tuple(ServiceSpec(t.name, t.subscribes) for t in SERVICES.values())
    else:
        services = tuple(_service(item, i) for i, item in enumerate(raw_services))
    names = [s.name for s in services]
    if len(set(names)) != len(names):
        raise SpecError("spec.services: each service may be listed once")
    streams = spec.get("streams") or {}
    policy = spec.get("deletionPolicy", "Retain")
    if policy not in ("Retain", "Delete"):
        raise SpecError(f"spec.deletionPolicy: {policy!r} is not Retain or Delete")
    return MarketplaceSpec(
        services=services,
        postgres=_backend(
            spec.get("postgres") or {}, "spec.postgres", "adminSecretRef", POSTGRES_IMAGE
        ),
        redis=_backend(spec.get("redis") or {}, "spec.redis", "urlSecretRef", REDIS_IMAGE),
        max_length=int(streams.get("maxLength", 100_000)),
        max_deliveries=int(streams.get("maxDeliveries", 5)),
        deletion_policy=policy,
    )
