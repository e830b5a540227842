"""Uploading originals over HTTP: accepted files get renditions; refused files leave nothing behind."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from archive.media.models import MediaFile
from tests.media import samples


def _originals(app) -> set[Path]:
    root = Path(app.config["DATA_DIR"]) / "originals"
    return {p for p in root.rglob("*") if p.is_file()}


def _incoming(app) -> list[Path]:
    root = Path(app.config["DATA_DIR"]) / "incoming"
    return [p for p in root.glob("*") if p.is_file()] if root.exists() else []


def _media_count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(MediaFile))


@pytest.fixture
def own_record(make_record, login):
    user = login("contributor")
    return make_record(title="Bản ghi có tư liệu", created_by=user)


def _upload(client, record, path: Path, name: str | None = None, lang: str = "en"):
    with path.open("rb") as handle:
        response = client.post(
            f"/records/{record.public_id}/media?lang={lang}",
            data={"files": [(handle, name or path.name)], "caption_vi": "Chú thích"},
            content_type="multipart/form-data",
        )
    # werkzeug's test client spools a large request body to a temporary file that it leaves open
    response.request.environ["wsgi.input"].close()
    return response


@pytest.mark.parametrize("kind", ["image", "audio", "video"])
def test_accepted_files_get_renditions(client, db, own_record, tmp_path, app, kind):
    path = {
        "image": lambda: samples.jpeg(tmp_path / "a.jpg"),
        "audio": lambda: samples.wav(tmp_path / "a.wav"),
        "video": lambda: samples.mp4(tmp_path / "a.mp4"),
    }[kind]()
    response = _upload(client, own_record, path)
    assert response.status_code == 201, response.get_data(as_text=True)
    media = db.session.scalar(sa.select(MediaFile).where(MediaFile.record_id == own_record.id))
    db.session.refresh(media)
    assert media.kind == kind and media.state == "ready", (media.state, media.state_detail)
    expected = {
        "image": {"pyramid", "thumbnail"},
        "audio": {"web", "low", "peaks"},
        "video": {"720", "360", "audio_low", "poster"},
    }[kind]
    assert {d.name for d in media.derivatives} == expected
    import hashlib

    from archive.media.services import derivative_path

    for derivative in media.derivatives:
        path = derivative_path(derivative)
        assert path.exists()
        if path.is_file():
            assert hashlib.sha256(path.read_bytes()).hexdigest() == derivative.sha256
    assert _incoming(app) == []
    page = client.get("/en/my/media").get_data(as_text=True)
    assert media.public_id in page and "Ready" in page


BAD = [
    (
        "empty",
        lambda d: (d / "empty.jpg").write_bytes(b"") or d / "empty.jpg",
        None,
        400,
        "The file is empty.",
    ),
    ("truncated", lambda d: _truncate(samples.jpeg(d / "t.jpg")), None, 400, "incomplete"),
    ("mismatch", lambda d: samples.png(d / "p.png"), "picture.jpg", 415, "content is"),
    (
        "pixel flood",
        lambda d: samples.pixel_flood_png(d / "flood.png"),
        None,
        400,
        "pixels, more than the limit",
    ),
    ("hls", lambda d: _write(d / "v.mp4", samples.HLS_PLAYLIST), None, 415, "refers to other files"),
    ("concat", lambda d: _write(d / "list.mp4", samples.CONCAT_LIST), None, 415, "refers to other files"),
    ("dash", lambda d: _write(d / "stream.mp4", samples.DASH_MANIFEST), None, 415, None),
    ("text", lambda d: _write(d / "notes.mp3", b"just some text\n" * 50), None, 415, "not accepted"),
]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _truncate(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize(("label", "make", "name", "status", "message"), BAD, ids=[b[0] for b in BAD])
def test_refused_files_leave_nothing(
    client, db, own_record, tmp_path, app, label, make, name, status, message
):
    before_files, before_rows = _originals(app), _media_count(db)
    response = _upload(client, own_record, make(tmp_path), name)
    assert response.status_code == status, response.get_data(as_text=True)
    if message:
        assert message in response.get_data(as_text=True)
    assert _media_count(db) == before_rows
    assert _originals(app) == before_files
    assert _incoming(app) == []


def test_messages_follow_the_interface_language(client, own_record, tmp_path):
    response = _upload(client, own_record, _write(tmp_path / "e.jpg", b""), lang="vi")
    assert response.status_code == 400 and "Tệp trống." in response.get_data(as_text=True)


def test_size_limit_and_probe_time_limit(client, db, own_record, tmp_path, app, monkeypatch):
    before = _originals(app)
    monkeypatch.setitem(app.config, "MAX_MEDIA_BYTES", 1000)
    response = _upload(client, own_record, samples.jpeg(tmp_path / "big.jpg"))
    assert response.status_code == 413 and "larger than the limit of 1000 bytes" in response.get_data(
        as_text=True
    )
    monkeypatch.setitem(app.config, "MAX_MEDIA_BYTES", 10**9)
    monkeypatch.setitem(app.config, "PROBE_TIMEOUT", 0.001)
    response = _upload(client, own_record, samples.wav(tmp_path / "slow.wav"))
    assert response.status_code == 400 and "could not be read within" in response.get_data(as_text=True)
    assert _originals(app) == before and _incoming(app) == []


def test_the_same_file_twice_is_reported(client, db, own_record, tmp_path, app):
    path = samples.jpeg(tmp_path / "twice.jpg", color=(1, 2, 3))
    data = path.read_bytes()
    assert _upload(client, own_record, path).status_code == 201
    again = tmp_path / "again.jpg"
    again.write_bytes(data)
    before = _originals(app)
    response = _upload(client, own_record, again)
    assert response.status_code == 409 and "already in the archive" in response.get_data(as_text=True)
    assert _originals(app) == before


def test_originals_are_read_only_and_content_addressed(client, db, own_record, tmp_path, app):
    path = samples.wav(tmp_path / "song.wav", seconds=1.5)
    digest = __import__("hashlib").sha256(path.read_bytes()).hexdigest()
    assert _upload(client, own_record, path).status_code == 201
    media = db.session.scalar(sa.select(MediaFile).where(MediaFile.sha256 == digest))
    stored = Path(app.config["DATA_DIR"]) / "originals" / media.storage_key
    assert stored.name.startswith(digest) and "song" not in str(stored)
    assert stored.stat().st_mode & 0o222 == 0


def test_only_contributors_of_the_record_may_upload(client, db, make_record, login, tmp_path):
    record = make_record()
    path = samples.jpeg(tmp_path / "x.jpg")
    anonymous = _upload(client, record, path)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    login("researcher")
    assert _upload(client, record, path).status_code == 403


def test_captions_attach_and_are_served(client, db, own_record, tmp_path):
    assert _upload(client, own_record, samples.wav(tmp_path / "c.wav", seconds=2)).status_code == 201
    media = db.session.scalar(sa.select(MediaFile).where(MediaFile.record_id == own_record.id))
    good = client.post(
        f"/media/{media.public_id}/captions?lang=en",
        content_type="multipart/form-data",
        data={
            "file": (__import__("io").BytesIO(samples.VTT.encode()), "c.vtt"),
            "lang": "vi",
            "kind": "captions",
            "label": "Tiếng Việt",
        },
    )
    assert good.status_code == 201
    track = client.get(f"/media/{media.public_id}/captions/captions-vi.vtt")
    assert (
        track.status_code == 200
        and track.mimetype == "text/vtt"
        and "Lời hát" in track.get_data(as_text=True)
    )
    track.close()
    bad = client.post(
        f"/media/{media.public_id}/captions?lang=en",
        content_type="multipart/form-data",
        data={"file": (__import__("io").BytesIO(b"not captions"), "c.vtt"), "lang": "vi"},
    )
    assert bad.status_code == 400 and "not a valid WebVTT" in bad.get_data(as_text=True)
