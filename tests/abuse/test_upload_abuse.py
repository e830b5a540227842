"""Every hostile file and name of the abuse corpus (tests/abuse/corpus.py) through every upload path that
takes its kind: the upload form, the JSON API, tus resumable uploads, bulk import (ZIP file and folder),
caption upload and dataset tables. A refusal is a 4xx (or tus's recorded "refused" state) with a message in
the user's language; nothing is kept; no local file is read and no network connection is made."""

from __future__ import annotations

import contextlib
import html
import io
import shutil
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from archive.media.models import MediaFile
from archive.records.models import HeritageRecord
from media.checks import Sniffed, input_args, probe_av, run_tool
from tests.abuse import corpus
from tests.media.test_tus import _create, _patch, metadata_header  # noqa: F401 (the tus helpers)
from tests.records.test_bulk_import import HEADER, _send, _tables, _token

MEDIA = corpus.media_items(Path(tempfile.gettempdir()))  # made files are removed at once
REFUSED = [item for item in MEDIA if item.answer == "refused"]
INERT = [item for item in MEDIA if item.answer == "inert"]
ids = [item.label for item in MEDIA]


@pytest.fixture(scope="module")
def listener():
    """A loopback HTTP listener the hostile playlists point at: it must never be reached."""
    found = corpus.LoopbackListener()
    yield found
    found.close()
    assert found.connections == [], found.connections


def _files(app, *folders: str) -> set[Path]:
    root = Path(app.config["DATA_DIR"])
    return {p for folder in folders for p in (root / folder).rglob("*") if p.is_file()}


def _state(app, db) -> tuple:
    """What an upload could leave behind: media and record rows, originals, incoming and staged files."""
    media = db.session.scalar(sa.select(sa.func.count()).select_from(MediaFile))
    records = db.session.scalar(sa.select(sa.func.count()).select_from(HeritageRecord))
    return media, records, _files(app, "originals", "incoming", "bulk-imports")


@pytest.fixture
def own_record(make_record, login):
    user = login("contributor")
    return make_record(title="Bản ghi thử tải lên độc hại", status="draft", created_by=user)


def _reason(app, lang: str, code: str) -> str:
    from flask_babel import force_locale

    from archive.media.views import reason_text

    with app.test_request_context(), force_locale(lang):
        return reason_text(code).split("%(")[0]


def _no_leak(app) -> None:
    """No derivative or original holds the text of /etc/passwd."""
    for path in _files(app, "derivatives", "originals"):
        if path.stat().st_size < 50_000_000:
            data = path.read_bytes()
            assert not any(marker in data for marker in corpus.PASSWD_MARKERS), path


# --- the upload form ----------------------------------------------------------------------------------------


def _form_upload(client, record, data: bytes, name: str, lang: str = "en"):
    response = client.post(
        f"/records/{record.public_id}/media?lang={lang}",
        data={"files": [(io.BytesIO(data), name)]},
        content_type="multipart/form-data",
    )
    response.request.environ["wsgi.input"].close()
    return response


@pytest.mark.parametrize("item", REFUSED, ids=[i.label for i in REFUSED])
def test_form_upload_refuses(app, db, client, own_record, listener, item):
    before = _state(app, db)
    lang = "vi" if item.reason == "external_reference" else "en"
    response = _form_upload(client, own_record, item.make(listener.url), item.filename, lang)
    assert 400 <= response.status_code < 500, response.status_code
    assert _reason(app, lang, item.reason) in html.unescape(response.get_data(as_text=True))
    assert _state(app, db) == before
    assert listener.connections == []


@pytest.mark.parametrize("item", INERT, ids=[i.label for i in INERT])
def test_form_upload_keeps_valid_media_with_a_payload_only_as_media(
    app, db, client, own_record, listener, item
):
    response = _form_upload(client, own_record, item.make(listener.url), item.filename)
    assert response.status_code == 201, response.get_data(as_text=True)
    media = db.session.scalar(sa.select(MediaFile).where(MediaFile.record_id == own_record.id))
    db.session.refresh(media)
    assert media.state == "ready", media.state_detail
    original = client.get(f"/media/{media.public_id}/file")
    assert original.mimetype in ("image/jpeg", "audio/mpeg")
    assert original.headers["X-Content-Type-Options"] == "nosniff"
    original.close()
    for page in (
        "/en/my/media",
        f"/en/records/{own_record.public_id}/edit",
        f"/en/records/{own_record.public_id}/media",
    ):
        text = client.get(page).get_data(as_text=True)
        assert "<script>alert('abuse-corpus')" not in text, page
    _no_leak(app)


@pytest.mark.parametrize("name", corpus.HOSTILE_NAMES, ids=range(len(corpus.HOSTILE_NAMES)))
def test_form_upload_hostile_names_stay_information(app, db, client, own_record, name):
    data_dir = Path(app.config["DATA_DIR"])
    outside = {p for p in data_dir.parent.iterdir()}
    response = _form_upload(client, own_record, corpus.small_jpeg(), name)
    page = response.get_data(as_text=True)
    assert "<script>alert('abuse-corpus')" not in page
    if response.status_code == 201:
        media = db.session.scalar(sa.select(MediaFile).where(MediaFile.record_id == own_record.id))
        assert not set(media.original_filename) & {"/", "\\", "\x00"}
        assert len(media.original_filename) <= 200
        stored = data_dir / "originals" / media.storage_key
        assert stored.name.startswith(media.sha256) and stored.is_file()
    else:
        assert 400 <= response.status_code < 500
    assert {p for p in data_dir.parent.iterdir()} == outside
    assert not Path("/etc/passwd.jpg").exists()


# --- the JSON API -------------------------------------------------------------------------------------------


@pytest.fixture
def api_record(client, make_user, make_record, db):
    from archive.api import tokens

    user = make_user("contributor")
    _token, secret = tokens.create_token(user, "abuse", None)
    db.session.commit()
    return make_record(status="draft", created_by=user), {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize("item", REFUSED, ids=[i.label for i in REFUSED])
def test_api_upload_refuses(app, db, client, api_record, listener, item):
    record, auth = api_record
    before = _state(app, db)
    lang = "vi" if item.label == "html named jpg" else "en"
    response = client.post(
        f"/api/v1/records/{record.public_id}/media",
        data={"file": (io.BytesIO(item.make(listener.url)), item.filename)},
        content_type="multipart/form-data",
        headers={**auth, "Accept-Language": lang},
    )
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == item.reason
    assert _reason(app, lang, item.reason) in error["fields"]["file"]
    assert _state(app, db) == before
    assert listener.connections == []


# --- tus resumable uploads ----------------------------------------------------------------------------------


def _tus(client, record, data: bytes, name: str):
    created = _create(client, record, len(data), name)
    assert created.status_code == 201, created.get_data(as_text=True)
    url = created.headers["Location"]
    sent = _patch(client, url, 0, data)
    return url, sent


@pytest.mark.parametrize("item", REFUSED, ids=[i.label for i in REFUSED])
def test_tus_upload_records_the_refusal(app, db, client, own_record, listener, item):
    before = _state(app, db)
    url, sent = _tus(client, own_record, item.make(listener.url), item.filename)
    assert sent.status_code == 204
    status = client.get(url + "/status?lang=en").get_json()
    assert status["state"] == "refused" and status["media"] is None
    assert _reason(app, "en", item.reason) in status["message"]
    vietnamese = client.get(url + "/status?lang=vi").get_json()["message"]
    assert _reason(app, "vi", item.reason) in vietnamese and vietnamese != status["message"]
    assert _state(app, db) == before
    assert listener.connections == []


@pytest.mark.parametrize("name", corpus.HOSTILE_NAMES, ids=range(len(corpus.HOSTILE_NAMES)))
def test_tus_metadata_file_names_stay_information(app, db, client, own_record, name):
    data_dir = Path(app.config["DATA_DIR"])
    outside = {p for p in data_dir.parent.iterdir()}
    data = corpus.small_jpeg()
    created = _create(client, own_record, len(data), name)
    if created.status_code != 201:
        assert 400 <= created.status_code < 500
        return
    url = created.headers["Location"]
    assert _patch(client, url, 0, data).status_code == 204
    media = db.session.scalar(sa.select(MediaFile).where(MediaFile.record_id == own_record.id))
    assert media is not None
    assert not set(media.original_filename) & {"/", "\\", "\x00"} and len(media.original_filename) <= 200
    assert {p for p in data_dir.parent.iterdir()} == outside


# --- bulk import: a ZIP file or a folder --------------------------------------------------------------------


@pytest.fixture
def staging(app):
    root = Path(app.config["DATA_DIR"]) / "bulk-imports"
    shutil.rmtree(root, ignore_errors=True)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _row(name: str) -> str:
    return HEADER + f",festival,draft,Lễ hội độc hại,Tày,pre2025-p06,{name}\n"


@pytest.mark.parametrize("how", ["zip", "folder"])
@pytest.mark.parametrize("item", REFUSED, ids=[i.label for i in REFUSED])
def test_bulk_import_reports_the_file_and_imports_nothing(
    app, db, client, login, staging, listener, item, how
):
    login("contributor")
    before = _state(app, db)
    data = item.make(listener.url)
    name = "f0." + item.filename.rsplit(".", 1)[1]
    if how == "zip":
        response = _send(client, _row(name), corpus.zip_of({name: data}))
    else:
        response = _send(client, _row(name), folder={f"may-ghi/{name}": data})
    token = _token(response)
    lang = "vi" if item.label == "png pixel flood" else "en"
    errors = _tables(client.get(f"/{lang}/import/{token}").get_data(as_text=True))
    rows = next(rows for caption, rows in errors.items() if caption in ("Errors", "Lỗi"))
    assert any(where == name and _reason(app, lang, item.reason) in text for _row_n, where, text in rows), (
        rows
    )
    refused = client.post(f"/import/{token}/confirm?lang=en")
    assert refused.status_code == 422
    assert _state(app, db)[:2] == before[:2]
    assert _files(app, "originals", "incoming") == {p for p in before[2] if "bulk-imports" not in p.parts}
    assert not staging.exists() or not any(staging.iterdir())
    assert listener.connections == []


@pytest.mark.parametrize("how", ["zip", "folder"])
@pytest.mark.parametrize("path", corpus.ESCAPING_PATHS)
def test_bulk_import_refuses_escaping_paths_before_writing(app, db, client, login, staging, path, how):
    login("contributor")
    before = _state(app, db)
    if how == "zip":
        response = _send(client, _row("f0.jpg"), corpus.zip_of({"f0.jpg": corpus.small_jpeg(), path: b"x"}))
    else:
        response = _send(client, _row("f0.jpg"), folder={"d/f0.jpg": corpus.small_jpeg(), path: b"x"})
    if response.status_code == 303:  # the client's directory part of the name was dropped: kept inside
        token = _token(response)
        assert [p.parent for p in staging.rglob("evil.txt")] in ([], [staging / token / "media"])
    else:
        assert response.status_code == 400, response.status_code
        assert "would be written outside the import" in html.unescape(response.get_data(as_text=True))
        assert _state(app, db) == before
    escaped = [p for p in Path(app.config["DATA_DIR"]).parent.rglob("evil.txt") if staging not in p.parents]
    assert escaped == [] and not Path("/tmp/evil.txt").exists()


@pytest.mark.parametrize("how", ["zip", "folder"])
@pytest.mark.parametrize("name", corpus.HOSTILE_NAMES, ids=range(len(corpus.HOSTILE_NAMES)))
def test_bulk_import_hostile_entry_names_never_crash_or_escape(app, db, client, login, staging, name, how):
    login("contributor")
    before = _state(app, db)
    outside = {p for p in Path(app.config["DATA_DIR"]).parent.iterdir()}
    entries = {name: corpus.small_jpeg()}
    response = (
        _send(client, _row("f0.jpg"), corpus.zip_of(entries))
        if how == "zip"
        else _send(client, _row("f0.jpg"), folder={f"d/{name}": corpus.small_jpeg()})
    )
    assert response.status_code in (303, 400, 413), response.status_code
    assert "<script>alert('abuse-corpus')" not in response.get_data(as_text=True)
    if response.status_code == 303:
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "<script>alert('abuse-corpus')" not in page
    assert _state(app, db)[:2] == before[:2]
    assert {p for p in Path(app.config["DATA_DIR"]).parent.iterdir()} == outside


@pytest.mark.parametrize(
    ("label", "make", "status", "text"), corpus.ZIP_BOMBS, ids=[b[0] for b in corpus.ZIP_BOMBS]
)
def test_zip_bombs_are_refused_before_anything_is_written(
    app, db, client, login, staging, label, make, status, text
):
    login("contributor")
    before = _state(app, db)
    for lang in ("en", "vi"):
        response = _send(client, _row("f0.wav"), make(), lang=lang)
        assert response.status_code == status, response.status_code
        page = html.unescape(response.get_data(as_text=True))
        assert 'role="alert"' in page or "alert" in page
        if text and lang == "en":
            assert text in page
    assert _state(app, db) == before


def test_a_nested_zip_is_never_expanded(app, db, client, login, staging):
    login("contributor")
    bundle = corpus.zip_nested_bomb()
    response = _send(client, _row("f0.jpg"), bundle)
    token = _token(response)
    media_dir = staging / token / "media"
    assert sorted(p.name for p in media_dir.rglob("*")) == ["f0.jpg", "nested.zip"]
    assert sum(p.stat().st_size for p in media_dir.rglob("*")) < 1 << 20  # 256 MB once fully expanded


# --- captions -----------------------------------------------------------------------------------------------

CAPTIONS = [
    ("html as vtt", corpus.HTML_PAYLOAD),
    ("svg as vtt", corpus.svg_with_script()),
    ("nul bytes", b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nA\x00B\n"),
    ("playlist as vtt", b"WEBVTT\n#EXTM3U\n00:00:00.000 --> 00:00:01.000\n"),
    ("utf-16", "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nLời\n".encode("utf-16")),
    ("binary", bytes(range(256)) * 10),
]


@pytest.fixture
def sound(app, db, client, own_record, tmp_path):
    from tests.media import samples

    path = samples.wav(tmp_path / "a.wav", seconds=1.2 + (hash(tmp_path) % 100) / 1000)
    assert _form_upload(client, own_record, path.read_bytes(), "a.wav").status_code == 201
    return db.session.scalar(sa.select(MediaFile).where(MediaFile.record_id == own_record.id))


@pytest.mark.parametrize(("label", "data"), CAPTIONS, ids=[c[0] for c in CAPTIONS])
def test_hostile_captions_are_refused(app, db, client, sound, label, data):
    before = _files(app, "derivatives")
    for lang in ("en", "vi"):
        response = client.post(
            f"/media/{sound.public_id}/captions?lang={lang}",
            content_type="multipart/form-data",
            data={"file": (io.BytesIO(data), "../../x.vtt"), "lang": "vi", "kind": "captions"},
        )
        assert response.status_code == 400, response.status_code
        assert _reason(app, lang, "bad_captions") in html.unescape(response.get_data(as_text=True))
    db.session.refresh(sound)
    assert sound.captions == [] and _files(app, "derivatives") == before


def test_a_caption_cue_with_markup_is_served_only_as_webvtt(app, db, client, sound):
    data = b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n<script>alert('abuse-corpus')</script>\n"
    response = client.post(
        f"/media/{sound.public_id}/captions?lang=en",
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(data), "c.vtt"), "lang": "vi", "kind": "transcript"},
    )
    if response.status_code == 201:
        track = client.get(f"/media/{sound.public_id}/captions/transcript-vi.vtt")
        assert track.mimetype == "text/vtt" and track.headers["X-Content-Type-Options"] == "nosniff"
        track.close()
        record = sound.record
        page = client.get(f"/en/records/{record.public_id}/{record.slug}").get_data(as_text=True)
        assert "<script>alert('abuse-corpus')" not in page
    else:
        assert response.status_code == 400


# --- dataset tables -----------------------------------------------------------------------------------------


@pytest.fixture
def dataset(client, login, db):
    from archive.datasets.models import Dataset

    login("contributor")
    response = client.post(
        "/vi/admin/datasets/new",
        data={"slug": "bang-doc-hai", "title_vi": "Bảng độc hại", "accrual_periodicity": "IRREG",
              "license_uri": "http://creativecommons.org/licenses/by/4.0/"},
    )  # fmt: skip
    assert response.status_code == 303
    return db.session.scalar(sa.select(Dataset).where(Dataset.slug == "bang-doc-hai"))


TABLES = [
    ("png flood as csv", lambda: corpus.png_header_flood(), "bang.csv"),
    ("jpeg+zip polyglot as xlsx", corpus.jpeg_zip_polyglot, "bang.xlsx"),
    ("pdf+html as csv", corpus.pdf_html_polyglot, "bang.csv"),
    ("zip ratio bomb as xlsx", corpus.zip_ratio_bomb, "bang.xlsx"),
    ("overlapping zip as xlsx", corpus.zip_overlapping_entries, "bang.xlsx"),
    ("nested zip as xlsx", corpus.zip_nested_bomb, "bang.xlsx"),
]


@pytest.mark.parametrize(("label", "make", "name"), TABLES, ids=[t[0] for t in TABLES])
def test_hostile_tables_are_refused(app, db, client, dataset, label, make, name):
    before = _files(app, "originals", "incoming")
    data = make()
    for lang in ("en", "vi"):
        response = client.post(
            f"/{lang}/admin/datasets/{dataset.id}/upload",
            data={"file": (io.BytesIO(data), name), "schema_mode": "infer"},
            content_type="multipart/form-data",
        )
        assert response.status_code == 400, (label, response.status_code)
        assert 'role="alert"' in response.get_data(as_text=True)
    assert _files(app, "originals", "incoming") == before
    db.session.expire_all()
    assert dataset.versions == []


# --- ffmpeg itself: a playlist never reaches a file or the network ------------------------------------------


@pytest.mark.parametrize("demuxer", ["wav", "mp3", "flac", "ogg", "mov", "matroska"])
def test_ffprobe_with_any_archive_demuxer_reads_no_playlist(app, tmp_path, listener, demuxer):
    """Even if a playlist got past sniffing, the forced demuxer and the file-only protocol keep ffprobe
    from following it."""
    for make in (corpus.hls_to_loopback, corpus.hls_to_local_file, corpus.ffconcat_list, corpus.plain_m3u):
        path = tmp_path / "x.bin"
        path.write_bytes(make(listener.url))
        result = run_tool(
            [
                "ffprobe",
                "-hide_banner",
                "-v",
                "error",
                *input_args(path, demuxer),
                "-show_packets",
                "-of",
                "json",
            ],
            timeout=20,
            memory_limit=app.config["TOOL_MEMORY_LIMIT"],
        )
        assert result.returncode != 0 or b'"packets": [' not in result.stdout or b"pts" not in result.stdout
        assert not any(marker in result.stdout for marker in corpus.PASSWD_MARKERS)
        with pytest.raises(Exception):  # noqa: B017 - MediaRejected of one reason or another
            probe_av(path, Sniffed("unknown-av", "video/mp4", demuxer, "mp4"), ffprobe="ffprobe",
                     timeout=20, memory_limit=app.config["TOOL_MEMORY_LIMIT"], max_duration=3600)  # fmt: skip
    assert listener.connections == []


def test_the_worker_fails_a_hostile_original_with_a_reason_and_goes_on(
    app, db, client, own_record, listener, tmp_path
):
    """A playlist put in place of an accepted original (what the checks could miss) ends failed with a
    reason; the next job still runs."""
    from archive.core.storage import original_path
    from archive.media.services import MAX_ATTEMPTS, derive_media_job, rebuild_derivatives
    from tests.media import samples

    first = samples.wav(tmp_path / "first.wav", seconds=1.31).read_bytes()
    assert _form_upload(client, own_record, first, "first.wav").status_code == 201
    media = db.session.scalar(sa.select(MediaFile).where(MediaFile.record_id == own_record.id))
    path = original_path(media.storage_key)
    path.chmod(0o644)
    path.write_bytes(corpus.hls_to_loopback(listener.url) + corpus.hls_to_local_file(""))
    try:
        rebuild_derivatives(media)  # runs the first attempt at once in the test configuration
        for _attempt in range(MAX_ATTEMPTS):  # the retries Huey would run later
            db.session.refresh(media)
            if media.state == "failed":
                break
            with contextlib.suppress(Exception):  # a failed attempt raises so that Huey retries it
                derive_media_job(media.id)
        db.session.refresh(media)
        assert media.state == "failed" and media.state_reason, (media.state, media.state_reason)
    finally:
        path.write_bytes(first)
        path.chmod(0o444)
    second = samples.wav(tmp_path / "second.wav", seconds=1.47).read_bytes()
    assert _form_upload(client, own_record, second, "second.wav").status_code == 201
    newest = db.session.scalar(
        sa.select(MediaFile).where(MediaFile.record_id == own_record.id).order_by(MediaFile.id.desc())
    )
    db.session.refresh(newest)
    assert newest.state == "ready"
    _no_leak(app)
    assert listener.connections == []
