"""Moving a stream entry that cannot be handled to its group's dead-letter stream.

The dead-letter entry keeps the original fields and adds ``dlq_original_stream``,
``dlq_original_id``, ``dlq_error``, ``dlq_deliveries`` and ``dlq_group``, so an operator can
inspect it and ``XADD`` it back to the original stream once the cause is fixed. The ``XADD``
and the ``XACK`` of the original run in one ``MULTI``/``EXEC``: the entry is never both lost
and acknowledged, nor dead-lettered and still pending.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from redis.asyncio import Redis

from souk_common.logging import redact
from souk_common.metrics import STREAM_DEAD_LETTERS

ERROR_LIMIT = 500


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One entry on its way to the dead-letter stream, with why it got there."""

    stream: str
    entry_id: str
    fields: Mapping[bytes, bytes] | Mapping[str, str]
    error: str
    deliveries: int


def dead_letter_fields(letter: DeadLetter, group: str) -> dict[str, str]:
    """Return the fields of the dead-letter entry for ``letter``."""
    fields = {_text(k): _text(v) for k, v in letter.fields.items()}
    fields.update(
        dlq_original_stream=letter.stream,
        dlq_original_id=letter.entry_id,
        dlq_error=str(redact(letter.error))[:ERROR_LIMIT],  # no tokens or passwords in URLs
        dlq_deliveries=str(letter.deliveries),
        dlq_group=group,
    )
    return fields


async def move_to_dead_letter(
    redis: Redis, letter: DeadLetter, *, group: str, dead_letter_stream: str, max_length: int
) -> None:
    """``XADD`` ``letter`` to the dead-letter stream and ``XACK`` the original atomically."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.xadd(
            dead_letter_stream,
            dead_letter_fields(letter, group),  # type: ignore[arg-type]
            maxlen=max_length,
            approximate=True,
        )
        pipe.xack(letter.stream, group, letter.entry_id)
        await pipe.execute()
    STREAM_DEAD_LETTERS.labels(letter.stream, group).inc()
