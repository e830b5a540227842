"""The exhibit tables exist after the migrations, and sections keep their order and items."""

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.conftest import fresh_database_url, make_config


def test_sections_and_items_round_trip(db, make_exhibit, make_record):
    from archive.exhibits.models import Exhibit

    first, second = make_record(), make_record()
    exhibit = make_exhibit(
        sections=[
            {"kind": "narrative", "body": [{"lang": "vi", "value": "Một"}]},
            {"kind": "records", "records": [second, first]},
        ]
    )
    db.session.expire_all()
    loaded = db.session.get(Exhibit, exhibit.id)
    assert [s.kind for s in loaded.sections] == ["narrative", "records"]
    assert [i.record.public_id for i in loaded.sections[1].items] == [second.public_id, first.public_id]
    assert loaded.title_values[0].lang == "vi"
    assert loaded.version_id == 1


def test_migration_creates_and_drops_the_exhibit_tables(tmp_path):
    from archive import create_app
    from archive.core.extensions import db

    app = create_app(make_config(fresh_database_url(tmp_path, "exhibits"), tmp_path / "data"))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            inspector = sa.inspect(conn)
            assert {"exhibit", "exhibit_section", "exhibit_item"} <= set(inspector.get_table_names())
            checks = {c["name"] for c in inspector.get_check_constraints("exhibit_section")}
            assert "ck_exhibit_section_kind" in checks
        downgrade(revision="c4d1e5f70a21")
        with db.engine.connect() as conn:
            assert "exhibit" not in sa.inspect(conn).get_table_names()
        upgrade()
        db.session.remove()
        db.engine.dispose()
