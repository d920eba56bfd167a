"""structlog configured once: console lines in development, JSON in production.
Standard-library logging (temporalio, sqlalchemy, alembic) is routed through the
same processors so every line carries the bound review_id / step / campaign."""

from __future__ import annotations

import logging
import sys

import structlog

_configured = False


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the moment of the line: a CLI
    runner or a test harness swaps it, and a handler holding the first one
    ends up writing to a closed file (each line then costs a printed
    'Logging error' traceback instead of the line)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_logging(fmt: str = "console", level: str = "INFO") -> None:
    global _configured
    if _configured:
        return
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),  # review_id / step passed as `extra` by the workflow logger
    ]
    # plain tracebacks: structlog's default Rich formatter renders every frame's
    # locals, which took seconds per traceback on a loaded machine, on the
    # service's event loop, and stalled the worker's workflow tasks behind it
    renderer = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = _StderrHandler()
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    _configured = True


def get_logger(name: str | None = None, **bound):
    return structlog.get_logger(name).bind(**bound)
