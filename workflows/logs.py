"""Structured logs: JSON lines in containers, a readable console on a terminal, secrets never printed.

Every line of a step carries the context bound with :func:`bound` (``run_id``, ``step``, ``trade_date``,
``dataset``, ``underlying``). Known secret values are scrubbed from every field, including rendered
tracebacks, and from the standard-library loggers (httpx, uvicorn, botocore) routed through the same chain.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import orjson
import structlog
from structlog.types import EventDict, Processor, WrappedLogger

REDACTED = "[REDACTED]"
_secrets: set[str] = set()


def add_secrets(values: Iterable[str]) -> None:
    """Register values (API keys, passwords) that must never appear in any output."""
    _secrets.update(v for v in values if v and len(v) >= 4)


def redact(text: str) -> str:
    """Return ``text`` with every registered secret replaced."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    if isinstance(value, BaseException):
        return redact(repr(value))
    return value


def _redact_processor(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    if not _secrets:
        return event_dict
    return {k: _scrub(v) for k, v in event_dict.items()}


def _orjson_dumps(obj: Any, default: Any = None) -> str:
    return orjson.dumps(obj, default=default or str).decode()


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _redact_processor,
    ]


def configure(
    fmt: Literal["auto", "json", "console"] = "auto",
    level: str = "info",
    secrets: Iterable[str] = (),
    stream: Any = None,
) -> None:
    """Set up structlog and the stdlib root logger once per process (safe to call again)."""
    add_secrets(secrets)
    stream = stream or sys.stderr
    on_tty = bool(getattr(stream, "isatty", lambda: False)())
    use_console = fmt == "console" or (fmt == "auto" and on_tty)
    renderer: Processor = (
        structlog.dev.ConsoleRenderer(colors=on_tty, exception_formatter=_plain)
        if use_console
        else structlog.processors.JSONRenderer(serializer=_orjson_dumps)
    )
    numeric = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_shared_processors(),
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # Chatty libraries: their request lines duplicate ours, and botocore's debug dumps headers.
    for name in ("httpx", "httpcore", "botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))


def _plain(sio: Any, exc_info: Any) -> None:
    structlog.dev.plain_traceback(sio, exc_info)


def get_logger(name: str = "smelt") -> Any:
    return structlog.stdlib.get_logger(name)


def bound(**context: Any) -> Any:
    """Attach context (run_id, step, trade_date, dataset, underlying) to every line logged inside the
    ``with`` block; the previous context comes back on exit. ``None`` values are left out."""
    return structlog.contextvars.bound_contextvars(**{k: v for k, v in context.items() if v is not None})
