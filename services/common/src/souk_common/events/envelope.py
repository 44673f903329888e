"""The CloudEvents envelope of every Redis Streams entry.

An entry's fields are the CloudEvents attribute names (``specversion``, ``id``, ``source``,
``type``, ``time``, ``datacontenttype``, ``data``) plus the extensions ``correlationid`` and
``traceparent`` (and ``tracestate`` when present). ``data`` is JSON text.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from opentelemetry.propagate import inject

from souk_common.correlation import get_correlation_id

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"


class MalformedEventError(ValueError):
    """A stream entry is not a valid Souk CloudEvent."""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@dataclass(frozen=True, slots=True)
class CloudEvent:
    """One event: its CloudEvents attributes, JSON data and propagation extensions."""

    type: str
    source: str
    data: Mapping[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat().replace("+00:00", "Z"))
    correlationid: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None

    @classmethod
    def create(cls, type: str, source: str, data: Mapping[str, Any]) -> CloudEvent:
        """Create an event carrying the current correlation ID and trace context."""
        carrier: dict[str, str] = {}
        inject(carrier)
        return cls(
            type=type,
            source=source,
            data=data,
            correlationid=get_correlation_id(),
            traceparent=carrier.get("traceparent"),
            tracestate=carrier.get("tracestate"),
        )

    def to_fields(self) -> dict[str, str]:
        """Return the stream entry fields for ``XADD``."""
        fields = {
            "specversion": SPEC_VERSION,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time,
            "datacontenttype": CONTENT_TYPE,
            "data": orjson.dumps(self.data).decode(),
        }
        for name in ("correlationid", "traceparent", "tracestate"):
            value = getattr(self, name)
            if value:
                fields[name] = value
        return fields

    @classmethod
    def from_fields(cls, raw: Mapping[bytes, bytes] | Mapping[str, str]) -> CloudEvent:
        """Parse stream entry fields; raises :class:`MalformedEventError` when invalid."""
        fields = {_text(k): _text(v) for k, v in raw.items()}
        missing = [n for n in ("specversion", "id", "source", "type", "data") if n not in fields]
        if missing:
            raise MalformedEventError(f"missing CloudEvents attributes: {', '.join(missing)}")
        if fields["specversion"] != SPEC_VERSION:
            raise MalformedEventError(f"unsupported specversion {fields['specversion']!r}")
        try:
            data = orjson.loads(fields["data"])
        except orjson.JSONDecodeError as error:
            raise MalformedEventError(f"data is not JSON: {error}") from None
        if not isinstance(data, dict):
            raise MalformedEventError("data must be a JSON object")
        return cls(
            type=fields["type"],
            source=fields["source"],
            data=data,
            id=fields["id"],
            time=fields.get("time", ""),
            correlationid=fields.get("correlationid"),
            traceparent=fields.get("traceparent"),
            tracestate=fields.get("tracestate"),
        )

    def trace_carrier(self) -> dict[str, str]:
        """Return the W3C trace context carried by the event, for ``extract``."""
        carrier = {}
        if self.traceparent:
            carrier["traceparent"] = self.traceparent
        if self.tracestate:
            carrier["tracestate"] = self.tracestate
        return carrier
