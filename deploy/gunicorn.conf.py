"""gunicorn settings for the archive (``gunicorn -c deploy/gunicorn.conf.py 'archive:create_app()'``).

Everything comes from the environment, like the archive's own settings:
ARCHIVE_BIND (127.0.0.1:8000), ARCHIVE_WEB_WORKERS (2 x CPUs + 1, at most 8), ARCHIVE_WEB_THREADS (4),
ARCHIVE_WEB_TIMEOUT (120 s), ARCHIVE_LOG_LEVEL (INFO), ARCHIVE_LOG_FORMAT (json).

No ``preload_app``: each worker builds its own application, so no database connection, Redis pool or
open index is ever shared across a fork; the cost is a few seconds of start-up and some memory.
The archive logs every request itself (with its request id), so gunicorn's access log is off, and
gunicorn's own messages are written as JSON lines like the application's.
"""

import multiprocessing
import os

bind = os.environ.get("ARCHIVE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("ARCHIVE_WEB_WORKERS") or min(2 * multiprocessing.cpu_count() + 1, 8))
# Threads let one worker wait on the database or a slow client while another request runs; nginx
# buffers request bodies (uploads) and responses, so slow mobile connections do not hold a thread.
worker_class = "gthread"
threads = int(os.environ.get("ARCHIVE_WEB_THREADS") or 4)
timeout = int(os.environ.get("ARCHIVE_WEB_TIMEOUT") or 120)
graceful_timeout = 30
keepalive = 5
# Restart workers now and then, so that slow leaks (image libraries) never accumulate.
max_requests = 2000
max_requests_jitter = 200
preload_app = False
forwarded_allow_ips = os.environ.get("ARCHIVE_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None
loglevel = os.environ.get("ARCHIVE_LOG_LEVEL", "INFO").lower()

_json = os.environ.get("ARCHIVE_LOG_FORMAT", "json") == "json"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "archive": {"()": "archive.core.observability.JsonFormatter"}
        if _json
        else {"()": "archive.core.observability.TextFormatter"},
    },
    "filters": {"request_id": {"()": "archive.core.observability.RequestIdFilter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "archive",
            "filters": ["request_id"],
        }
    },
    # The application puts its own handler on the root logger (archive.core.observability).
    "root": {"level": loglevel.upper(), "handlers": []},
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
}
