"""Stream key names: the one module that spells them.

Each producing service writes to ``{prefix}{service}.events``; a consumer group's dead letters
go to ``{prefix}dlq.{group}``. ``prefix`` comes from ``STREAM_PREFIX`` (the operator sets
``<marketplace>:``; empty locally).

A service may keep other keys beside its stream, in families named here
(:data:`SERVICE_KEY_FAMILIES`, spelled by :func:`service_key_prefix`): deleting a marketplace
deletes them by name, even under the local stack's empty prefix, where deleting every key
would reach keys that are not the marketplace's.
"""

from __future__ import annotations

from collections.abc import Iterable


def stream_key(prefix: str, service: str) -> str:
    """Return the stream key a service publishes its events to."""
    return f"{prefix}{service}.events"


def dead_letter_key(prefix: str, group: str) -> str:
    """Return the dead-letter stream key of a consumer group."""
    return f"{prefix}dlq.{group}"


# The key families each service keeps in Redis besides its stream.
SERVICE_KEY_FAMILIES: dict[str, tuple[str, ...]] = {
    "payments": ("provider",),  # the simulated provider's idempotency memory
}


def service_key_prefix(prefix: str, service: str, family: str) -> str:
    """Return the prefix of every key of one of a service's key families."""
    if family not in SERVICE_KEY_FAMILIES.get(service, ()):
        raise ValueError(f"{service} has no key family {family!r}: add it to SERVICE_KEY_FAMILIES")
    return f"{prefix}{service}:{family}:"


def service_key_prefixes(prefix: str, services: Iterable[str]) -> list[str]:
    """Return the prefixes of every key family of ``services``."""
    return [
        service_key_prefix(prefix, service, family)
        for service in sorted(set(services))
        for family in SERVICE_KEY_FAMILIES.get(service, ())
    ]
