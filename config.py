"""Configuration of the heritage archive.

Every setting is documented where it is defined and can be overridden from the environment, so a
deployment is configured without editing files. `Config` is the embedded default (SQLite and files
under one data directory), `TestConfig` is used by the test suite, `ProductionConfig` refuses to start
with unsafe defaults.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

#: The secret key used when none is configured. Good enough on a laptop; refused in production.
DEFAULT_SECRET_KEY = "dev-only-not-secret"


def _shipped_languages() -> list[str]:
    """vi first, en, then any other language whose catalog is in archive/translations."""
    found = sorted(
        p.parent.parent.name for p in (BASE_DIR / "archive" / "translations").glob("*/LC_MESSAGES/*.po")
    )
    return ["vi", "en", *(code for code in found if code not in ("vi", "en"))]


def _env(name: str, default: str | None = None) -> str | None:
    """Read a setting from the environment, treating an empty value as unset."""
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    """Read a boolean setting (1/true/yes/on) from the environment."""
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    """Read an integer setting from the environment."""
    value = _env(name)
    return int(value) if value is not None else default


class Config:
    """Embedded default: one machine, SQLite, files under ARCHIVE_DATA_DIR."""

    #: Directory that holds the SQLite database, media originals and derivatives. (ARCHIVE_DATA_DIR)
    DATA_DIR: str = _env("ARCHIVE_DATA_DIR", str(BASE_DIR / "instance" / "data"))

    #: SQLAlchemy database URL; SQLite file in DATA_DIR unless set. (ARCHIVE_DATABASE_URL)
    SQLALCHEMY_DATABASE_URI: str = _env(
        "ARCHIVE_DATABASE_URL", "sqlite:///" + str(Path(DATA_DIR) / "archive.sqlite3")
    )
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    #: Redis URL for the job queue and caches at scale; empty means the embedded default. (ARCHIVE_REDIS_URL)
    REDIS_URL: str | None = _env("ARCHIVE_REDIS_URL")

    #: Flask's secret key for sessions and CSRF tokens. (SECRET_KEY)
    SECRET_KEY: str = _env("SECRET_KEY", DEFAULT_SECRET_KEY)

    #: Interface languages, the first one the default: Vietnamese, English (the language of the source
    #: strings) and every other language that has a catalog in archive/translations, so adding a language
    #: means adding its catalog. (ARCHIVE_LANGUAGES, comma separated, to choose fewer)
    LANGUAGES: list[str] = (_env("ARCHIVE_LANGUAGES") or ",".join(_shipped_languages())).split(",")
    BABEL_DEFAULT_LOCALE: str = LANGUAGES[0]
    BABEL_DEFAULT_TIMEZONE: str = _env("ARCHIVE_TIMEZONE", "Asia/Ho_Chi_Minh")
    BABEL_TRANSLATION_DIRECTORIES: str = str(BASE_DIR / "archive" / "translations")

    #: Records per page in public listings. (ARCHIVE_PAGE_SIZE)
    PAGE_SIZE: int = _env_int("ARCHIVE_PAGE_SIZE", 20)

    #: Records per sitemap file; above it /sitemap.xml becomes a sitemap index. (ARCHIVE_SITEMAP_PAGE_SIZE)
    SITEMAP_PAGE_SIZE: int = _env_int("ARCHIVE_SITEMAP_PAGE_SIZE", 10000)

    #: Seconds shared caches may keep a browse page for anonymous visitors. (ARCHIVE_BROWSE_CACHE_SECONDS)
    BROWSE_CACHE_SECONDS: int = _env_int("ARCHIVE_BROWSE_CACHE_SECONDS", 300)

    #: Most records in one search export (/search/export.<fmt>); the file says when the list was cut.
    #: (ARCHIVE_EXPORT_LIMIT)
    EXPORT_LIMIT: int = _env_int("ARCHIVE_EXPORT_LIMIT", 1000)

    #: OAI-PMH: the repository's contact address (ARCHIVE_OAI_ADMIN_EMAIL; else MAIL_FROM), records
    #: per list page (ARCHIVE_OAI_PAGE_SIZE) and seconds a resumption token stays valid
    #: (ARCHIVE_OAI_TOKEN_LIFETIME).
    OAI_ADMIN_EMAIL: str | None = _env("ARCHIVE_OAI_ADMIN_EMAIL")
    OAI_PAGE_SIZE: int = _env_int("ARCHIVE_OAI_PAGE_SIZE", 100)
    OAI_TOKEN_LIFETIME: int = _env_int("ARCHIVE_OAI_TOKEN_LIFETIME", 86400)

    #: Open datasets: the largest table upload in bytes (ARCHIVE_DATASET_MAX_UPLOAD_BYTES), the most rows
    #: (ARCHIVE_DATASET_MAX_ROWS) and columns (ARCHIVE_DATASET_MAX_COLUMNS) a table may have, rows per
    #: preview page (ARCHIVE_DATASET_PAGE_SIZE), and the hour (Vietnam time, 0-23) at which the worker
    #: regenerates the datasets computed from the archive (ARCHIVE_DATASET_REFRESH_HOUR).
    DATASET_MAX_UPLOAD_BYTES: int = _env_int("ARCHIVE_DATASET_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
    DATASET_MAX_ROWS: int = _env_int("ARCHIVE_DATASET_MAX_ROWS", 200_000)
    DATASET_MAX_COLUMNS: int = _env_int("ARCHIVE_DATASET_MAX_COLUMNS", 200)
    DATASET_PAGE_SIZE: int = _env_int("ARCHIVE_DATASET_PAGE_SIZE", 25)
    DATASET_REFRESH_HOUR: int = _env_int("ARCHIVE_DATASET_REFRESH_HOUR", 2)
    #: Seconds after a media file becomes ready before the generated datasets are refreshed (one refresh
    #: per burst; 0 leaves it to the daily job). (ARCHIVE_DATASET_REFRESH_DELAY)
    DATASET_REFRESH_DELAY: int = _env_int("ARCHIVE_DATASET_REFRESH_DELAY", 300)

    #: JSON API rate limits (Flask-Limiter syntax): reads per client IP or token, writes per token;
    #: Redis holds the counters when ARCHIVE_REDIS_URL is set.
    #: (ARCHIVE_API_READ_RATE_LIMIT, ARCHIVE_API_WRITE_RATE_LIMIT)
    API_READ_RATE_LIMIT: str = _env("ARCHIVE_API_READ_RATE_LIMIT", "300 per minute") or "300 per minute"
    API_WRITE_RATE_LIMIT: str = _env("ARCHIVE_API_WRITE_RATE_LIMIT", "60 per minute") or "60 per minute"

    #: Largest CSV file accepted for import, in bytes. (ARCHIVE_MAX_IMPORT_BYTES)
    MAX_IMPORT_BYTES: int = _env_int("ARCHIVE_MAX_IMPORT_BYTES", 20 * 1024 * 1024)

    #: Largest request body accepted by the web server, in bytes. (ARCHIVE_MAX_CONTENT_LENGTH)
    MAX_CONTENT_LENGTH: int = _env_int("ARCHIVE_MAX_CONTENT_LENGTH", 2 * 1024 * 1024 * 1024)

    #: Bulk import on the web (a CSV of records with a ZIP or a folder of media): the largest bundle
    #: accepted, in bytes: the ZIP file itself, and the total size of the files it expands to or of the
    #: folder's files (MAX_CONTENT_LENGTH also bounds the request). (ARCHIVE_BULK_IMPORT_MAX_BYTES)
    BULK_IMPORT_MAX_BYTES: int = _env_int("ARCHIVE_BULK_IMPORT_MAX_BYTES", 2 * 1024**3)
    #: The most entries a bulk-import ZIP may hold, or files a folder may send. A request with more
    #: than about 1,000 files is refused by the web server before it reaches the archive.
    #: (ARCHIVE_BULK_IMPORT_MAX_FILES)
    BULK_IMPORT_MAX_FILES: int = _env_int("ARCHIVE_BULK_IMPORT_MAX_FILES", 500)
    #: Hours a checked but unconfirmed bulk import stays staged before it is deleted (its dry-run report
    #: stops working then). (ARCHIVE_BULK_IMPORT_STAGING_HOURS)
    BULK_IMPORT_STAGING_HOURS: int = _env_int("ARCHIVE_BULK_IMPORT_STAGING_HOURS", 24)

    #: Public base URL used in identifiers inside exported metadata. (ARCHIVE_BASE_URL)
    BASE_URL: str = (_env("ARCHIVE_BASE_URL", "http://127.0.0.1:5000") or "").rstrip("/")

    #: Name of the institution that runs this archive, used as publisher. (ARCHIVE_PUBLISHER)
    PUBLISHER: str = _env("ARCHIVE_PUBLISHER", "Lưu trữ Di sản Lễ hội các Dân tộc thiểu số Việt Nam")

    #: ffprobe / ffmpeg binaries. (ARCHIVE_FFPROBE, ARCHIVE_FFMPEG)
    FFPROBE: str = _env("ARCHIVE_FFPROBE", "ffprobe")
    FFMPEG: str = _env("ARCHIVE_FFMPEG", "ffmpeg")

    #: Allow SQLite in ProductionConfig (a single-machine deployment). (ARCHIVE_ALLOW_SQLITE)
    ALLOW_SQLITE: bool = _env_bool("ARCHIVE_ALLOW_SQLITE", False)

    #: Allow the default secret key in ProductionConfig. Never do this on a public server.
    #: (ARCHIVE_ALLOW_DEFAULT_SECRET)
    ALLOW_DEFAULT_SECRET: bool = _env_bool("ARCHIVE_ALLOW_DEFAULT_SECRET", False)

    #: Largest media original accepted, in bytes. (ARCHIVE_MAX_MEDIA_BYTES)
    MAX_MEDIA_BYTES: int = _env_int("ARCHIVE_MAX_MEDIA_BYTES", 4 * 1024**3)

    #: Hours a resumable (tus) upload stays open after the last bytes it received; past that it is refused
    #: (410 Gone) and the periodic clean-up job removes it with its partial file. Its largest size is
    #: MAX_MEDIA_BYTES. (ARCHIVE_TUS_EXPIRY_HOURS)
    TUS_EXPIRY_HOURS: int = _env_int("ARCHIVE_TUS_EXPIRY_HOURS", 24)

    #: Unfinished resumable uploads one person may have open at once; one more is refused with
    #: 429 Too Many Requests. (ARCHIVE_TUS_MAX_OPEN_PER_USER)
    TUS_MAX_OPEN_PER_USER: int = _env_int("ARCHIVE_TUS_MAX_OPEN_PER_USER", 20)

    #: Largest image accepted, in pixels (width × height); larger ones are refused as pixel floods.
    #: (ARCHIVE_MAX_IMAGE_PIXELS)
    MAX_IMAGE_PIXELS: int = _env_int("ARCHIVE_MAX_IMAGE_PIXELS", 250_000_000)

    #: Longest audio or video accepted, in seconds. (ARCHIVE_MAX_MEDIA_SECONDS)
    MAX_MEDIA_SECONDS: int = _env_int("ARCHIVE_MAX_MEDIA_SECONDS", 6 * 3600)

    #: Seconds ffprobe may spend reading an upload before it is refused. (ARCHIVE_PROBE_TIMEOUT)
    PROBE_TIMEOUT: int = _env_int("ARCHIVE_PROBE_TIMEOUT", 30)

    #: Seconds one ffmpeg rendition run may take. (ARCHIVE_RENDITION_TIMEOUT)
    RENDITION_TIMEOUT: int = _env_int("ARCHIVE_RENDITION_TIMEOUT", 4 * 3600)

    #: Address-space limit of every ffprobe/ffmpeg process, in bytes. (ARCHIVE_TOOL_MEMORY_LIMIT)
    TOOL_MEMORY_LIMIT: int = _env_int("ARCHIVE_TOOL_MEMORY_LIMIT", 2 * 1024**3)

    #: Largest WebVTT captions file, in bytes. (ARCHIVE_MAX_CAPTION_BYTES)
    MAX_CAPTION_BYTES: int = _env_int("ARCHIVE_MAX_CAPTION_BYTES", 2_000_000)

    #: Seconds a worker's claim on a job lasts before another worker may take it over.
    #: (ARCHIVE_JOB_LEASE_SECONDS)
    JOB_LEASE_SECONDS: int = _env_int("ARCHIVE_JOB_LEASE_SECONDS", 4 * 3600)

    #: Seconds after which a pending job that never ran is queued again. (ARCHIVE_JOB_REQUEUE_SECONDS)
    JOB_REQUEUE_SECONDS: int = _env_int("ARCHIVE_JOB_REQUEUE_SECONDS", 600)

    #: Run jobs synchronously when queued (tests only).
    JOBS_IMMEDIATE: bool = False

    #: Worker threads of ``archive worker``. (ARCHIVE_WORKERS)
    WORKERS: int = _env_int("ARCHIVE_WORKERS", 2)

    #: IIIF Image API limits on the size of any image served (maxWidth, maxHeight, maxArea).
    #: (ARCHIVE_IIIF_MAX_WIDTH, ARCHIVE_IIIF_MAX_HEIGHT, ARCHIVE_IIIF_MAX_AREA)
    #: They bound the memory one request may use (the region is assembled at most at twice the output
    #: scale); the original stays downloadable in full by those allowed to.
    IIIF_MAX_WIDTH: int = _env_int("ARCHIVE_IIIF_MAX_WIDTH", 4096)
    IIIF_MAX_HEIGHT: int = _env_int("ARCHIVE_IIIF_MAX_HEIGHT", 4096)
    IIIF_MAX_AREA: int = _env_int("ARCHIVE_IIIF_MAX_AREA", 8_388_608)

    #: Disk budget of the cache of rendered IIIF images, in bytes. (ARCHIVE_IIIF_CACHE_BYTES)
    IIIF_CACHE_BYTES: int = _env_int("ARCHIVE_IIIF_CACHE_BYTES", 1024**3)

    #: Search backend: "whoosh" (embedded, one machine) or "postgresql" (several web servers; needs
    #: ARCHIVE_DATABASE_URL on PostgreSQL). (ARCHIVE_SEARCH_BACKEND)
    SEARCH_BACKEND: str = _env("ARCHIVE_SEARCH_BACKEND", "whoosh")

    #: Directory of the Whoosh index; <DATA_DIR>/search when unset. (ARCHIVE_SEARCH_DIR)
    SEARCH_DIR: str | None = _env("ARCHIVE_SEARCH_DIR")

    # --- Production stack (docs/deploy.md) -----------------------------------------------------------

    #: Log output: "text" (development) or "json", one object per line with the request id (the default
    #: of ProductionConfig). (ARCHIVE_LOG_FORMAT)
    LOG_FORMAT: str = _env("ARCHIVE_LOG_FORMAT", "text") or "text"
    #: Level of the root logger. (ARCHIVE_LOG_LEVEL)
    LOG_LEVEL: str = _env("ARCHIVE_LOG_LEVEL", "INFO") or "INFO"
    #: nginx internal location that maps to DATA_DIR, e.g. "/_protected": files are then answered with
    #: X-Accel-Redirect after the access check and nginx sends the bytes. Empty: the app sends them.
    #: (ARCHIVE_ACCEL_REDIRECT_PREFIX)
    ACCEL_REDIRECT_PREFIX: str | None = _env("ARCHIVE_ACCEL_REDIRECT_PREFIX")
    #: Name of the job queue (its Redis keys), so several archives can share one Redis server.
    #: (ARCHIVE_JOBS_QUEUE_NAME)
    JOBS_QUEUE_NAME: str = _env("ARCHIVE_JOBS_QUEUE_NAME", "archive") or "archive"

    # --- Preservation (archive/preservation, docs/preservation.md) ---------------------------------------

    #: Directory of the second copy of the originals, captions and dataset tables: another disk or mount.
    #: Empty: no second copy. (ARCHIVE_REPLICA_DIR)
    REPLICA_DIR: str = _env("ARCHIVE_REPLICA_DIR", "") or ""
    #: Every stored file is re-verified by the hourly fixity job within this many days; 0 turns the
    #: schedule off (``archive fixity`` still works). (ARCHIVE_FIXITY_CYCLE_DAYS)
    FIXITY_CYCLE_DAYS: float = float(_env("ARCHIVE_FIXITY_CYCLE_DAYS", "30") or 30)
    #: The scheduled fixity job repairs a damaged file from the good copy (or rebuilds a damaged
    #: derivative) instead of only reporting it. (ARCHIVE_FIXITY_AUTO_REPAIR)
    FIXITY_AUTO_REPAIR: bool = _env_bool("ARCHIVE_FIXITY_AUTO_REPAIR", False)
    #: Minutes an unreferenced file in the originals store or incoming/, or an orphan derivative, is kept
    #: before the recovery sweep (``archive recover``, the worker's start, the hourly job) removes it; longer
    #: than the longest upload or import transaction. (ARCHIVE_ORPHAN_GRACE_MINUTES)
    ORPHAN_GRACE_MINUTES: float = float(_env("ARCHIVE_ORPHAN_GRACE_MINUTES", "60") or 60)

    # --- Accounts and sign-in -------------------------------------------------------------------------

    #: Send the session and remember-me cookies over HTTPS only. Off by default because the development
    #: server speaks plain HTTP; on in ProductionConfig. (ARCHIVE_SECURE_COOKIES)
    SESSION_COOKIE_SECURE: bool = _env_bool("ARCHIVE_SECURE_COOKIES", False)
    #: Scripts never read the session cookie; it is not sent with cross-site sub-requests or forms.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    #: A signed-in session ends at the latest this long after it was last written (sign-in, messages).
    #: (ARCHIVE_SESSION_HOURS)
    PERMANENT_SESSION_LIFETIME = dt.timedelta(hours=_env_int("ARCHIVE_SESSION_HOURS", 12))
    #: The same rules for Flask-Login's remember-me cookie, and how long it lasts. (ARCHIVE_SECURE_COOKIES,
    #: ARCHIVE_REMEMBER_DAYS)
    REMEMBER_COOKIE_SECURE: bool = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = dt.timedelta(days=_env_int("ARCHIVE_REMEMBER_DAYS", 14))

    #: Failed sign-ins for one email address within the window after which that address is locked until
    #: LOGIN_WINDOW_MINUTES after its last failure. (ARCHIVE_LOGIN_MAX_FAILURES)
    LOGIN_MAX_FAILURES: int = _env_int("ARCHIVE_LOGIN_MAX_FAILURES", 5)
    #: Length of the throttling window and of a lock-out, in minutes. (ARCHIVE_LOGIN_WINDOW_MINUTES)
    LOGIN_WINDOW_MINUTES: int = _env_int("ARCHIVE_LOGIN_WINDOW_MINUTES", 15)
    #: Failed sign-ins from one IP address within the window after which it gets 429 Too Many Requests.
    #: Behind a reverse proxy, set PROXY_HOPS so that the client address is the visitor's.
    #: (ARCHIVE_LOGIN_MAX_FAILURES_PER_IP)
    LOGIN_MAX_FAILURES_PER_IP: int = _env_int("ARCHIVE_LOGIN_MAX_FAILURES_PER_IP", 30)
    #: Number of reverse proxies in front of the app that set X-Forwarded-For/-Proto/-Host (werkzeug's
    #: ProxyFix trusts that many hops). 0: the headers are ignored, so a client cannot forge its address
    #: to dodge throttling. (ARCHIVE_PROXY_HOPS)
    PROXY_HOPS: int = _env_int("ARCHIVE_PROXY_HOPS", 0)

    #: Minutes a password-reset link stays valid. (ARCHIVE_PASSWORD_RESET_MINUTES)
    PASSWORD_RESET_MINUTES: int = _env_int("ARCHIVE_PASSWORD_RESET_MINUTES", 60)
    #: Password-reset links mailed per account and hour at most; further requests are silently dropped.
    #: (ARCHIVE_PASSWORD_RESET_MAX_PER_HOUR)
    PASSWORD_RESET_MAX_PER_HOUR: int = _env_int("ARCHIVE_PASSWORD_RESET_MAX_PER_HOUR", 3)
    #: Days an invitation link stays valid. (ARCHIVE_INVITATION_DAYS)
    INVITATION_DAYS: int = _env_int("ARCHIVE_INVITATION_DAYS", 7)

    # --- Outgoing mail (password resets, invitations) ----------------------------------------------------

    #: "log": write every message, links included, to the ``archive.mail`` logger (development);
    #: "smtp": send through MAIL_SERVER. (ARCHIVE_MAIL_BACKEND)
    MAIL_BACKEND: str = _env("ARCHIVE_MAIL_BACKEND", "log")
    #: SMTP server, port, account and whether to switch to TLS with STARTTLS. (ARCHIVE_MAIL_SERVER,
    #: ARCHIVE_MAIL_PORT, ARCHIVE_MAIL_USERNAME, ARCHIVE_MAIL_PASSWORD, ARCHIVE_MAIL_USE_TLS)
    MAIL_SERVER: str = _env("ARCHIVE_MAIL_SERVER", "localhost")
    MAIL_PORT: int = _env_int("ARCHIVE_MAIL_PORT", 587)
    MAIL_USERNAME: str | None = _env("ARCHIVE_MAIL_USERNAME")
    MAIL_PASSWORD: str | None = _env("ARCHIVE_MAIL_PASSWORD")
    MAIL_USE_TLS: bool = _env_bool("ARCHIVE_MAIL_USE_TLS", True)
    #: Sender address of the archive's mail. (ARCHIVE_MAIL_FROM)
    MAIL_FROM: str = _env("ARCHIVE_MAIL_FROM", "archive@localhost")
    #: Seconds to wait for the SMTP server before giving up. (ARCHIVE_MAIL_TIMEOUT)
    MAIL_TIMEOUT: int = _env_int("ARCHIVE_MAIL_TIMEOUT", 15)

    # --- Security headers (archive/core/security.py) ----------------------------------------------------

    #: Content-Security-Policy sent with every response (an empty value in a config class sends none).
    #: The default allows nothing inline (no <script> blocks, event handler attributes or style=""
    #: attributes): scripts and styles live in archive/static. Images and media may also come from data:
    #: and blob: URLs.
    #: (ARCHIVE_CONTENT_SECURITY_POLICY)
    CONTENT_SECURITY_POLICY: str = _env(
        "ARCHIVE_CONTENT_SECURITY_POLICY",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "media-src 'self' blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    )

    #: Permissions-Policy sent with every response (an empty value in a config class sends none). None:
    #: the default of archive/core/security.py, which turns off camera, microphone, geolocation, sensors,
    #: payment, USB...
    #: (ARCHIVE_PERMISSIONS_POLICY)
    PERMISSIONS_POLICY: str | None = _env("ARCHIVE_PERMISSIONS_POLICY")

    #: Strict-Transport-Security value, sent on HTTPS requests (and on every request with FORCE_HSTS).
    #: (ARCHIVE_STRICT_TRANSPORT_SECURITY)
    STRICT_TRANSPORT_SECURITY: str = _env(
        "ARCHIVE_STRICT_TRANSPORT_SECURITY", "max-age=31536000; includeSubDomains"
    )

    #: Send Strict-Transport-Security even when the request looks like plain HTTP, as it does behind a
    #: proxy that terminates TLS. On in ProductionConfig. (ARCHIVE_FORCE_HSTS)
    FORCE_HSTS: bool = _env_bool("ARCHIVE_FORCE_HSTS", False)

    WTF_CSRF_ENABLED = True
    TESTING = False

    @classmethod
    def check(cls) -> None:
        """Refuse settings that cannot work; the base config accepts everything else."""
        if cls.SEARCH_BACKEND not in ("whoosh", "postgresql"):
            raise RuntimeError("ARCHIVE_SEARCH_BACKEND must be 'whoosh' or 'postgresql'.")
        if cls.SEARCH_BACKEND == "postgresql" and not cls.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
            raise RuntimeError("ARCHIVE_SEARCH_BACKEND=postgresql needs ARCHIVE_DATABASE_URL on PostgreSQL.")
        if cls.MAIL_BACKEND not in ("log", "smtp"):
            raise RuntimeError("ARCHIVE_MAIL_BACKEND must be 'log' or 'smtp'.")


class TestConfig(Config):
    """Settings for the test suite: a throw-away data directory and database, chosen by the fixtures."""

    TESTING = True
    #: Database for the suite. (ARCHIVE_TEST_DATABASE_URL; the fixtures default to a temporary SQLite file)
    SQLALCHEMY_DATABASE_URI = _env("ARCHIVE_TEST_DATABASE_URL", "sqlite://")
    SECRET_KEY = "test-secret-key"
    BASE_URL = "http://archive.test"
    PAGE_SIZE = 10
    JOBS_IMMEDIATE = True
    #: Tests refresh the generated datasets when they mean to (tests/datasets/test_generated.py).
    DATASET_REFRESH_DELAY = 0
    IIIF_CACHE_BYTES = 20 * 1024**2
    WTF_CSRF_ENABLED = False  # tests of CSRF itself switch it back on
    # The probes and schemathesis send hundreds of API requests a minute; tests of the limits set their own.
    API_READ_RATE_LIMIT = "100000 per minute"
    API_WRITE_RATE_LIMIT = "100000 per minute"


class ProductionConfig(Config):
    """Production: refuses the default secret key and SQLite unless explicitly allowed."""

    #: HTTPS only, unless ARCHIVE_SECURE_COOKIES=0 says the server is reached over plain HTTP.
    SESSION_COOKIE_SECURE: bool = _env_bool("ARCHIVE_SECURE_COOKIES", True)
    REMEMBER_COOKIE_SECURE: bool = SESSION_COOKIE_SECURE
    #: Production sits behind HTTPS, often on a proxy that terminates TLS. (ARCHIVE_FORCE_HSTS=0 turns it off)
    FORCE_HSTS: bool = _env_bool("ARCHIVE_FORCE_HSTS", True)
    #: One JSON object per log line, for the log collector. (ARCHIVE_LOG_FORMAT=text to read them by eye)
    LOG_FORMAT: str = _env("ARCHIVE_LOG_FORMAT", "json") or "json"

    @classmethod
    def check(cls) -> None:
        """Raise RuntimeError when the configuration is unsafe for a public server."""
        super().check()
        if cls.SECRET_KEY == DEFAULT_SECRET_KEY and not cls.ALLOW_DEFAULT_SECRET:
            raise RuntimeError(
                "ProductionConfig: set SECRET_KEY to a long random value "
                "(or ARCHIVE_ALLOW_DEFAULT_SECRET=1 on a private test machine)."
            )
        if cls.SQLALCHEMY_DATABASE_URI.startswith("sqlite") and not cls.ALLOW_SQLITE:
            raise RuntimeError(
                "ProductionConfig: set ARCHIVE_DATABASE_URL to a PostgreSQL database "
                "(or ARCHIVE_ALLOW_SQLITE=1 for a single-machine deployment)."
            )


CONFIGS = {"default": Config, "test": TestConfig, "production": ProductionConfig}
