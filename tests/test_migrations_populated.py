"""Migrations on a populated database: with the demo loaded, downgrading past the last revisions and
upgrading again keeps every record, text and media row as it was, the models still match the migrations,
and the application still serves a record page and search. Runs on the suite's backend (a SQLite file, or
a fresh PostgreSQL database on the PostgreSQL run)."""

from __future__ import annotations

import hashlib
import logging
import time

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from tests.conftest import fresh_database_url, make_config
from tests.test_migrations import _not_search_schema

logger = logging.getLogger(__name__)

#: The revision before the API tokens, open datasets and later revisions: their downgrades drop only
#: their own tables, so record content must survive the round trip.
OLDER = "d2f7a1c3e9b4"
TABLES = ("heritage_record", "record_text", "media_file", "media_derivative", "ethnic_group", "place",
          "collection", "agent", "subject", "festival_timing", "cultural_label", "record_agent",
          "user_account")  # fmt: skip
CONTENT = {
    "heritage_record": "SELECT public_id, slug, status, access_level, category, version_id "
    "FROM heritage_record",
    "record_text": "SELECT r.public_id, t.field, t.lang, t.value FROM record_text t "
    "JOIN heritage_record r ON r.id = t.record_id",
    "media_file": "SELECT public_id, sha256, kind, storage_key, original_filename FROM media_file",
}


def _snapshot(conn) -> dict:
    names = set(sa.inspect(conn).get_table_names())
    counts = {t: conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar() for t in TABLES if t in names}
    sums = {}
    for name, query in CONTENT.items():
        rows = sorted(tuple("" if v is None else str(v) for v in row) for row in conn.execute(sa.text(query)))
        sums[name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return {"counts": counts, "sums": sums}


def test_downgrade_and_upgrade_keep_the_demo(tmp_path):
    from archive import create_app
    from archive.core.extensions import db
    from archive.demo.loader import load_demo

    app = create_app(make_config(fresh_database_url(tmp_path, "populated"), tmp_path / "data"))
    timings = {}
    with app.app_context():
        started = time.monotonic()
        upgrade()
        timings["upgrade"] = time.monotonic() - started
        started = time.monotonic()
        load_demo(with_media=False)
        db.session.commit()
        timings["demo"] = time.monotonic() - started
        with db.engine.connect() as conn:
            before = _snapshot(conn)
        assert before["counts"]["heritage_record"] > 10 and before["counts"]["record_text"] > 10
        db.session.remove()

        started = time.monotonic()
        downgrade(revision=OLDER)
        timings["downgrade"] = time.monotonic() - started
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == OLDER
            assert _snapshot(conn)["sums"] == before["sums"]
        started = time.monotonic()
        upgrade()
        timings["upgrade again"] = time.monotonic() - started
        with db.engine.connect() as conn:
            after = _snapshot(conn)
            diff = compare_metadata(
                MigrationContext.configure(
                    conn, opts={"compare_type": True, "include_name": _not_search_schema}
                ),
                db.metadata,
            )
        assert after == before
        assert diff == []
        record = db.session.execute(
            sa.text("SELECT public_id, slug FROM heritage_record WHERE status = 'published' "
                    "AND access_level = 'public' ORDER BY id LIMIT 1")
        ).one()  # fmt: skip
        title = db.session.execute(
            sa.text("SELECT t.value FROM record_text t JOIN heritage_record r ON r.id = t.record_id "
                    "WHERE r.public_id = :p AND t.field = 'title' LIMIT 1"), {"p": record.public_id}
        ).scalar()  # fmt: skip
        db.session.remove()
    client = app.test_client()
    page = client.get(f"/vi/records/{record.public_id}/{record.slug}")
    assert page.status_code == 200 and title in page.get_data(as_text=True)
    search = client.get("/vi/search", query_string={"q": f'"{title}"'})  # the whole title: on page 1
    assert search.status_code == 200 and record.public_id in search.get_data(as_text=True)
    print("migration timings (s):", {k: round(v, 2) for k, v in timings.items()}, before["counts"])
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
