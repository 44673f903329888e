"""Stream key names: the one module that spells them.

Each producing service writes to ``{prefix}{service}.events``; a consumer group's dead letters
go to ``{prefix}dlq.{group}``. ``prefix`` comes from ``STREAM_PREFIX`` (the operator sets
``<marketplace>:``; empty locally).
"""

from __future__ import annotations


def stream_key(prefix: str, service: str) -> str:
    """Return the stream key a service publishes its events to."""
    return f"{prefix}{service}.events"


def dead_letter_key(prefix: str, group: str) -> str:
    """Return the dead-letter stream key of a consumer group."""
    return f"{prefix}dlq.{group}"
