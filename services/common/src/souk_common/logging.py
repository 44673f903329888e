"""structlog configuration: one JSON object per line, with service, correlation and trace IDs.

Every line carries ``timestamp``, ``level``, ``service``, ``event``, ``correlation_id``,
``trace_id`` and ``span_id``. Values under keys that look like secrets (password, token,
authorization, card, ...) are replaced with ``[redacted]`` before rendering, so a careless
``log.info("login", password=...)`` never leaks; so are bearer tokens, JWTs, payment method
tokens (``pm_card_visa``) and card numbers inside strings.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog
from opentelemetry import trace

from souk_common.correlation import get_correlation_id

REDACTED = "[redacted]"
_SECRET_KEY = re.compile(
    r"pass(word|wd)?|secret|token|authorization|cookie|api[_-]?key|private|card|cvc|pan\b"
    r"|payment[_-]?method",
    re.IGNORECASE,
)
_SECRET_IN_TEXT = re.compile(
    r"(bearer\s+)[A-Za-z0-9._~+/=-]+|eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+"
    r"|(://[^:/@\s]+:)[^@\s]+(@)"
    # Payment method tokens (pm_card_visa, tok_...) and card numbers (13-19 digits, in the
    # usual groups of four); not a stream entry id such as 1732221234567-0.
    r"|\b(?:pm|tok|card)_[A-Za-z0-9_]{3,}|\b\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{1,7}\b(?!-)",
    re.IGNORECASE,
)
_service_name = "unknown"


def _scrub_text(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            return match.group(1) + REDACTED
        if match.group(2):
            return match.group(2) + REDACTED + match.group(3)
        return REDACTED

    return _SECRET_IN_TEXT.sub(replace, text)


def redact(value: Any, key: str = "") -> Any:
    """Return ``value`` with secrets replaced, recursing through mappings and sequences."""
    if key and _SECRET_KEY.search(key) and value not in (None, ""):
        return REDACTED
    if isinstance(value, Mapping):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return _scrub_text(value)
    return value


def _redact_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> Any:
    for key in list(event_dict):
        if key in ("timestamp", "level", "logger"):
            continue
        event_dict[key] = redact(event_dict[key], "" if key == "event" else key)
    return event_dict


def _add_context(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> Any:
    event_dict.setdefault("service", _service_name)
    event_dict.setdefault("correlation_id", get_correlation_id())
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict.setdefault("trace_id", format(span_context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(span_context.span_id, "016x"))
    else:
        event_dict.setdefault("trace_id", None)
        event_dict.setdefault("span_id", None)
    return event_dict


def configure_logging(
    service: str, level: str = "INFO", fmt: str = "json", stream: TextIO | None = None
) -> None:
    """Configure structlog and the standard library to emit Souk's log lines (stdout)."""
    global _service_name
    _service_name = service
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_context,
        structlog.processors.format_exc_info,
        _redact_secrets,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # uvicorn's access log repeats what the metrics middleware records; keep errors only.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    """Return a structlog logger; use module ``__name__`` as the name."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
