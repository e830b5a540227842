"""Migrations build the schema from empty, match the models exactly, and downgrade to nothing."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from tests.conftest import fresh_database_url, make_config


def _not_search_schema(name, type_, parent_names):
    """The same filter as migrations/env.py: the PostgreSQL search tables are not models."""
    from archive.search.postgres import is_search_schema_object

    return not (type_ in ("table", "index") and is_search_schema_object(name))


def test_upgrade_matches_models_and_downgrades_to_base(tmp_path):
    from archive import create_app
    from archive.core.extensions import db

    app = create_app(make_config(fresh_database_url(tmp_path, "migrations"), tmp_path / "data"))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(
                    conn, opts={"compare_type": True, "include_name": _not_search_schema}
                ),
                db.metadata,
            )
            tables = set(sa.inspect(conn).get_table_names())
        assert diff == []
        assert {
            "heritage_record",
            "record_text",
            "place",
            "place_succession",
            "ethnic_group",
            "media_file",
            "agent",
            "collection",
            "subject",
            "rights",
            "festival_timing",
        } <= tables
        downgrade(revision="base")
        with db.engine.connect() as conn:
            left = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
        assert left == set()
        upgrade()  # and up again, from a downgraded database
        with db.engine.connect() as conn:
            assert "heritage_record" in sa.inspect(conn).get_table_names()
        db.session.remove()
        db.engine.dispose()
