"""The archive's command line: CSV import (dry run and real) and export, in the user's language."""

import sqlalchemy as sa

from archive.records.models import HeritageRecord
from tests.records.test_csv import BAD, GOOD


def _count(db):
    return db.session.scalar(sa.select(sa.func.count()).select_from(HeritageRecord))


def test_dry_run_reports_bad_rows_in_the_chosen_language(runner, db, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    before = _count(db)
    english = runner.invoke(args=["archive", "import-csv", str(path), "--dry-run", "--lang", "en"])
    assert english.exit_code == 1
    assert "Row 5, column “ethnic_groups”: No ethnic group is called “Klingon”." in english.output
    assert "Nothing was imported: 8 problems found." in english.output
    vietnamese = runner.invoke(args=["archive", "import-csv", str(path), "--lang", "vi"])
    assert vietnamese.exit_code == 1
    assert "Dòng 5, cột “ethnic_groups”: Không có dân tộc nào tên là “Klingon”." in vietnamese.output
    assert _count(db) == before


def test_good_file_imports_and_exports(runner, db, tmp_path):
    path = tmp_path / "good.csv"
    path.write_text(GOOD, encoding="utf-8-sig")  # with the BOM spreadsheet programs write
    before = _count(db)
    dry = runner.invoke(args=["archive", "import-csv", str(path), "--dry-run", "--lang", "en"])
    assert dry.exit_code == 0 and "Dry run: all 2 rows are valid" in dry.output
    assert _count(db) == before
    real = runner.invoke(args=["archive", "import-csv", str(path)])
    assert real.exit_code == 0 and "Đã nhập 2 bản ghi." in real.output
    assert _count(db) == before + 2
    out = tmp_path / "all.csv"
    assert runner.invoke(args=["archive", "export-csv", str(out)]).exit_code == 0
    assert "Lễ hội thử A" in out.read_text(encoding="utf-8")


def test_non_utf8_file_is_refused(runner, db, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("category,title@vi\nfestival,Lễ hội\n".encode("utf-16"))
    result = runner.invoke(args=["archive", "import-csv", str(path), "--lang", "en"])
    assert result.exit_code == 1
    assert "The file is not UTF-8 text" in result.output
