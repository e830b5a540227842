"""Health endpoints for load balancers and process supervisors.

``/healthz`` answers as long as the process serves requests (liveness: no dependency is touched).
``/readyz`` checks what a request needs: the database, the job queue, the search backend and the
storage directories; 503 names the failing checks. Neither sets a cookie nor may be cached; the
failure reasons are short fixed words, never exception texts (they could carry hosts or passwords).
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, json

from archive.core.i18n import language_neutral

logger = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

NO_STORE = "no-store"


def _json(payload: dict, status: int) -> Response:
    response = Response(json.dumps(payload), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = NO_STORE
    return response


@bp.get("/healthz")
@language_neutral
def healthz():
    """Liveness: the process answers."""
    return _json({"status": "ok"}, 200)


@bp.get("/readyz")
@language_neutral
def readyz():
    """Readiness: database, queue, search and storage all usable (200), else 503 naming the failures."""
    checks: dict[str, dict] = {}
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            check()
            result = {"ok": True}
        except CheckFailed as exc:
            result = {"ok": False, "reason": exc.reason}
        except Exception:  # noqa: BLE001 - any failure makes the instance not ready
            logger.exception("readiness check %s failed", name)
            result = {"ok": False, "reason": "error"}
        result["ms"] = round((time.monotonic() - started) * 1000, 1)
        checks[name] = result
    failing = [name for name, result in checks.items() if not result["ok"]]
    if failing:
        logger.warning("not ready: %s", ", ".join(failing))
    payload = {"status": "fail" if failing else "ok", "failing": failing, "checks": checks}
    return _json(payload, 503 if failing else 200)


class CheckFailed(Exception):
    """A readiness check failed for a known reason (a short fixed word, safe to show)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def check_database() -> None:
    """SELECT 1 through the request's session (a connection of the pool, released at teardown)."""
    import sqlalchemy as sa

    from archive.core.extensions import db

    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        raise CheckFailed("unreachable") from None


def check_queue() -> None:
    """Redis answers PING, or the SQLite queue file can be written."""
    huey = current_app.extensions["huey"]
    storage = huey.storage
    conn = getattr(storage, "conn", None)
    if conn is not None and hasattr(conn, "ping"):  # RedisStorage
        import redis

        try:
            conn.ping()
        except redis.RedisError:
            raise CheckFailed("unreachable") from None
        return
    filename = getattr(storage, "filename", None)
    if filename:  # SqliteStorage
        path = Path(filename)
        if not (os.access(path, os.W_OK) if path.exists() else os.access(path.parent, os.W_OK)):
            raise CheckFailed("not_writable")
        return
    # MemoryHuey (tests): nothing outside the process to check.


def check_search() -> None:
    """The configured backend opens and counts its documents."""
    from archive.search.service import get_backend

    backend = get_backend()
    try:
        backend.document_count()
    finally:
        if current_app.config.get("SEARCH_BACKEND") == "postgresql":
            from archive.core.extensions import db

            db.session.rollback()


def storage_dirs() -> dict[str, Path]:
    """The directories the archive writes to: data, originals, and the replica when configured."""
    data = Path(current_app.config["DATA_DIR"])
    dirs = {"data": data, "originals": data / "originals"}
    replica = current_app.config.get("REPLICA_DIR")
    if replica:
        dirs["replica"] = Path(replica)
    return dirs


def check_storage() -> None:
    """Every storage directory exists and a file can be created in it."""
    for name, path in storage_dirs().items():
        if not path.is_dir():
            raise CheckFailed(f"{name}_missing")
        probe = path / f".ready-{uuid.uuid4().hex}"
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError:
            raise CheckFailed(f"{name}_not_writable") from None


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "queue": check_queue,
    "search": check_search,
    "storage": check_storage,
}


def init_app(app: Flask) -> None:
    """Register the health endpoints."""
    app.register_blueprint(bp)
