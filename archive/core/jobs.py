"""The job queue: Huey, storing its queue in SQLite by default and in Redis when ARCHIVE_REDIS_URL is set,
so the embedded default and the scale-out path share one code path.

Domain modules declare jobs with :func:`job`; :func:`init_app` registers them on the app's Huey instance,
each run inside an application context. ``archive worker`` starts a consumer.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path

from flask import Flask, current_app
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab

logger = logging.getLogger(__name__)

_JOBS: dict[str, tuple[Callable, dict]] = {}
_PERIODIC: dict[str, tuple[Callable, dict]] = {}


def job(name: str, **options) -> Callable[[Callable], Callable]:
    """Declare a job (Huey task options: retries, retry_delay, retry_backoff, timeout...)."""

    def register(fn: Callable) -> Callable:
        _JOBS[name] = (fn, options)
        return fn

    return register


def periodic(name: str, **schedule) -> Callable[[Callable], Callable]:
    """Declare a periodic job run by the consumer on a crontab schedule (minute='*/5', ...)."""

    def register(fn: Callable) -> Callable:
        _PERIODIC[name] = (fn, schedule)
        return fn

    return register


def make_huey(app: Flask) -> Huey:
    """The Huey instance for this configuration: immediate (tests), Redis, or SQLite in the data dir."""
    if app.config.get("JOBS_IMMEDIATE"):
        if app.config.get("REDIS_URL"):
            # Tests in production mode: jobs run when queued, but go through the Redis storage.
            return RedisHuey(
                app.config.get("JOBS_QUEUE_NAME") or "archive",
                url=app.config["REDIS_URL"],
                immediate=True,
                immediate_use_memory=False,
            )
        return MemoryHuey("archive", immediate=True)
    if app.config.get("REDIS_URL"):
        # JOBS_QUEUE_NAME: the Redis keys' name, so that several archives (or test apps) share a server.
        return RedisHuey(app.config.get("JOBS_QUEUE_NAME") or "archive", url=app.config["REDIS_URL"])
    path = Path(app.config["DATA_DIR"]) / "queue.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("archive", filename=str(path))


def init_app(app: Flask) -> None:
    """Create the queue and register every declared job on it."""
    huey = make_huey(app)
    tasks = {}
    for name, (fn, options) in _JOBS.items():
        tasks[name] = huey.task(name=name, **options)(_in_app_context(app, fn))
    for name, (fn, schedule) in _PERIODIC.items():
        tasks[name] = huey.periodic_task(crontab(**schedule), name=name)(_in_app_context(app, fn))
    app.extensions["huey"] = huey
    app.extensions["jobs"] = tasks


#: Keyword argument that carries the id of the request that queued a job into the job's log records.
REQUEST_ID_KWARG = "_request_id"


def _in_app_context(app: Flask, fn: Callable) -> Callable:
    def run(*args, **kwargs):
        from archive.core.extensions import db
        from archive.core.observability import current_request_id

        request_id = kwargs.pop(REQUEST_ID_KWARG, None)
        token = current_request_id.set(request_id) if request_id else None
        with app.app_context():
            try:
                return fn(*args, **kwargs)
            finally:
                db.session.remove()
                if token is not None:
                    current_request_id.reset(token)

    run.__name__ = fn.__name__
    run.__doc__ = fn.__doc__
    return run


def enqueue(name: str, *args, **kwargs) -> None:
    """Put a job on the queue (with JOBS_IMMEDIATE, run it now). Call it after committing."""
    if current_app.config.get("JOBS_IMMEDIATE"):
        from archive.core.extensions import db

        # The job runs now, in its own session; end the caller's (read) transaction first, as a worker
        # would only ever see committed data. SQLite would otherwise refuse the caller's next write.
        db.session.commit()
    _submit(name, args, kwargs)


def enqueue_after_commit(name: str, *args, **kwargs) -> None:
    """Put a job on the queue from a session's ``after_commit`` hook. Unlike :func:`enqueue` it never
    commits: the session has just committed, and committing it again from its own hook is an error. With
    JOBS_IMMEDIATE the job still runs now, in an app context and a session of its own."""
    _submit(name, args, kwargs)


def _submit(name: str, args: tuple, kwargs: dict) -> None:
    from archive.core.observability import current_request_id

    request_id = current_request_id.get()
    if request_id:
        kwargs[REQUEST_ID_KWARG] = request_id
    current_app.extensions["jobs"][name](*args, **kwargs)


def huey_for(app: Flask) -> Huey:
    """The app's Huey instance."""
    return app.extensions["huey"]


def worker_identity() -> str:
    """'host:pid' of this process, recorded on the jobs it claims."""
    return f"{socket.gethostname()}:{os.getpid()}"


def is_local_worker_dead(identity: str | None) -> bool:
    """True when *identity* names a process on this host that no longer runs."""
    if not identity or ":" not in identity:
        return False
    host, _, pid = identity.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
