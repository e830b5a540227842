"""CSV import and export: dry run with row/column/reason messages, all-or-nothing, exact round trip."""

import csv
import io

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from archive.records.csv_import import describe_error, export_csv, import_records
from archive.records.models import HeritageRecord, IssuedIdentifier
from archive.records.services import all_records_for_export
from tests.conftest import fresh_database_url, make_config

GOOD = """category,title@vi,title@en,ethnic_groups,places,timing,dates,agents,subjects@vi,subjects@en
festival,Lễ hội thử A,Test festival A,Tày; Nùng,"Chợ Đồn, Bắc Kạn",lunar:01-08+2,recorded:2019-02-12,Nguyễn Văn Thử (recorder),cầu mùa,prayer for a good harvest
ritual,Nghi lễ thử B,,hmong,pre2025-p02,,held:2020-03-01/2020-03-02,,,
"""

BAD = """category,title@vi,ethnic_groups,places,timing,dates,agents,status
festival,Tốt,Tày,Bắc Kạn,lunar:01-08,,,published
party,Sai loại,Tày,Bắc Kạn,,,,
festival,,Tày,Bắc Kạn,,,,
festival,Nhóm lạ,Klingon,Bắc Kạn,,,,
festival,Nơi lạ,Tày,Atlantis,,,,
festival,Ngày sai,Tày,Bắc Kạn,lunar:13-40,recorded:2019-02-30,Ai đó,
festival,Trạng thái sai,Tày,Bắc Kạn,,,,archived
"""


def _count(db):
    return db.session.scalar(sa.select(sa.func.count()).select_from(HeritageRecord))


def test_good_file_imports_every_row(db):
    before = _count(db)
    report = import_records(GOOD, None, dry_run=False)
    assert report.ok, [describe_error(e) for e in report.errors]
    assert len(report.imported) == 2 and _count(db) == before + 2
    record = db.session.scalar(
        sa.select(HeritageRecord).where(HeritageRecord.public_id == report.imported[0])
    )
    assert [g.slug for g in record.ethnic_groups] == ["tay", "nung"]
    assert record.places[0].code == "pre2025-d064"
    assert (record.timings[0].month, record.timings[0].day, record.timings[0].duration_days) == (1, 8, 2)
    assert record.agents[0].agent.name == "Nguyễn Văn Thử" and record.agents[0].role == "recorder"
    assert record.status == "draft"  # the default: imports are not published without review


def test_dry_run_writes_nothing(db):
    before = (_count(db), db.session.scalar(sa.select(sa.func.count()).select_from(IssuedIdentifier)))
    report = import_records(GOOD, None, dry_run=True)
    assert report.ok and report.imported == []
    assert (_count(db), db.session.scalar(sa.select(sa.func.count()).select_from(IssuedIdentifier))) == before


def test_bad_rows_are_all_reported_and_nothing_is_imported(db, app):
    before = _count(db)
    report = import_records(BAD, None, dry_run=False)
    assert _count(db) == before  # row 2 was good, but the import is all or nothing
    found = {(e.row, e.column, e.code) for e in report.errors}
    assert found == {
        (3, "category", "unknown_category"),
        (4, "title@vi", "required"),
        (5, "ethnic_groups", "unknown_ethnic_group"),
        (6, "places", "unknown_place"),
        (7, "timing", "bad_timing"),
        (7, "dates", "bad_date"),
        (7, "agents", "bad_agent"),
        (8, "status", "unknown_status"),
    }
    with app.test_request_context(), force_locale("vi"):
        vi = [describe_error(e) for e in report.errors]
    with app.test_request_context(), force_locale("en"):
        en = [describe_error(e) for e in report.errors]
    assert "Row 3, column “category”: Unknown category “party”" in en[0]
    assert vi[0].startswith("Dòng 3, cột “category”: Không có loại hình “party”")
    assert vi != en


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty_file"),
        ("category,title@vi,colour\nfestival,X,red\n", "unknown_column"),
        ("category,title@xx-,x\n", "bad_language_tag"),
        ("category,title@vi\n", "no_rows"),
        ("category,title@vi\nfestival,A,extra\n", "wrong_cell_count"),
    ],
)
def test_malformed_files(db, text, code):
    report = import_records(text, None, dry_run=True)
    assert code in {e.code for e in report.errors}


def test_duplicates_inside_a_file_and_against_the_archive(db):
    existing = db.session.scalar(sa.select(HeritageRecord).limit(1))
    text = (
        "identifier,slug,category,title@vi\n"
        f"{existing.public_id},moi-mot,festival,A\n"
        "rabc1234,moi-hai,festival,B\n"
        "rabc1234,moi-hai,festival,C\n"
    )
    report = import_records(text, None, dry_run=True)
    codes = {(e.row, e.code) for e in report.errors}
    assert (2, "identifier_taken") in codes
    assert (4, "duplicate_identifier") in codes and (4, "duplicate_slug") in codes


def test_round_trip_into_an_empty_archive(app, tmp_path):
    """export -> import into an empty archive -> export gives the same file."""
    from flask_migrate import upgrade

    from archive import create_app
    from archive.core.extensions import db as _db
    from archive.demo.loader import _ensure_collections
    from archive.vocab.services import load_vocabularies

    with app.app_context():  # the session database, read only
        exported = export_csv(all_records_for_export())
        rows = list(csv.reader(io.StringIO(exported)))
        assert len(rows) - 1 == _count(_db) and len(rows) > 40
        _db.session.remove()

    empty = create_app(make_config(fresh_database_url(tmp_path, "roundtrip"), tmp_path / "data"))
    with empty.app_context():
        upgrade()
        load_vocabularies()
        _ensure_collections()
        _db.session.commit()
        report = import_records(exported, None, dry_run=False)
        assert report.ok, [describe_error(e) for e in report.errors[:5]]
        _db.session.commit()
        again = export_csv(all_records_for_export())
        _db.session.remove()
        _db.engine.dispose()
    assert again == exported
