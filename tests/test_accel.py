"""X-Accel-Redirect: behind nginx, allowed file requests hand the bytes to nginx; refused ones never do."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from archive.media.models import MediaFile

PREFIX = "/_protected"


@pytest.fixture
def behind_nginx(app, monkeypatch):
    monkeypatch.setitem(app.config, "ACCEL_REDIRECT_PREFIX", PREFIX)


def _demo_media(db, kind: str) -> MediaFile:
    """A ready demo file of *kind* that anonymous visitors may see."""
    from archive.core.access import can_view_media

    candidates = db.session.scalars(
        sa.select(MediaFile).where(MediaFile.kind == kind, MediaFile.state == "ready").order_by(MediaFile.id)
    )
    media = next((m for m in candidates if m.access_level == "public" and can_view_media(m)), None)
    assert media is not None, f"the demo has no public ready {kind}"
    return media


def _target(app, header: str) -> Path:
    assert header.startswith(PREFIX + "/")
    return Path(app.config["DATA_DIR"]) / header[len(PREFIX) + 1 :]


def test_original_is_handed_to_nginx_with_its_headers(app, db, client, behind_nginx):
    media = _demo_media(db, "image")
    response = client.get(f"/media/{media.public_id}/file")
    assert response.status_code == 200
    assert response.get_data() == b""
    target = _target(app, response.headers["X-Accel-Redirect"])
    assert target.is_file() and target.stat().st_size == media.size_bytes
    assert response.mimetype == media.mime_type
    assert response.headers["ETag"].strip('"') == media.sha256
    assert "filename=" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"].startswith("public")


def test_renditions_tiles_and_revalidation(app, db, client, behind_nginx):
    audio = _demo_media(db, "audio")
    web = client.get(f"/media/{audio.public_id}/r/web")
    assert web.status_code == 200 and web.get_data() == b""
    assert _target(app, web.headers["X-Accel-Redirect"]).is_file()
    again = client.get(f"/media/{audio.public_id}/r/web", headers={"If-None-Match": web.headers["ETag"]})
    assert again.status_code == 304 and "X-Accel-Redirect" not in again.headers
    image = _demo_media(db, "image")
    tile = client.get(f"/iiif/3/{image.public_id}/full/max/0/default.jpg")
    if "X-Accel-Redirect" not in tile.headers:  # rendered on the fly (not a stored size): bytes as before
        tile = client.get(f"/iiif/3/{image.public_id}/0,0,256,256/256,/0/default.jpg")
    assert tile.status_code == 200 and tile.mimetype == "image/jpeg"
    assert tile.get_data() == b"" and _target(app, tile.headers["X-Accel-Redirect"]).is_file()


def test_refused_requests_get_no_redirect(app, db, client, behind_nginx):
    media = _demo_media(db, "image")
    media.access_level = "private"
    db.session.commit()
    for path in (
        f"/media/{media.public_id}/file",
        f"/iiif/3/{media.public_id}/0,0,256,256/256,/0/default.jpg",
    ):
        response = client.get(path)
        assert response.status_code in (401, 403, 404), path
        assert "X-Accel-Redirect" not in response.headers


def test_unset_prefix_sends_the_bytes(app, db, client):
    media = _demo_media(db, "image")
    response = client.get(f"/media/{media.public_id}/file")
    assert response.status_code == 200 and "X-Accel-Redirect" not in response.headers
    assert len(response.get_data()) == media.size_bytes
    response.close()


def test_paths_outside_the_data_dir_are_refused(app, tmp_path):
    from archive.core.accel import accel_uri

    data = Path(app.config["DATA_DIR"])
    with app.test_request_context():
        assert accel_uri(data / "originals" / "ab" / "x y.jpg", PREFIX) == f"{PREFIX}/originals/ab/x%20y.jpg"
        for outside in (tmp_path / "secret.txt", data / ".." / "archive.sqlite3", Path("/etc/passwd")):
            with pytest.raises(ValueError):
                accel_uri(outside, PREFIX)
