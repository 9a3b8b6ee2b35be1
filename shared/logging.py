"""structlog set-up for every process, including the stdlib loggers of FastStream and SQLAlchemy."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, Literal

import structlog

_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.stdlib.PositionalArgumentsFormatter(),
    structlog.stdlib.ExtraAdder(),
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.StackInfoRenderer(),
]


def configure_logging(
    level: str = "INFO",
    fmt: Literal["auto", "json", "console"] = "auto",
    service: str | None = None,
    stream: Any = None,
) -> None:
    """Route structlog and stdlib logging through one formatter: JSON lines, or console text on a TTY."""
    out = stream or sys.stderr
    use_console = fmt == "console" or (fmt == "auto" and out.isatty())
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=out.isatty())
        if use_console
        else structlog.processors.JSONRenderer()
    )
    final: list[Any] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if not use_console:
        # Frames without their locals, and few of them: a traceback with locals was ~20 KB a line.
        final.append(structlog.processors.ExceptionRenderer(
            structlog.tracebacks.ExceptionDictTransformer(show_locals=False, max_frames=8)
        ))
    final.append(renderer)
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(foreign_pre_chain=_SHARED, processors=final))
    handler.addFilter(RepeatFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # SQLAlchemy echoes every statement at INFO; keep it at WARNING unless asked for DEBUG.
    sql_level = logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING
    logging.getLogger("sqlalchemy").setLevel(sql_level)
    # Alembic announces every plugin it loads at INFO: noise on each start-up.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
    # httpx says every request at INFO: a line per webhook delivery and per page fetched from a source (and
    # a tenth of a delivery's CPU). Failures are recorded and said by the callers.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
    structlog.contextvars.clear_contextvars()
    if service:
        structlog.contextvars.bind_contextvars(service=service)


class RepeatFilter(logging.Filter):
    """Lets the same warning or error (logger and message) through once per `window_s`, then counts the rest.

    FastStream logs "Message fetch error" with a traceback every 5 s per subscriber while Redis is away;
    this keeps an outage to a line per state, not a line per retry.
    """

    def __init__(self, window_s: float = 60.0) -> None:
        super().__init__()
        self.window_s = window_s
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """True when the record should be written."""
        if record.levelno < logging.WARNING or not record.exc_info:
            return True
        key = (record.name, str(record.msg)[:200])
        now = time.monotonic()
        last, suppressed = self._last.get(key, (-self.window_s, 0))
        if now - last < self.window_s:
            self._last[key] = (last, suppressed + 1)
            return False
        if len(self._last) > 1000:  # bounded whatever the messages
            self._last.clear()
        self._last[key] = (now, 0)
        if suppressed:
            record.msg = f"{record.msg} (and {suppressed} more like it in the last {self.window_s:g} s)"
        return True


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger named like a stdlib one."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
