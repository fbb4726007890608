"""structlog JSON logs. They carry ids (request, tenant, user), never personal data."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import structlog


class StdoutLogger:
    """Writes each line to sys.stdout as it is at that moment (tests swap it), then flushes."""

    def msg(self, message: str) -> None:
        out = sys.stdout
        out.write(message + "\n")
        out.flush()

    info = debug = warning = warn = error = critical = exception = fatal = msg


def _stdout_logger(*_args: Any) -> StdoutLogger:
    return StdoutLogger()


class AccessLog:
    """One line per request. In JSON it is written directly, with the same keys structlog
    would give it: on a small page the general pipeline costs more than the page itself."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled and _settings.access_enabled
        self.direct = _settings.fmt == "json"
        self._log = structlog.get_logger("praxis.http")

    def request(self, method: str, path: str, status: int, ms: float) -> None:
        if not self.enabled:
            return
        if not self.direct:
            self._log.info("request", method=method, path=path, status=status, ms=ms)
            return
        line = {"method": method, "path": path, "status": status, "ms": ms}
        line.update(structlog.contextvars.get_contextvars())
        line["event"] = "request"
        line["level"] = "info"
        line["timestamp"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        out = sys.stdout
        out.write(json.dumps(line) + "\n")
        out.flush()


class _LogSettings:
    fmt = "json"
    access_enabled = True


_settings = _LogSettings()


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    _settings.fmt = fmt
    _settings.access_enabled = logging.getLevelName(level.upper()) <= logging.INFO
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=_stdout_logger,
        cache_logger_on_first_use=True,  # the access log writes a line per request
    )


def where_it_failed(exc: BaseException) -> dict[str, str]:
    """An error for the logs without its message or traceback text (they can quote personal
    data): its type and the innermost place it was raised, as module:line."""
    frame = exc.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    place = ""
    if frame is not None:
        code = frame.tb_frame.f_code
        place = f"{code.co_filename.rsplit('/', 1)[-1]}:{frame.tb_lineno} in {code.co_name}"
    return {"error": type(exc).__name__, "at": place}
