"""Bad uploads are refused with a clear message in the user's language, and leave nothing behind: no
stored original, no temporary file, no draft version."""

from __future__ import annotations

import html
import io
import os
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select


def _page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


GOOD_CSV = "province,communes\nLào Cai,99\nCao Bằng,56\n"


def _files(app) -> set[str]:
    root = Path(app.config["DATA_DIR"])
    found = set()
    for folder in ("originals", "incoming"):
        for dirpath, _dirs, names in os.walk(root / folder):
            found.update(os.path.join(dirpath, n) for n in names)
            found.update(os.path.join(dirpath, d) for d in _dirs)
    return found


@pytest.fixture
def dataset(client, login, db):
    """A dataset described by the signed-in contributor (no versions yet)."""
    from archive.datasets.models import Dataset

    login("contributor")
    response = client.post(
        "/vi/admin/datasets/new",
        data={
            "slug": "tai-len-xau",
            "title_vi": "Tải lên xấu",
            "accrual_periodicity": "IRREG",
            "license_uri": "http://creativecommons.org/licenses/by/4.0/",
        },
    )
    assert response.status_code == 303
    return db.session.scalar(select(Dataset).where(Dataset.slug == "tai-len-xau"))


def _xlsx(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _zip_bomb() -> bytes:
    return _xlsx(
        {
            "[Content_Types].xml": b"<Types/>",
            "xl/workbook.xml": b"<workbook/>",
            "xl/worksheets/sheet1.xml": b"\0" * (30 * 1024 * 1024),
        }
    )


def _real_zip() -> bytes:
    return _xlsx({"notes.txt": b"hello"})


CASES = {
    "not_utf8": (
        "bang.csv",
        "province,communes\nH\xe0 Giang,5\n".encode("latin-1"),
        "The file is not in UTF-8 (the problem is on line 2).",
    ),
    "binary_junk": ("bang.csv", bytes(range(256)) * 40, "The file is not a text file"),
    "zip_named_csv": ("bang.csv", _real_zip(), "is not what its name says"),
    "zip_bomb_xlsx": ("bang.xlsx", None, "expands to far more data than a spreadsheet holds"),
    "fake_xlsx": ("bang.xlsx", _real_zip(), "The file is not a readable Excel workbook (.xlsx)."),
    "empty": ("bang.csv", b"", "The file is empty."),
    "header_only": ("bang.csv", b"province,communes\n", "The file has a header but no rows of data."),
    "duplicate_header": (
        "bang.csv",
        b"province,communes,province\nA,1,B\n",
        "Row 1 (header), column 3: the name “province” is already used by column 1.",
    ),
    "blank_header": (
        "bang.csv",
        b"province,,share\nA,1,2\n",
        "Row 1 (header), column 2: the column has no name.",
    ),
    "old_excel": ("bang.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "Old Excel files (.xls)"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_file_is_refused_and_leaves_nothing(client, app, db, dataset, case):
    filename, data, message = CASES[case]
    if data is None:
        data = _zip_bomb()
    before = _files(app)
    for lang in ("en", "vi"):
        response = client.post(
            f"/{lang}/admin/datasets/{dataset.id}/upload",
            data={"file": (io.BytesIO(data), filename), "schema_mode": "infer"},
            content_type="multipart/form-data",
        )
        assert response.status_code == 400, case
        page = _page(response)
        assert 'role="alert"' in page
        if lang == "en":
            assert message in page
    assert _files(app) == before
    db.session.expire_all()
    assert dataset.versions == []


def test_too_many_rows_are_refused(client, app, db, dataset, monkeypatch):
    monkeypatch.setitem(app.config, "DATASET_MAX_ROWS", 2)
    before = _files(app)
    csv = "province,communes\nA,1\nB,2\nC,3\n"
    response = client.post(
        f"/en/admin/datasets/{dataset.id}/upload",
        data={"file": (io.BytesIO(csv.encode()), "bang.csv"), "schema_mode": "infer"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "The table has too many rows (at most 2)." in _page(response)
    assert _files(app) == before


def test_nul_characters_in_form_fields_are_refused(client, app, db, dataset):
    before = _files(app)
    response = client.post(
        f"/en/admin/datasets/{dataset.id}/upload",
        data={
            "file": (io.BytesIO(GOOD_CSV.encode()), "bang.csv"),
            "schema_mode": "infer",
            "title_vi": "Bảng\x00",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "not allowed (NUL)" in _page(response)
    assert _files(app) == before
    described = client.post(
        "/en/admin/datasets/new",
        data={
            "slug": "nul-slug",
            "title_vi": "Tên\x00",
            "accrual_periodicity": "IRREG",
            "license_uri": "http://creativecommons.org/licenses/by/4.0/",
        },
    )
    assert described.status_code == 400 and "not allowed (NUL)" in _page(described)


def test_a_missing_file_or_a_broken_schema_file_is_refused(client, app, db, dataset):
    before = _files(app)
    no_file = client.post(f"/en/admin/datasets/{dataset.id}/upload", data={"schema_mode": "infer"})
    assert no_file.status_code == 400 and "Choose a CSV or XLSX file" in _page(no_file)
    bad_schema = client.post(
        f"/en/admin/datasets/{dataset.id}/upload",
        data={
            "file": (io.BytesIO(GOOD_CSV.encode()), "bang.csv"),
            "schema_mode": "provided",
            "schema_file": (io.BytesIO(b"{not json"), "schema.json"),
        },
        content_type="multipart/form-data",
    )
    assert bad_schema.status_code == 400
    assert "The schema file is not a JSON Table Schema." in _page(bad_schema)
    mismatch = client.post(
        f"/en/admin/datasets/{dataset.id}/upload",
        data={
            "file": (io.BytesIO(GOOD_CSV.encode()), "bang.csv"),
            "schema_mode": "provided",
            "schema_file": (io.BytesIO(b'{"fields": [{"name": "tinh"}]}'), "schema.json"),
        },
        content_type="multipart/form-data",
    )
    assert mismatch.status_code == 400
    assert "are not the file's columns (province, communes)" in _page(mismatch)
    no_previous = client.post(
        f"/en/admin/datasets/{dataset.id}/upload",
        data={"file": (io.BytesIO(GOOD_CSV.encode()), "bang.csv"), "schema_mode": "previous"},
        content_type="multipart/form-data",
    )
    assert no_previous.status_code == 400 and "cannot be reused" in _page(no_previous)
    assert _files(app) == before
    db.session.expire_all()
    assert dataset.versions == []


def test_a_path_in_the_file_name_does_not_matter(client, app, db, dataset):
    data_dir = Path(app.config["DATA_DIR"])
    response = client.post(
        f"/vi/admin/datasets/{dataset.id}/upload",
        data={"file": (io.BytesIO(GOOD_CSV.encode()), "../../x.csv"), "schema_mode": "infer"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    db.session.expire_all()
    table = dataset.draft_version.tables[0]
    assert table.name == "x" and table.source_filename == "x.csv"
    assert not (data_dir.parent / "x.csv").exists() and not (data_dir / "x.csv").exists()
    # nothing left in incoming/ (its tus/ folder belongs to resumable uploads of other tests)
    assert not [p for p in (data_dir / "incoming").iterdir() if p.name != "tus"]


def test_a_file_over_the_size_limit_is_refused(client, app, db, dataset, monkeypatch):
    monkeypatch.setitem(app.config, "DATASET_MAX_UPLOAD_BYTES", 100)
    before = _files(app)
    csv = "province,communes\n" + "".join(f"Tỉnh {i},{i}\n" for i in range(50))
    response = client.post(
        f"/en/admin/datasets/{dataset.id}/upload",
        data={"file": (io.BytesIO(csv.encode()), "bang.csv"), "schema_mode": "infer"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "The file is too large (at most 100 bytes)." in _page(response)
    assert _files(app) == before
