"""Structured logs: a request id on every record, and one JSON object per line in production.

LOG_FORMAT ("text" or "json") and LOG_LEVEL choose the output of the root logger. Every request gets an
id (the incoming X-Request-ID when it is well-formed, else a new one), returned in the X-Request-ID
response header, attached to every log record emitted while the request runs and to the jobs it
queues, and one "request" line is logged when the response is ready (method, path, status, duration,
user, client address). The worker logs the same way, with the id of the request that queued the job.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, g, request

logger = logging.getLogger("archive.request")

REQUEST_ID_HEADER = "X-Request-ID"
#: An incoming request id is kept when it is made of these characters and not longer than 128.
_SAFE_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")

#: The request id (or the id of the request that queued a job) of what this thread or task is doing.
current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

#: Attributes of every LogRecord; anything else on a record came from ``extra=`` and is logged too.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "request_id"}
_HANDLER_MARK = "_archive_handler"


def clean_request_id(value: str | None) -> str | None:
    """*value* when it is a usable request id (bounded length, safe characters), else None."""
    if value and _SAFE_ID.fullmatch(value):
        return value
    return None


def new_request_id() -> str:
    """A fresh random request id."""
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Put the current request id (or None) on every record as ``request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The development format, with the request id when there is one."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return super().format(record)


def configure_logging(fmt: str = "text", level: str = "INFO", stream=None) -> logging.Handler:
    """Send the root logger's records to *stream* (stderr) in *fmt*; replaces the handler set before."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler


def init_app(app: Flask) -> None:
    """Request ids and request logging for *app*; configures the root logger outside tests
    (LOG_FORMAT "text" or "json", LOG_LEVEL)."""
    fmt = str(app.config.get("LOG_FORMAT") or "text").lower()
    if fmt not in ("text", "json"):
        raise RuntimeError("ARCHIVE_LOG_FORMAT must be 'text' or 'json'.")
    app.config["LOG_FORMAT"] = fmt
    # The test suite keeps pytest's log capture; everything else (gunicorn, the worker, the CLI) logs
    # to stderr in the configured format.
    if not app.testing:
        configure_logging(fmt, str(app.config.get("LOG_LEVEL") or "INFO"))

    @app.before_request
    def _start_request():
        request_id = clean_request_id(request.headers.get(REQUEST_ID_HEADER)) or new_request_id()
        g.request_id = request_id
        g.request_started = time.monotonic()
        g.request_id_token = current_request_id.set(request_id)

    @app.after_request
    def _log_request(response):
        request_id = g.get("request_id")
        if request_id is None:  # a response made before our before_request ran
            return response
        response.headers[REQUEST_ID_HEADER] = request_id
        started = g.get("request_started")
        duration = round((time.monotonic() - started) * 1000, 1) if started else None
        # The path as the visitor asked for it (the language prefix lives in SCRIPT_NAME); never the
        # query string, which may carry tokens.
        path = request.script_root + request.path
        logger.info(
            "%s %s %s",
            request.method,
            path,
            response.status_code,
            extra={
                "method": request.method,
                "path": path,
                "status": response.status_code,
                "duration_ms": duration,
                "user_id": _user_id(),
                "remote_addr": request.remote_addr,
            },
        )
        return response

    @app.teardown_request
    def _end_request(_exc):
        token = g.pop("request_id_token", None)
        if token is not None:
            try:
                current_request_id.reset(token)
            except ValueError:  # set in another context (should not happen); just clear it
                current_request_id.set(None)


def _user_id() -> int | None:
    from flask_login import current_user

    try:
        # The account's id, never get_id(): that is the session token of the sign-in.
        return current_user.id if current_user.is_authenticated else None
    except Exception:  # noqa: BLE001 - logging must never break a response
        return None
