"""Fingerprinted static files with long cache lifetimes, and compression of text responses."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from pathlib import Path

import brotli
import pytest
from flask import Flask, render_template_string, url_for
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from archive.core import assets

ROOT = Path(__file__).resolve().parent.parent
CSS = ROOT / "archive" / "static" / "archive.css"
GZIP = {"Accept-Encoding": "gzip, deflate"}


def get(client, url: str, headers: dict | None = None):
    """GET through the test client, reading the whole body (and so closing any file it sent)."""
    return client.get(url, headers=headers or {}, buffered=True)


def sha12(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def version_in(url: str) -> str:
    match = re.search(r"[?&]v=([0-9a-f]+)", url)
    assert match, url
    return match.group(1)


@pytest.fixture
def small_app(tmp_path):
    """A plain Flask app with its own static folder, to change files under it (testing mode)."""
    static = tmp_path / "static"
    static.mkdir()
    application = Flask("small", static_folder=str(static))
    application.config.update(TESTING=True, SECRET_KEY="test", SERVER_NAME="small.test")
    assets.init_app(application)

    @application.get("/page")
    def page():
        return "<p>" + "Lễ hội Lồng Tồng của người Tày, Nùng. " * 40 + "</p>"

    @application.get("/tiny")
    def tiny():
        return "<p>small</p>"

    @application.get("/form")
    def form():
        return render_template_string(
            "<form><input name=csrf_token value='{{ t }}'>{{ filler }}<input name=q></form>",
            t=generate_csrf(),
            filler="Tìm kiếm lễ hội " * 60,
        )

    return application


def public_media(db, kind: str):
    """A ready media file of the demo that anyone may see, with its record."""
    from archive.core.access import can_view_media
    from archive.media.models import MediaFile

    ready = select(MediaFile).where(MediaFile.kind == kind, MediaFile.state == "ready")
    for media in db.session.scalars(ready):
        if can_view_media(media):
            return media
    raise AssertionError(f"the demo has no public {kind}")


# Fingerprints -----------------------------------------------------------------------------------------


def test_static_urls_carry_the_content_hash(app, client):
    with app.test_request_context("/vi/records"):
        url = url_for("static", filename="archive.css")
    assert url.startswith("/static/archive.css?")
    assert version_in(url) == sha12(CSS)

    page = get(client, "/vi/records").get_data(as_text=True)
    assert f"/static/archive.css?v={sha12(CSS)}" in page


def test_fingerprint_changes_when_the_file_changes(small_app):
    path = Path(small_app.static_folder) / "site.css"
    path.write_text("body { color: #222; }\n")
    with small_app.app_context():
        first = url_for("static", filename="site.css")
    assert version_in(first) == sha12(path)

    path.write_text("body { color: #333; }\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with small_app.app_context():
        second = url_for("static", filename="site.css")
    assert version_in(second) == sha12(path) != version_in(first)

    client = small_app.test_client()
    assert get(client, second).headers["Cache-Control"] == assets.LONG_CACHE
    stale = get(client, first)
    assert stale.status_code == 200
    assert stale.headers["Cache-Control"] == assets.SHORT_CACHE


def test_a_missing_static_file_gets_no_fingerprint(small_app):
    with small_app.app_context():
        assert url_for("static", filename="nowhere.css") == "http://small.test/static/nowhere.css"


def test_long_cache_only_with_the_current_hash(client):
    current = get(client, f"/static/archive.css?v={sha12(CSS)}")
    assert current.status_code == 200
    assert current.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Expires" not in current.headers
    for url in ("/static/archive.css?v=000000000000", "/static/archive.css"):
        response = get(client, url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == assets.SHORT_CACHE, url
    assert get(client, f"/static/nowhere.css?v={sha12(CSS)}").status_code == 404


def test_vendor_script_is_cached_for_a_year_only_under_its_version(app, client):
    from archive.media.tus import client_version

    version = client_version()
    assert version, "tus-js-client is not installed: run npm ci"
    with app.test_request_context("/vi/records"):
        url = url_for("tus.client_script", v=version)
    current = get(client, url)
    assert current.status_code == 200
    assert current.headers["Cache-Control"] == assets.LONG_CACHE
    assert get(client, "/static/vendor/tus.min.js?v=0.0.1").headers["Cache-Control"] == assets.SHORT_CACHE


# Compression ------------------------------------------------------------------------------------------


def test_html_page_is_gzipped_when_the_browser_asks(client):
    plain = get(client, "/vi/records")
    packed = get(client, "/vi/records", headers=GZIP)
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "accept-encoding" in {v.lower() for v in plain.vary}
    assert "accept-encoding" in {v.lower() for v in packed.vary}
    html = gzip.decompress(packed.get_data()).decode()
    assert html.startswith("<!doctype html>") and "</html>" in html
    assert int(packed.headers["Content-Length"]) == len(packed.get_data()) < len(plain.get_data()) / 3


def test_stylesheet_gzip_and_brotli_keep_etags_working(client):
    url = f"/static/archive.css?v={sha12(CSS)}"
    plain = get(client, url)
    assert plain.get_data() == CSS.read_bytes()
    assert "Content-Encoding" not in plain.headers

    packed = get(client, url, headers=GZIP)
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.get_data()) == CSS.read_bytes()
    assert packed.headers["Vary"].lower().count("accept-encoding") == 1
    assert "Accept-Ranges" not in packed.headers
    etag, weak = packed.get_etag()
    assert weak and etag

    again = get(client, url, headers={**GZIP, "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304
    assert "accept-encoding" in again.headers["Vary"].lower()
    assert again.headers["Cache-Control"] == assets.LONG_CACHE

    br = get(client, url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.headers["Content-Encoding"] == "br"
    assert brotli.decompress(br.get_data()) == CSS.read_bytes()
    assert len(br.get_data()) < len(packed.get_data())


def test_iiif_information_is_compressed_and_revalidated(client, db):
    media = public_media(db, "image")
    url = f"/iiif/3/{media.public_id}/info.json"
    plain = get(client, url)
    packed = get(client, url, headers=GZIP)
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    assert packed.headers["ETag"].startswith('W/"')
    revalidated = get(client, url, headers={**GZIP, "If-None-Match": packed.headers["ETag"]})
    assert revalidated.status_code == 304
    assert revalidated.get_data() == b""


def test_no_compression_refused_by_the_browser(client):
    response = get(client, "/vi/records", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in response.headers
    assert response.get_data(as_text=True).startswith("<!doctype html>")


def test_a_range_request_gets_the_plain_bytes(client):
    data = CSS.read_bytes()
    partial = get(client, "/static/archive.css", headers={**GZIP, "Range": "bytes=0-99"})
    assert partial.status_code == 206
    assert "Content-Encoding" not in partial.headers
    assert partial.get_data() == data[:100]


def test_images_are_not_recompressed(client, db):
    media = public_media(db, "image")
    response = get(client, f"/iiif/3/{media.public_id}/full/200,/0/default.jpg", headers=GZIP)
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert "Content-Encoding" not in response.headers
    assert response.get_data()[:3] == b"\xff\xd8\xff"


def test_audio_range_requests_still_work(app, client, db):
    media = public_media(db, "audio")
    name = next(d.name for d in media.derivatives if d.mime_type.startswith("audio/"))
    with app.test_request_context("/vi/records"):
        url = url_for("media.rendition", public_id=media.public_id, name=name)
    whole = get(client, url, headers=GZIP)
    assert whole.status_code == 200 and "Content-Encoding" not in whole.headers
    partial = get(client, url, headers={**GZIP, "Range": "bytes=100-1099"})
    assert partial.status_code == 206
    assert "Content-Encoding" not in partial.headers
    assert partial.get_data() == whole.get_data()[100:1100]


def test_small_bodies_and_pages_with_a_csrf_token_stay_plain(small_app):
    client = small_app.test_client()
    assert get(client, "/page", headers=GZIP).headers["Content-Encoding"] == "gzip"
    tiny = get(client, "/tiny", headers=GZIP)
    assert "Content-Encoding" not in tiny.headers and tiny.get_data() == b"<p>small</p>"
    form = get(client, "/form", headers=GZIP)
    assert len(form.get_data()) > 500
    assert "Content-Encoding" not in form.headers
    assert b"name=csrf_token" in form.get_data()


@pytest.mark.parametrize(
    ("mimetype", "expected"),
    [
        ("text/html", True),
        ("text/css", True),
        ("text/javascript", True),
        ("application/json", True),
        ("application/ld+json", True),
        ("application/xml", True),
        ("image/svg+xml", True),
        ("text/vtt", True),
        ("text/calendar", True),
        ("text/event-stream", False),
        ("image/jpeg", False),
        ("audio/mp4", False),
        ("application/zip", False),
        (None, False),
    ],
)
def test_compressible_types(mimetype, expected):
    assert assets.compressible(mimetype) is expected
