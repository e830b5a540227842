"""Bulk import on the web: a CSV of records with a ZIP file or a folder of media, a dry-run report that
writes nothing, and a confirmation that imports everything or nothing and leaves no file behind."""

import html
import io
import json
import os
import re
import shutil
import stat
import time
import uuid
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from archive.media.models import MediaFile
from archive.records.csv_import import CellError, FileProblem, message
from archive.records.models import HeritageRecord
from tests.media import samples

HEADER = "identifier,category,status,title@vi,ethnic_groups,places,files\n"


@pytest.fixture(autouse=True)
def _empty_staging(app):
    """Staged imports live on disk, outside the rolled-back transaction: start and end each test without."""
    root = Path(app.config["DATA_DIR"]) / "bulk-imports"
    shutil.rmtree(root, ignore_errors=True)
    yield
    shutil.rmtree(root, ignore_errors=True)


# --- helpers ------------------------------------------------------------------------------------------


def _count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _originals(app) -> set[Path]:
    root = Path(app.config["DATA_DIR"]) / "originals"
    return {p for p in root.rglob("*") if p.is_file()}


def _staged(app) -> list[Path]:
    root = Path(app.config["DATA_DIR"]) / "bulk-imports"
    return sorted(root.iterdir()) if root.exists() else []


def _snapshot(app, db) -> tuple:
    return _count(db, HeritageRecord), _count(db, MediaFile), _originals(app)


def _jpeg(tmp_path: Path, name: str = "a.jpg") -> bytes:
    color = tuple(uuid.uuid4().bytes[:3])  # unique content: never a duplicate of another test's file
    return samples.jpeg(tmp_path / f"{uuid.uuid4().hex}-{name}", size=(96, 64), color=color).read_bytes()


def _wav(tmp_path: Path) -> bytes:
    seconds = 1 + (uuid.uuid4().int % 1000) / 1000  # unique length, so unique content
    return samples.wav(tmp_path / f"{uuid.uuid4().hex}.wav", seconds=seconds).read_bytes()


def _zip(entries: dict) -> bytes:
    """A ZIP file of {name or ZipInfo: content}."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, data in entries.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def _send(client, csv_text: str, zip_bytes: bytes | None = None, folder: dict | None = None, lang="en"):
    data = {"csv": (io.BytesIO(csv_text.encode("utf-8")), "records.csv")}
    if zip_bytes is not None:
        data["bundle"] = (io.BytesIO(zip_bytes), "media.zip")
    if folder is not None:
        data["folder"] = [(io.BytesIO(content), name) for name, content in folder.items()]
    response = client.post(f"/import?lang={lang}", data=data, content_type="multipart/form-data")
    response.request.environ["wsgi.input"].close()  # werkzeug spools large bodies to an open file
    return response


def _token(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)
    match = re.search(r"/import/([0-9a-f]{32})$", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def _tables(page: str) -> dict[str, list[tuple[str, ...]]]:
    """Each table of the report by its caption: the cells of every body row, as text."""
    out = {}
    for caption, body in re.findall(r"<caption>(.*?)</caption>.*?<tbody>(.*?)</tbody>", page, re.S):
        rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
        out[html.unescape(caption)] = [
            tuple(
                html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
                for c in re.findall(r"<td>(.*?)</td>", r, re.S)
            )
            for r in rows
        ]
    return out


def _in(app, lang: str, problem) -> str:
    with app.test_request_context(), force_locale(lang):
        return message(problem)


# --- the dry run ----------------------------------------------------------------------------------------


def test_dry_run_writes_nothing_and_reports_every_problem(app, db, client, login, tmp_path):
    login("contributor")
    photo, other = _jpeg(tmp_path), _jpeg(tmp_path)
    csv_text = HEADER + (
        ",festival,draft,Lễ Lồng tồng,Tày,pre2025-p06,photos/longtong.jpg\n"
        ",party,draft,Loại sai,Tày,pre2025-p06,\n"
        ",festival,draft,Thiếu tệp,Tày,pre2025-p06,photos/missing.jpg\n"
        ",festival,draft,Tệp hai lần,Tày,pre2025-p06,photos/longtong.jpg\n"
        ",festival,draft,Tệp rỗng,Tày,pre2025-p06,empty.jpg|notes.jpg\n"
        ",festival,draft,Đường dẫn sai,Tày,pre2025-p06,../../etc/passwd\n"
    )
    bundle = _zip(
        {
            "photos/longtong.jpg": photo,
            "empty.jpg": b"",
            "notes.jpg": b"just some text, not a picture\n" * 20,
            "extra/unused.jpg": other,
            "__MACOSX/photos/._longtong.jpg": b"resource fork",
            ".DS_Store": b"finder",
        }
    )
    before = _snapshot(app, db)
    token = _token(_send(client, csv_text, bundle))
    assert _snapshot(app, db) == before  # no record, no media row, no original

    page = client.get(f"/en/import/{token}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    tables = _tables(text)
    errors = set(tables["Errors"])
    assert errors == {
        ("3", "category", _in(app, "en", CellError(3, "category", "unknown_category",
                                                   {"value": "party", "allowed": _allowed()}))),
        ("4", "photos/missing.jpg", "There is no such file in the ZIP file or folder."),
        ("5", "photos/longtong.jpg",
         "The file is also listed in row 2; each file belongs to one record."),
        ("6", "empty.jpg", "The file is empty."),
        ("6", "notes.jpg", _in(app, "en", FileProblem(6, "notes.jpg", "unsupported_type", {}, True))),
        ("7", "files", "“../../etc/passwd” points outside the ZIP file or folder (“..”)."),
    }  # fmt: skip
    assert ("—", "extra/unused.jpg", "No row lists this file; it will not be imported.") in tables["Warnings"]
    assert not any("__MACOSX" in cell or ".DS_Store" in cell for row in tables["Warnings"] for cell in row)
    assert "Nothing can be imported yet: 6 problems were found." in text
    assert f"/import/{token}/confirm" not in text  # no Confirm button while anything is wrong
    assert _snapshot(app, db) == before

    # The same report in Vietnamese: translated where a translation exists.
    vi = client.get(f"/vi/import/{token}?lang=vi").get_data(as_text=True)
    vi_errors = {row for rows in _tables(vi).values() for row in rows}
    empty_vi = _in(app, "vi", FileProblem(6, "empty.jpg", "empty", {}, True))
    category_vi = _in(app, "vi", CellError(3, "category", "unknown_category",
                                           {"value": "party", "allowed": _allowed()}))  # fmt: skip
    assert empty_vi != "The file is empty." and ("6", "empty.jpg", empty_vi) in vi_errors
    assert (
        category_vi.startswith("Không có loại hình “party”") and ("3", "category", category_vi) in vi_errors
    )


def _allowed() -> str:
    from metadata.categories import CATEGORIES

    return ", ".join(CATEGORIES)


def test_the_form_offers_a_zip_file_or_a_folder(client, login):
    login("contributor")
    page = client.get("/en/import").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    assert re.search(r'<input id="bundle" name="bundle" type="file"', page)
    assert re.search(r'<input id="folder" name="folder" type="file" webkitdirectory multiple>', page)
    assert "<script>" not in page and "style=" not in page


# --- confirming ---------------------------------------------------------------------------------------


def test_confirm_with_a_zip_creates_drafts_with_their_media(app, db, client, login, tmp_path):
    user = login("contributor")
    csv_text = HEADER + (
        ",festival,published,Lễ Lồng tồng thử,Tày,pre2025-p06,photos/longtong-1.jpg|audio/then.wav\n"
        ",ritual,,Nghi lễ Then thử,Tày,pre2025-p06,photos/longtong-2.jpg\n"
    )
    bundle = _zip(
        {
            "photos/longtong-1.jpg": _jpeg(tmp_path),
            "photos/longtong-2.jpg": _jpeg(tmp_path),
            "audio/then.wav": _wav(tmp_path),
        }
    )
    records_before, media_before, _ = _snapshot(app, db)
    token = _token(_send(client, csv_text, bundle))
    report = client.get(f"/en/import/{token}").get_data(as_text=True)
    tables = _tables(report)
    assert "Errors" not in tables
    assert tables["Warnings"] == [
        ("2", "status", "The file asks for the status “published”; the record will be created as a draft, "
                        "for a curator to review.")
    ]  # fmt: skip
    assert [row[:3] for row in tables["Records to create"]] == [
        ("2", "Lễ Lồng tồng thử", "Draft"),
        ("3", "Nghi lễ Then thử", "Draft"),
    ]
    assert f'action="/en/import/{token}/confirm"' in report and "Import 2 records" in report

    done = client.post(f"/import/{token}/confirm?lang=en")
    assert done.status_code == 201, done.get_data(as_text=True)
    assert "2 records were created with 3 media files" in done.get_data(as_text=True)
    assert _count(db, HeritageRecord) == records_before + 2
    assert _count(db, MediaFile) == media_before + 3
    records = db.session.scalars(
        sa.select(HeritageRecord).where(HeritageRecord.created_by_id == user.id).order_by(HeritageRecord.id)
    ).all()
    assert [(r.status, r.category) for r in records] == [("draft", "festival"), ("draft", "ritual")]
    first = records[0]
    assert sorted((m.original_filename, m.kind) for m in first.media) == [
        ("longtong-1.jpg", "image"),
        ("then.wav", "audio"),
    ]
    for media in first.media + records[1].media:
        db.session.refresh(media)
        assert media.created_by_id == user.id
        # queued for derivation after the commit; the test configuration runs the job at once
        assert media.state == "ready", (media.state, media.state_detail)
        assert media.derivatives
    assert _staged(app) == []
    assert client.get(f"/vi/import/{token}").status_code == 404  # used up


def test_folder_upload_by_a_curator_keeps_the_status(app, db, client, login, tmp_path):
    login("curator")
    csv_text = HEADER + (
        ",festival,published,Lễ hội thư mục A,Tày,pre2025-p06,photos/a.jpg\n"
        ",festival,in_review,Lễ hội thư mục B,Tày,pre2025-p06,photos/b.jpg|audio/c.wav\n"
    )
    folder = {  # a browser sends the chosen folder's name in front of every relative path
        "buoi-ghi/photos/a.jpg": _jpeg(tmp_path),
        "buoi-ghi/photos/b.jpg": _jpeg(tmp_path),
        "buoi-ghi/audio/c.wav": _wav(tmp_path),
        "buoi-ghi/.DS_Store": b"finder",
    }
    records_before, media_before, _ = _snapshot(app, db)
    token = _token(_send(client, csv_text, folder=folder))
    tables = _tables(client.get(f"/en/import/{token}").get_data(as_text=True))
    assert "Errors" not in tables and "Warnings" not in tables
    assert client.post(f"/import/{token}/confirm").status_code == 201
    assert _count(db, HeritageRecord) == records_before + 2
    assert _count(db, MediaFile) == media_before + 3
    created = db.session.scalars(sa.select(HeritageRecord).order_by(HeritageRecord.id.desc()).limit(2)).all()
    assert sorted(r.status for r in created) == ["in_review", "published"]
    assert sorted(len(r.media) for r in created) == [1, 2]
    assert _staged(app) == []


def test_a_refused_file_blocks_the_whole_import(app, db, client, login, tmp_path):
    login("contributor")
    wav = _wav(tmp_path)
    truncated = wav[: len(wav) // 2]
    csv_text = HEADER + (
        ",festival,draft,Lễ hội tốt,Tày,pre2025-p06,good.jpg\n"
        ",festival,draft,Lễ hội hỏng,Tày,pre2025-p06,notes.jpg|cut.wav\n"
    )
    bundle = _zip({"good.jpg": _jpeg(tmp_path), "notes.jpg": b"not a picture\n" * 40, "cut.wav": truncated})
    before = _snapshot(app, db)
    token = _token(_send(client, csv_text, bundle))
    errors = _tables(client.get(f"/en/import/{token}").get_data(as_text=True))["Errors"]
    assert [(row, where) for row, where, _ in errors] == [("3", "cut.wav"), ("3", "notes.jpg")]
    assert errors[0][2] == "The file is incomplete (truncated); send it again."
    assert errors[1][2].startswith("This kind of file is not accepted.")

    forced = client.post(f"/import/{token}/confirm?lang=en")  # no button, but someone posts anyway
    assert forced.status_code == 422
    assert "Nothing was imported" in forced.get_data(as_text=True)
    assert _snapshot(app, db) == before  # good.jpg was not kept either
    assert _staged(app) == []
    assert client.post(f"/import/{token}/confirm").status_code == 404


def test_a_failure_while_confirming_leaves_no_orphan_originals(app, db, client, login, make_record, tmp_path):
    login("contributor")
    identifier = "rbulk" + uuid.uuid4().hex[:8]
    csv_text = HEADER + (
        f",festival,draft,Lễ hội đầu,Tày,pre2025-p06,first.jpg|first.wav\n"
        f"{identifier},festival,draft,Lễ hội sau,Tày,pre2025-p06,second.jpg\n"
    )
    bundle = _zip({"first.jpg": _jpeg(tmp_path), "first.wav": _wav(tmp_path), "second.jpg": _jpeg(tmp_path)})
    token = _token(_send(client, csv_text, bundle))
    assert "Errors" not in _tables(client.get(f"/en/import/{token}").get_data(as_text=True))
    # Between the dry run and the confirmation, someone else takes the identifier of the second row:
    # the first row's record and both its files are written before the second row fails.
    make_record(identifier=identifier, title="Bản ghi đã lấy mã")
    before = _snapshot(app, db)
    response = client.post(f"/import/{token}/confirm?lang=en")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert ("3", "identifier", f"The identifier “{identifier}” has already been issued in this archive.") in (
        _tables(page)["Errors"]
    )
    assert _snapshot(app, db) == before
    assert _staged(app) == []


# --- unsafe bundles ----------------------------------------------------------------------------------------


def _symlink_entry() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("photos/link.jpg")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def _lying_zip() -> bytes:
    """30 MB of zeros whose local and central headers both claim 1,000 bytes."""
    data = bytearray(_zip({"small.wav": b"\0" * (30 << 20)}))
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    data[local + 22 : local + 26] = (1000).to_bytes(4, "little")
    data[central + 24 : central + 28] = (1000).to_bytes(4, "little")
    return bytes(data)


UNSAFE = [
    ("parent", {"../evil.txt": b"x"}, {}, 400, "“../evil.txt” would be written outside the import"),
    ("nested parent", {"photos/../../evil.txt": b"x"}, {}, 400, "would be written outside the import"),
    ("absolute", {"/tmp/evil.txt": b"x"}, {}, 400, "“/tmp/evil.txt” would be written outside the import"),
    ("backslash", {"..\\evil.txt": b"x"}, {}, 400, "would be written outside the import"),
    ("symlink", {_symlink_entry(): "/etc/passwd"}, {}, 400, "“photos/link.jpg” in the ZIP file is a link"),
    ("too many", {f"f{i}.jpg": b"x" for i in range(6)}, {"BULK_IMPORT_MAX_FILES": 5}, 413,
     "The bundle holds 6 files, more than the limit of 5."),
    ("bomb", {"silence.wav": b"\0" * (30 << 20)}, {}, 413,
     "“silence.wav” in the ZIP file expands to far more"),
    ("over the limit", {"a.wav": os.urandom(3 << 20), "b.wav": os.urandom(3 << 20)},
     {"BULK_IMPORT_MAX_BYTES": 5 << 20}, 413, "The bundle expands to more than the limit of 5242880 bytes."),
    ("lying sizes", _lying_zip, {}, 400, "The ZIP file cannot be read"),
    ("not a zip", b"PK\x03\x04 this is not really a zip file", {}, 400, "The ZIP file cannot be read"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("label", "entries", "settings", "status", "text"), UNSAFE, ids=[u[0] for u in UNSAFE]
)
def test_unsafe_zip_files_are_refused_before_anything_is_written(
    app, db, client, login, monkeypatch, label, entries, settings, status, text
):
    login("contributor")
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    data_dir = Path(app.config["DATA_DIR"])
    before = _snapshot(app, db)
    files_before = {p for p in data_dir.rglob("*") if p.is_file()}
    zip_bytes = entries() if callable(entries) else entries if isinstance(entries, bytes) else _zip(entries)
    response = _send(client, HEADER + ",festival,draft,Lễ hội,Tày,pre2025-p06,f0.jpg\n", zip_bytes)
    assert response.status_code == status, response.get_data(as_text=True)
    assert text in html.unescape(response.get_data(as_text=True))
    assert _snapshot(app, db) == before
    assert _staged(app) == []  # the staging directory is gone too
    assert {p for p in data_dir.rglob("*") if p.is_file()} <= files_before
    assert not list(data_dir.parent.rglob("evil.txt")) and not Path("/tmp/evil.txt").exists()


def test_a_folder_with_too_many_files_is_refused(app, db, client, login, monkeypatch):
    login("contributor")
    monkeypatch.setitem(app.config, "BULK_IMPORT_MAX_FILES", 2)
    folder = {f"d/f{i}.jpg": b"x" for i in range(3)}
    response = _send(client, HEADER + ",festival,draft,Lễ hội,Tày,pre2025-p06,f0.jpg\n", folder=folder)
    assert response.status_code == 413
    assert "The bundle holds 3 files, more than the limit of 2." in response.get_data(as_text=True)
    assert _staged(app) == []


def test_zip_and_folder_together_and_bad_csv_are_refused(app, client, login):
    login("contributor")
    both = _send(client, HEADER, _zip({"a.jpg": b"x"}), folder={"d/a.jpg": b"x"})
    assert both.status_code == 400 and "Send either a ZIP file or a folder, not both." in both.get_data(
        as_text=True
    )
    data = {"csv": (io.BytesIO("category,title@vi\nfestival,Lễ hội\n".encode("utf-16")), "records.csv")}
    latin = client.post("/import?lang=en", data=data, content_type="multipart/form-data")
    assert latin.status_code == 400 and "The file is not UTF-8 text" in latin.get_data(as_text=True)
    assert _staged(app) == []


# --- who may import, and staged imports expire -------------------------------------------------------


def test_only_the_owner_sees_and_confirms_a_staged_import(app, db, client, login, tmp_path):
    login("contributor")
    csv_text = HEADER + ",festival,draft,Lễ hội của tôi,Tày,pre2025-p06,a.jpg\n"
    token = _token(_send(client, csv_text, _zip({"a.jpg": _jpeg(tmp_path)})))
    assert client.get(f"/vi/import/{token}").status_code == 200

    login("contributor")  # someone else on the same browser
    assert client.get(f"/vi/import/{token}").status_code == 404
    before = _snapshot(app, db)
    assert client.post(f"/import/{token}/confirm").status_code == 404
    assert _snapshot(app, db) == before and len(_staged(app)) == 1  # still waiting for its owner

    anonymous = app.test_client()
    for response in (anonymous.get("/vi/import"), anonymous.get(f"/vi/import/{token}"),
                     anonymous.post(f"/import/{token}/confirm")):  # fmt: skip
        assert response.status_code == 302 and "/login" in response.headers["Location"]

    login("researcher")
    assert client.get("/vi/import").status_code == 403
    assert client.get(f"/vi/import/{token}").status_code == 403
    assert client.get("/vi/import/not-a-token").status_code == 403


def test_expired_imports_are_refused_and_purged(app, db, client, login, tmp_path, monkeypatch):
    login("contributor")
    csv_text = HEADER + ",festival,draft,Lễ hội cũ,Tày,pre2025-p06,\n"
    old = _token(_send(client, csv_text))
    fresh = _token(_send(client, csv_text))
    meta = Path(app.config["DATA_DIR"]) / "bulk-imports" / old / "meta.json"
    data = json.loads(meta.read_text())
    data["created"] = time.time() - 25 * 3600
    meta.write_text(json.dumps(data))
    # The periodic job (run at once in the test configuration) removes what is older than the limit.
    app.extensions["jobs"]["purge_bulk_imports"]()
    assert [p.name for p in _staged(app)] == [fresh]
    assert client.get(f"/vi/import/{old}").status_code == 404
    assert client.get(f"/vi/import/{fresh}").status_code == 200
    monkeypatch.setitem(app.config, "BULK_IMPORT_STAGING_HOURS", 0)
    assert client.get(f"/vi/import/{fresh}").status_code == 404  # expired on the spot, and removed
    assert _staged(app) == []


# --- the command line --------------------------------------------------------------------------------


def test_command_line_import_with_a_media_directory(runner, db, app, tmp_path):
    media_dir = tmp_path / "media"
    (media_dir / "photos").mkdir(parents=True)
    (media_dir / "photos" / "a.jpg").write_bytes(_jpeg(tmp_path))
    (media_dir / "bad.jpg").write_bytes(b"")
    path = tmp_path / "records.csv"
    path.write_text(HEADER + ",festival,published,Lễ hội dòng lệnh,Tày,pre2025-p06,photos/a.jpg|bad.jpg\n")
    before = _snapshot(app, db)
    refused = runner.invoke(
        args=["archive", "import-csv", str(path), "--media", str(media_dir), "--lang", "en"]
    )
    assert refused.exit_code == 1
    assert "Row 2, file “bad.jpg”: The file is empty." in refused.output
    assert _snapshot(app, db) == before  # a.jpg was stored before bad.jpg failed, then removed again

    path.write_text(HEADER + ",festival,published,Lễ hội dòng lệnh,Tày,pre2025-p06,photos/a.jpg\n")
    result = runner.invoke(
        args=["archive", "import-csv", str(path), "--media", str(media_dir), "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    assert "1 records imported." in result.output and "1 media files queued" in result.output
    assert "File “bad.jpg”: No row lists this file; it will not be imported." in result.output
    record = db.session.scalar(sa.select(HeritageRecord).order_by(HeritageRecord.id.desc()).limit(1))
    assert record.status == "published" and [m.original_filename for m in record.media] == ["a.jpg"]
    assert (media_dir / "photos" / "a.jpg").exists()  # copied, never moved out of the user's directory


# --- in a real browser -----------------------------------------------------------------------------------


@pytest.mark.browser
def test_a_folder_chosen_in_a_browser_is_imported(browser, isolated_app, tmp_path, artifacts_dir):
    """Chromium sends a chosen folder's files with their relative paths; the report, then the import."""
    import threading

    from playwright.sync_api import expect
    from werkzeug.serving import make_server

    from archive.accounts.models import User
    from archive.core.extensions import db as _db

    app = isolated_app("bulkbrowser")
    with app.app_context():
        user = User(email="can-bo@example.vn", display_name="Cán bộ văn hoá", role="contributor")
        user.set_password("correct horse battery")
        _db.session.add(user)
        _db.session.commit()
        email, user_id = user.email, user.id
    folder = tmp_path / "buoi-ghi-hinh"
    (folder / "photos").mkdir(parents=True)
    (folder / "audio").mkdir()
    (folder / "photos" / "longtong-1.jpg").write_bytes(_jpeg(tmp_path))
    (folder / "audio" / "then.wav").write_bytes(_wav(tmp_path))
    csv_path = tmp_path / "records.csv"
    csv_path.write_text(
        "category,title@vi,files\n"
        "festival,Lễ Lồng tồng (trình duyệt),photos/longtong-1.jpg\n"
        "ritual,Hát Then (trình duyệt),audio/then.wav\n",
        encoding="utf-8",
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    context = browser.new_context(locale="en-GB")
    try:
        page = context.new_page()
        violations = []
        page.on(
            "console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None
        )
        page.goto(base + "/login?lang=en")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Sign in").click()
        page.goto(base + "/import")
        page.set_input_files("#csv", str(csv_path))
        page.set_input_files("#folder", str(folder))
        page.get_by_role("button", name="Check the import").click()
        assert "/import/" in page.url
        expect(page.get_by_text("Every row and every file passed the checks.")).to_be_visible()
        page.screenshot(path=str(artifacts_dir / "bulk-import-report.png"), full_page=True)
        page.get_by_role("button", name="Import 2 records").click()
        assert page.get_by_role("heading", level=1).inner_text() == "Import done"
        page.screenshot(path=str(artifacts_dir / "bulk-import-done.png"), full_page=True)
        assert violations == []
    finally:
        context.close()
        server.shutdown()
        thread.join(timeout=10)
    with app.app_context():
        records = _db.session.scalars(sa.select(HeritageRecord).order_by(HeritageRecord.id)).all()
        assert [(r.status, r.created_by_id, [m.original_filename for m in r.media]) for r in records] == [
            ("draft", user_id, ["longtong-1.jpg"]),
            ("draft", user_id, ["then.wav"]),
        ]
        assert all(m.state == "ready" for r in records for m in r.media)
