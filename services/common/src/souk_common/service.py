"""How a service declares itself, so the local stack and tools find it without being edited.

Each service package exposes a :class:`ServiceManifest` under the ``souk.services`` entry
point group; :func:`discover_services` returns every installed one.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

SERVICES_ENTRY_POINT_GROUP = "souk.services"


@dataclass(frozen=True)
class ServiceManifest:
    """What it takes to run one service."""

    name: str
    port: int
    subscribes: tuple[str, ...]
    # "module:callable" returning the FastAPI app (uvicorn --factory).
    app_factory: str
    # Package holding ``migrations/`` (Alembic).
    migrations_package: str
    # "module:callable" of ``async def seed(settings) -> None`` for demo data, if any.
    seed: str | None = None
    # Services that must be serving before this one seeds (e.g. catalog needs auth's users).
    seed_after: tuple[str, ...] = ()

    @property
    def module(self) -> str:
        """The service's top-level Python package."""
        return self.migrations_package


def load_object(reference: str) -> Any:
    """Import ``module:attribute`` and return the attribute."""
    module_name, _, attribute = reference.partition(":")
    return getattr(import_module(module_name), attribute)


def discover_services() -> dict[str, ServiceManifest]:
    """Return every installed service manifest, keyed by service name, in port order."""
    manifests = [entry.load() for entry in entry_points(group=SERVICES_ENTRY_POINT_GROUP)]
    return {m.name: m for m in sorted(manifests, key=lambda m: m.port)}
