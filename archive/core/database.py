"""Engine set-up shared by every backend, and SQLite's transactional behaviour."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine


def configure_engine_options(app: Flask) -> None:
    """Create the data directory for a SQLite file and set backend-specific engine options."""
    uri: str = app.config["SQLALCHEMY_DATABASE_URI"]
    Path(app.config["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:///:memory:"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("sqlite"):
        options.setdefault("connect_args", {})["timeout"] = 30
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def install_engine_hooks(app: Flask) -> None:
    """On SQLite: enforce foreign keys, use WAL, and let SQLAlchemy own transactions (BEGIN/SAVEPOINT)."""
    from archive.core.extensions import db

    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            _install_sqlite_hooks(engine)


def _install_sqlite_hooks(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and transactional DDL; disable it and
    # emit BEGIN ourselves, as the SQLAlchemy documentation recommends. BEGIN IMMEDIATE takes the write
    # lock at the start (waiting up to the busy timeout): a deferred transaction that read first could
    # not write after another process (the job worker) committed, and would fail with "database is
    # locked" at once. Transactions are short; the worker ends its own before any long work.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
