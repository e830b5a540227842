"""The officers' dataset admin over HTTP: describing a dataset, uploading tables with errors listed by row
and column, inferring and confirming a schema, publishing (curators only), immutability and permissions."""

from __future__ import annotations

import hashlib
import io
import json
import re

import pytest
from sqlalchemy import select

SCHEMA = {
    "fields": [
        {"name": "province", "type": "string", "constraints": {"required": True}},
        {"name": "communes", "type": "integer", "constraints": {"minimum": 0}},
        {"name": "share", "type": "number", "constraints": {"maximum": 1}},
    ]
}
BAD_CSV = "province,communes,share\nLào Cai,abc,0.5\nCao Bằng,-3,2\n"
GOOD_CSV = "province,communes,share\nLào Cai,99,0.5\nCao Bằng,56,0.25\n"


def _dataset(db, slug):
    from archive.datasets.models import Dataset

    db.session.expire_all()
    return db.session.scalar(select(Dataset).where(Dataset.slug == slug))


def _create(client, slug="ngan-sach-xa", **extra):
    data = {
        "slug": slug,
        "title_vi": "Ngân sách các xã",
        "title_en": "Commune budgets",
        "license_uri": "",
        "accrual_periodicity": "ANNUAL",
    }
    data["license_uri"] = "http://creativecommons.org/licenses/by/4.0/"
    data.update(extra)
    return client.post("/vi/admin/datasets/new", data=data)


def _upload(
    client, dataset_id, csv_text, mode="provided", schema=SCHEMA, filename="communes.csv", lang="vi", **extra
):
    data = {"file": (io.BytesIO(csv_text.encode("utf-8")), filename), "schema_mode": mode, **extra}
    if mode == "provided":
        data["schema_file"] = (io.BytesIO(json.dumps(schema).encode()), "schema.json")
    return client.post(
        f"/{lang}/admin/datasets/{dataset_id}/upload", data=data, content_type="multipart/form-data"
    )


def _cells(page: str) -> list[list[str]]:
    """The error table's rows as cell texts."""
    body = page.split('class="ds-errors"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td.*?</tr>", body, re.S)
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows
    ]


def test_visitors_are_sent_to_sign_in(client):
    for url in (
        "/vi/admin/datasets",
        "/vi/admin/datasets/new",
        "/vi/admin/datasets/1",
        "/vi/admin/datasets/1/v1",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    response = client.post("/vi/admin/datasets/1/upload")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_researchers_are_refused(client, login):
    login("researcher")
    assert client.get("/vi/admin/datasets").status_code == 403
    assert client.get("/vi/admin/datasets/new").status_code == 403
    assert _create(client).status_code == 403


def test_contributor_describes_a_dataset(client, login, db):
    officer = login("contributor")
    form = client.get("/vi/admin/datasets/new")
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-store"
    page = form.get_data(as_text=True)
    # CC BY 4.0 is chosen by default, the publisher is the archive, both province systems are offered.
    assert re.search(r'<option value="http://creativecommons.org/licenses/by/4.0/" selected>', page)
    assert 'value="2025-p' in page and 'value="pre2025-p' in page
    response = _create(
        client,
        themes=["SOCI", "GOVE"],
        spatial=["pre2025-p06"],
        ethnic_groups=["tay"],
        keywords_vi="ngân sách, xã",
        temporal_start="2024-01-01",
        temporal_end="2024-12-31",
    )
    assert response.status_code == 303
    dataset = _dataset(db, "ngan-sach-xa")
    assert dataset.created_by_id == officer.id and dataset.status == "draft"
    assert dataset.themes == ["SOCI", "GOVE"] and dataset.spatial == ["pre2025-p06"]
    assert [k["value"] for k in dataset.keywords] == ["ngân sách", "xã"]
    listing = client.get("/vi/admin/datasets").get_data(as_text=True)
    assert "Ngân sách các xã" in listing


def test_form_errors_keep_what_was_typed(client, login, db):
    login("contributor")
    response = _create(
        client,
        slug="Bad Slug!",
        title_vi="",
        description_vi="Mô tả dài",
        temporal_start="2024-13-01",
        contact_email="not-an-email",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Mô tả dài" in page and "Bad Slug!" in page
    english = client.post(
        "/en/admin/datasets/new", data={"slug": "ok-slug", "title_vi": "", "license_uri": "x"}
    )
    text = english.get_data(as_text=True)
    assert english.status_code == 400
    assert "Give the dataset a title in Vietnamese." in text and "Choose one of the licences offered." in text
    assert _dataset(db, "ok-slug") is None


def test_a_stale_description_form_is_refused(client, login, db):
    login("contributor")
    _create(client)
    dataset = _dataset(db, "ngan-sach-xa")
    opened = dataset.version_id
    base = {
        "slug": "ngan-sach-xa",
        "license_uri": "http://creativecommons.org/licenses/by/4.0/",
        "accrual_periodicity": "ANNUAL",
        "version_id": opened,
    }
    first = client.post(f"/vi/admin/datasets/{dataset.id}/edit", data=dict(base, title_vi="Lần một"))
    assert first.status_code == 303
    second = client.post(f"/en/admin/datasets/{dataset.id}/edit", data=dict(base, title_vi="Lần hai"))
    assert second.status_code == 409
    assert "Someone else changed this dataset" in second.get_data(as_text=True)
    assert "Lần hai" in second.get_data(as_text=True)
    assert _dataset(db, "ngan-sach-xa").title[0]["value"] == "Lần một"


def test_errors_are_listed_by_row_and_column_and_nothing_is_published(client, login, db):
    from archive.datasets import services

    login("contributor")
    _create(client)
    dataset = _dataset(db, "ngan-sach-xa")
    response = _upload(client, dataset.id, BAD_CSV)
    assert response.status_code == 303 and "/v1" in response.headers["Location"]
    page = client.get(f"/vi/admin/datasets/{dataset.id}/v1").get_data(as_text=True)
    rows = _cells(page)
    # row, column, field, value, message: the type error and the two constraint errors
    assert [r[:4] for r in rows] == [
        ["2", "2", "communes", "abc"],
        ["3", "2", "communes", "-3"],
        ["3", "3", "share", "2"],
    ]
    assert 'lang="vi"' in page
    english = client.get(f"/en/admin/datasets/{dataset.id}/v1").get_data(as_text=True)
    messages = [r[4] for r in _cells(english)]
    assert messages == [
        "Row 2, column 2 (communes): “abc” is not a whole number.",
        "Row 3, column 2 (communes): “-3” is below the minimum, 0.",
        "Row 3, column 3 (share): “2” is above the maximum, 1.",
    ]
    assert "cannot be published yet" in english
    # A contributor sees no publish button and may not publish; a curator may not publish an invalid version.
    assert "/publish" not in english
    assert client.post(f"/vi/admin/datasets/{dataset.id}/v1/publish").status_code == 403
    login("curator")
    refused = client.post(f"/en/admin/datasets/{dataset.id}/v1/publish")
    assert refused.status_code == 409
    assert "every table must be valid" in refused.get_data(as_text=True)
    assert dataset.slug not in client.get("/vi/datasets").get_data(as_text=True)
    assert dataset.id not in {d.id for d in services.public_datasets()}
    assert client.get(f"/vi/datasets/{dataset.slug}").status_code == 404


def test_fixing_the_file_makes_it_valid_and_a_curator_publishes_it(client, login, db):
    from archive.datasets import services

    officer = login("contributor")
    _create(client)
    dataset = _dataset(db, "ngan-sach-xa")
    _upload(client, dataset.id, BAD_CSV)
    assert _upload(client, dataset.id, GOOD_CSV).status_code == 303
    dataset = _dataset(db, "ngan-sach-xa")
    draft = dataset.draft_version
    assert draft.number == 1 and len(draft.tables) == 1
    assert draft.tables[0].is_valid and draft.is_ready
    page = client.get(f"/vi/admin/datasets/{dataset.id}/v1").get_data(as_text=True)
    assert 'class="ds-errors"' not in page and "/publish" not in page
    login("curator")
    assert client.post(f"/vi/admin/datasets/{dataset.id}/v1/publish").status_code == 303
    dataset = _dataset(db, "ngan-sach-xa")
    assert dataset.status == "published" and dataset.latest_version.number == 1
    assert dataset.id in {d.id for d in services.public_datasets()}
    assert "Ngân sách các xã" in client.get("/vi/datasets").get_data(as_text=True)
    assert dataset.created_by_id == officer.id


def test_an_inferred_schema_must_be_confirmed_before_publishing(client, login, db):
    login("contributor")
    _create(client)
    dataset = _dataset(db, "ngan-sach-xa")
    assert _upload(client, dataset.id, GOOD_CSV, mode="infer").status_code == 303
    table = _dataset(db, "ngan-sach-xa").draft_version.tables[0]
    assert table.is_valid and not table.schema_confirmed
    page = client.get(f"/en/admin/datasets/{dataset.id}/v1").get_data(as_text=True)
    assert "Schema inferred by the archive" in page and "Whole number" in page
    login("curator")
    assert client.post(f"/vi/admin/datasets/{dataset.id}/v1/publish").status_code == 409
    form = {
        "f0_type": "string",
        "f0_title_vi": "Tỉnh",
        "f0_title_en": "Province",
        "f0_required": "1",
        "f1_type": "integer",
        "f1_unit": "xã",
        "f1_minimum": "100",
        "f2_type": "number",
        "f2_maximum": "1",
        "chart_label": "province",
        "chart_value": "communes",
    }
    confirmed = client.post(f"/en/admin/datasets/{dataset.id}/v1/tables/{table.id}/schema", data=form)
    assert confirmed.status_code == 303
    table = _dataset(db, "ngan-sach-xa").draft_version.tables[0]
    assert table.schema_confirmed and not table.is_valid  # 99 and 56 are below the minimum of 100
    assert table.fields[0]["titles"] == {"vi": "Tỉnh", "en": "Province"}
    assert table.fields[1]["constraints"] == {"minimum": 100} and table.fields[1]["unit"] == "xã"
    english = client.get(f"/en/admin/datasets/{dataset.id}/v1").get_data(as_text=True)
    assert "Row 2, column 2 (communes): “99” is below the minimum, 100." in english
    form["f1_minimum"] = "0"
    assert (
        client.post(f"/vi/admin/datasets/{dataset.id}/v1/tables/{table.id}/schema", data=form).status_code
        == 303
    )
    assert _dataset(db, "ngan-sach-xa").draft_version.is_ready
    assert client.post(f"/vi/admin/datasets/{dataset.id}/v1/publish").status_code == 303


def test_a_bad_schema_form_answers_400_with_what_was_typed(client, login, db):
    login("contributor")
    _create(client)
    dataset = _dataset(db, "ngan-sach-xa")
    _upload(client, dataset.id, GOOD_CSV, mode="infer")
    table = _dataset(db, "ngan-sach-xa").draft_version.tables[0]
    form = {"f0_type": "string", "f1_type": "integer", "f1_minimum": "nhiều", "f2_type": "number"}
    response = client.post(f"/en/admin/datasets/{dataset.id}/v1/tables/{table.id}/schema", data=form)
    assert response.status_code == 400
    assert "nhiều" in response.get_data(as_text=True) and "Enter a number." in response.get_data(as_text=True)
    assert not _dataset(db, "ngan-sach-xa").draft_version.tables[0].schema_confirmed


def test_published_versions_stay_as_they_were(client, login, db, app):
    from archive.core.storage import original_path

    login("contributor")
    _create(client)
    dataset = _dataset(db, "ngan-sach-xa")
    _upload(client, dataset.id, GOOD_CSV)
    login("curator")
    client.post(f"/vi/admin/datasets/{dataset.id}/v1/publish")
    v1 = _dataset(db, "ngan-sach-xa").versions[0]
    checksum, table_sha, table_id = v1.checksum, v1.tables[0].sha256, v1.tables[0].id
    # A second upload makes version 2 (schema "same as the previous version" is the default now).
    page = client.get(f"/vi/admin/datasets/{dataset.id}").get_data(as_text=True)
    assert re.search(r'name="schema_mode" value="previous" checked', page)
    changed = GOOD_CSV.replace("99", "100")
    response = _upload(client, dataset.id, changed, mode="previous")
    assert response.status_code == 303 and "/v2" in response.headers["Location"]
    dataset = _dataset(db, "ngan-sach-xa")
    assert [v.number for v in dataset.versions] == [1, 2]
    v1 = dataset.versions[0]
    assert v1.checksum == checksum and v1.tables[0].sha256 == table_sha
    assert hashlib.sha256(original_path(v1.tables[0].storage_key).read_bytes()).hexdigest() == table_sha
    download = client.get(f"/datasets/{dataset.slug}/v1/communes.csv")
    assert download.status_code == 200 and b"99" in download.data and b"100" not in download.data
    # The published version's page has no edit controls, and changes to it are refused, never a 500.
    page = client.get(f"/en/admin/datasets/{dataset.id}/v1").get_data(as_text=True)
    assert "/schema" not in page and "/remove" not in page and "/discard" not in page and checksum in page
    form = {"f0_type": "string", "f1_type": "integer", "f2_type": "number"}
    assert (
        client.post(f"/vi/admin/datasets/{dataset.id}/v1/tables/{table_id}/schema", data=form).status_code
        == 409
    )
    assert client.post(f"/vi/admin/datasets/{dataset.id}/v1/tables/{table_id}/remove").status_code == 409
    assert client.post(f"/vi/admin/datasets/{dataset.id}/v1/notes", data={"notes_vi": "x"}).status_code == 409
    assert client.post(f"/vi/admin/datasets/{dataset.id}/v1/discard").status_code == 409
    assert client.post(f"/vi/admin/datasets/{dataset.id}/v1/publish").status_code == 409
    assert _dataset(db, "ngan-sach-xa").versions[0].checksum == checksum


def test_a_draft_can_be_discarded_after_confirmation(client, login, db):
    login("contributor")
    _create(client)
    dataset = _dataset(db, "ngan-sach-xa")
    _upload(client, dataset.id, GOOD_CSV)
    ask = client.get(f"/en/admin/datasets/{dataset.id}/v1/discard")
    assert ask.status_code == 200 and "Yes, discard the draft" in ask.get_data(as_text=True)
    assert _dataset(db, "ngan-sach-xa").draft_version is not None
    assert client.post(f"/vi/admin/datasets/{dataset.id}/v1/discard").status_code == 303
    assert _dataset(db, "ngan-sach-xa").versions == []


def test_version_notes_and_removing_a_table(client, login, db):
    login("contributor")
    _create(client)
    dataset = _dataset(db, "ngan-sach-xa")
    _upload(client, dataset.id, GOOD_CSV)
    _upload(client, dataset.id, GOOD_CSV, filename="second.csv", name="second")
    assert (
        client.post(f"/vi/admin/datasets/{dataset.id}/v1/notes", data={"notes_vi": "Bản đầu"}).status_code
        == 303
    )
    draft = _dataset(db, "ngan-sach-xa").draft_version
    assert draft.notes == [{"lang": "vi", "value": "Bản đầu"}]
    assert [t.name for t in draft.tables] == ["communes", "second"]
    second = draft.tables[1].id
    assert client.post(f"/vi/admin/datasets/{dataset.id}/v1/tables/{second}/remove").status_code == 303
    assert [t.name for t in _dataset(db, "ngan-sach-xa").draft_version.tables] == ["communes"]


@pytest.mark.parametrize("action", ["edit", "upload", "discard", "notes"])
def test_contributors_cannot_touch_another_officers_dataset(client, login, db, action):
    login("contributor")
    _create(client)
    dataset = _dataset(db, "ngan-sach-xa")
    _upload(client, dataset.id, GOOD_CSV)
    login("contributor")
    urls = {
        "edit": f"/vi/admin/datasets/{dataset.id}/edit",
        "upload": f"/vi/admin/datasets/{dataset.id}/upload",
        "discard": f"/vi/admin/datasets/{dataset.id}/v1/discard",
        "notes": f"/vi/admin/datasets/{dataset.id}/v1/notes",
    }
    assert client.post(urls[action], data={"title_vi": "x", "notes_vi": "x"}).status_code == 403
    assert client.get(f"/vi/admin/datasets/{dataset.id}").status_code == 403
    assert client.get(f"/vi/admin/datasets/{dataset.id}/v1").status_code == 403
    assert "Ngân sách các xã" not in client.get("/vi/admin/datasets").get_data(as_text=True)


def test_curators_withdraw_and_reinstate(client, login, db):
    from archive.datasets import services

    login("contributor")
    _create(client)
    dataset = _dataset(db, "ngan-sach-xa")
    _upload(client, dataset.id, GOOD_CSV)
    assert client.post(f"/vi/admin/datasets/{dataset.id}/withdraw").status_code == 403
    login("curator")
    client.post(f"/vi/admin/datasets/{dataset.id}/v1/publish")
    assert client.post(f"/vi/admin/datasets/{dataset.id}/withdraw").status_code == 303
    assert _dataset(db, "ngan-sach-xa").status == "withdrawn"
    assert dataset.id not in {d.id for d in services.public_datasets()}
    assert client.get(f"/vi/datasets/{dataset.slug}").status_code == 404
    assert client.post(f"/vi/admin/datasets/{dataset.id}/reinstate").status_code == 303
    assert _dataset(db, "ngan-sach-xa").is_public


def test_admin_forms_need_a_csrf_token(client, app, login, db, monkeypatch):
    login("contributor")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    data = {
        "slug": "co-token",
        "title_vi": "Có token",
        "license_uri": "http://creativecommons.org/licenses/by/4.0/",
        "accrual_periodicity": "IRREG",
    }
    assert client.post("/vi/admin/datasets/new", data=data).status_code == 400
    page = client.get("/vi/admin/datasets/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/vi/admin/datasets/new", data=dict(data, csrf_token=token)).status_code == 303


def test_an_excel_workbook_is_uploaded_from_the_sheet_asked_for(client, login, db):
    import openpyxl

    login("contributor")
    _create(client)
    dataset = _dataset(db, "ngan-sach-xa")
    workbook = openpyxl.Workbook()
    workbook.active.title = "Ghi chú"
    sheet = workbook.create_sheet("Số liệu")
    for row in (["province", "communes", "share"], ["Lào Cai", 99, 0.5], ["Cao Bằng", 56, 0.25]):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = {"file": (io.BytesIO(buffer.getvalue()), "so-lieu.xlsx"), "schema_mode": "infer", "sheet": "Nope"}
    missing = client.post(
        f"/en/admin/datasets/{dataset.id}/upload", data=data, content_type="multipart/form-data"
    )
    assert missing.status_code == 400
    assert "The workbook has no sheet called “Nope”. Its sheets are: Ghi chú, Số liệu." in missing.get_data(
        as_text=True
    )
    data = {
        "file": (io.BytesIO(buffer.getvalue()), "so-lieu.xlsx"),
        "schema_mode": "infer",
        "sheet": "Số liệu",
    }
    response = client.post(
        f"/vi/admin/datasets/{dataset.id}/upload", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 303
    table = _dataset(db, "ngan-sach-xa").draft_version.tables[0]
    assert table.name == "so-lieu" and table.source_format == "xlsx" and table.row_count == 2
    assert [f["type"] for f in table.fields] == ["string", "integer", "number"]
