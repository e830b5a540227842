"""Test fixtures: one migrated database per session (SQLite by default, PostgreSQL when
ARCHIVE_TEST_DATABASE_URL says so), vocabularies and demo content loaded once, and a transaction
rolled back after every test.

ARCHIVE_TEST_MODE=production runs the suite the way production is configured: PostgreSQL (required),
the PostgreSQL search backend as the configured one, and Redis (ARCHIVE_TEST_REDIS_URL, default db 3,
flushed at session start) for the job queue storage (jobs still run when queued) and the rate-limit
counters."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy.engine import make_url

from config import TestConfig

ROOT = Path(__file__).resolve().parent.parent
STANDARDS = ROOT.parent / "shared" / "standards"
ARTIFACTS = ROOT / "test-artifacts"
PG_URL = os.environ.get("ARCHIVE_TEST_DATABASE_URL", "")
ON_POSTGRES = PG_URL.startswith("postgresql")
IN_CI = os.environ.get("CI", "").lower() == "true"
PRODUCTION_MODE = os.environ.get("ARCHIVE_TEST_MODE", "").lower() == "production"
TEST_REDIS_URL = os.environ.get("ARCHIVE_TEST_REDIS_URL") or "redis://127.0.0.1:6379/3"


def pytest_sessionstart(session):
    """The PostgreSQL run fails (never skips) when the server cannot be reached; so does the
    production-mode run when Redis cannot be reached (its database is emptied first)."""
    if PRODUCTION_MODE:
        if not ON_POSTGRES:
            pytest.exit("ARCHIVE_TEST_MODE=production needs ARCHIVE_TEST_DATABASE_URL on PostgreSQL.", 3)
        try:
            import redis

            client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=3)
            client.flushdb()
            client.close()
        except Exception as exc:  # noqa: BLE001 - any failure to connect ends the run
            pytest.exit(f"Redis at {TEST_REDIS_URL} is not reachable: {exc}", returncode=3)
    if not ON_POSTGRES:
        return
    try:
        engine = sa.create_engine(_driver_url(PG_URL))
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure to connect ends the run
        pytest.exit(f"PostgreSQL at {PG_URL} is not reachable: {exc}", returncode=3)


def _driver_url(url: str) -> str:
    return (
        url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
    )


def fresh_database_url(tmp_dir: Path, name: str) -> str:
    """An empty database of the suite's backend: a new SQLite file, or a re-created PostgreSQL database."""
    if not ON_POSTGRES:
        return f"sqlite:///{tmp_dir / (name + '.sqlite3')}"
    base = make_url(_driver_url(PG_URL))
    db_name = f"{base.database}_{name}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{db_name}"'))
    admin.dispose()
    return base.set(database=db_name).render_as_string(hide_password=False)


def make_config(database_url: str, data_dir: Path) -> type[TestConfig]:
    """A TestConfig subclass bound to one database and data directory (in production mode, with
    the PostgreSQL search backend and Redis, under a queue name and rate-limit prefix of its own)."""
    settings = {"SQLALCHEMY_DATABASE_URI": database_url, "DATA_DIR": str(data_dir)}
    if PRODUCTION_MODE and database_url.startswith("postgresql"):
        own = uuid.uuid4().hex[:8]
        settings.update(
            SEARCH_BACKEND="postgresql",
            REDIS_URL=TEST_REDIS_URL,
            JOBS_QUEUE_NAME=f"archive-test-{own}",
            RATELIMIT_KEY_PREFIX=f"archive-test-{own}",
        )
    return type("BoundTestConfig", (TestConfig,), settings)


def process_env(app, **overrides: str) -> dict[str, str]:
    """The environment of an ``archive``/``flask``/gunicorn process that runs as *app*: the same database,
    data directory, search backend and queue (Redis and its queue name, in production mode)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARCHIVE_")}
    env.update(
        ARCHIVE_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        ARCHIVE_DATA_DIR=str(app.config["DATA_DIR"]),
        ARCHIVE_SEARCH_BACKEND=app.config["SEARCH_BACKEND"],
        ARCHIVE_JOBS_QUEUE_NAME=app.config.get("JOBS_QUEUE_NAME") or "archive",
    )
    if app.config.get("REDIS_URL"):
        env["ARCHIVE_REDIS_URL"] = app.config["REDIS_URL"]
    env.update(overrides)
    return env


def reset_postgres_schema(url: str) -> None:
    """Drop everything in the public schema of a PostgreSQL database."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def session_dir():
    path = Path(tempfile.mkdtemp(prefix="archive-tests-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def app(session_dir):
    """The application on a migrated database with vocabularies and the demo content (with media)."""
    from flask_migrate import upgrade

    from archive import create_app
    from archive.core.extensions import db
    from archive.demo.loader import load_demo

    if ON_POSTGRES:
        url = _driver_url(PG_URL)
        reset_postgres_schema(url)
    else:
        url = f"sqlite:///{session_dir / 'archive.sqlite3'}"
    application = create_app(make_config(url, session_dir / "data"))
    with application.app_context():
        upgrade()
        load_demo(with_media=True)
        db.session.commit()
        if ON_POSTGRES:
            # The demo is indexed by the configured backend as it is committed (Whoosh, or PostgreSQL
            # in production mode); index it in the other one too, so the behavioural suite can run
            # against both backends.
            from archive.search.service import rebuild_index

            other = "whoosh" if application.config["SEARCH_BACKEND"] == "postgresql" else "postgresql"
            with use_search_backend(application, other):
                rebuild_index()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@contextmanager
def use_search_backend(application, name: str):
    """Switch the application's search backend for the duration of a block."""
    previous = application.config["SEARCH_BACKEND"]
    application.config["SEARCH_BACKEND"] = name
    try:
        yield
    finally:
        application.config["SEARCH_BACKEND"] = previous


class ConnectionBoundSession(FlaskSession):
    """Flask-SQLAlchemy's Session picks an engine itself (get_bind), which would commit outside the
    test's transaction; this one always uses the connection it was given."""

    def get_bind(self, *args, **kwargs):
        return self.bind


@pytest.fixture
def db(app):
    """A database session whose work is rolled back after the test (SAVEPOINTs inside one transaction)."""
    from archive.core.extensions import db as _db

    with app.app_context():
        connection = _db.engine.connect()
        transaction = connection.begin()
        original = _db.session
        _db.session = _db._make_scoped_session(
            {
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
                "class_": ConnectionBoundSession,
            }
        )
        from archive.search import service

        service._APPLIED.clear()
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original
            transaction.rollback()
            connection.close()
            _restore_search_index(app)


def _restore_search_index(app) -> None:
    """The Whoosh index lives outside the rolled-back transaction: put back the records a test changed."""
    from sqlalchemy.orm import Session

    from archive.core.extensions import db as _db
    from archive.search import service

    applied = list(service._APPLIED)
    service._APPLIED.clear()
    if not applied:
        return
    with app.app_context(), use_search_backend(app, "whoosh"), Session(_db.engine) as session:
        service.resync(applied, session)


@pytest.fixture
def client(app, db):
    """A test client whose requests share the test's rolled-back transaction."""
    return app.test_client()


@pytest.fixture
def runner(app, db):
    """A CLI runner for the archive's commands."""
    return app.test_cli_runner()


@pytest.fixture
def make_record(db):
    """Factory: create a record with sensible defaults; override any field of RecordInput."""
    from archive.records.services import create_record
    from metadata.csv_records import RecordInput
    from metadata.languages import LangString

    def factory(created_by=None, **overrides):
        title = overrides.pop("title", f"Bản ghi thử {uuid.uuid4().hex[:6]}")
        fields = dict(
            row=0,
            identifier=None,
            slug=None,
            category="festival",
            status="published",
            access_level="public",
            texts={"title": [LangString(title, "vi")]},
            ethnic_groups=["tay"],
            places=["pre2025-p06"],
        )
        fields.update(overrides)
        record = create_record(RecordInput(**fields), actor=created_by)
        # Commit (to the test's savepoint) as a real request would, so that a view's rollback
        # cannot take the fixture's data with it.
        db.session.commit()
        return record

    return factory


@pytest.fixture(scope="session")
def artifacts_dir():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def make_user(db):
    """Factory: an account with a role and the password 'correct horse battery'."""
    from archive.accounts.models import User

    def factory(role: str = "contributor", email: str | None = None):
        user = User(email=email or f"{role}-{uuid.uuid4().hex[:8]}@example.vn", display_name=role, role=role)
        user.set_password("correct horse battery")
        db.session.add(user)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def login(client, make_user):
    """Sign a new user with *role* in on the test client; returns the user."""

    def sign_in(role: str = "contributor"):
        user = make_user(role)
        response = client.post("/login", data={"email": user.email, "password": "correct horse battery"})
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return sign_in


@pytest.fixture
def isolated_app(tmp_path):
    """Factory: a separate application on its own empty, migrated database (for queues, workers, live
    servers); its connections are closed after the test."""
    from flask_migrate import upgrade

    from archive import create_app
    from archive.core.extensions import db as _db

    created = []

    def factory(name: str, **settings):
        config = make_config(fresh_database_url(tmp_path, name), tmp_path / f"{name}-data")
        for key, value in settings.items():
            setattr(config, key, value)
        application = create_app(config)
        created.append(application)
        with application.app_context():
            upgrade()
        return application

    yield factory
    for application in created:
        with application.app_context():
            _db.session.remove()
            _db.engine.dispose()


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2):
    """Poll *predicate* until it returns a true value or *timeout* seconds pass; returns the value."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def live_server(live_server_in_process):
    """The session application served on a free local port, for browser tests."""
    return live_server_in_process


@pytest.fixture(scope="module")
def live_server_in_process(app):
    """The session application served by werkzeug's threaded server inside the test process."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()
