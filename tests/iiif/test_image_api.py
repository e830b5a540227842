"""IIIF Image API 3.0 endpoints: info.json, redirects, image requests, errors, caching and access."""

import io
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.serving import make_server

from archive.media.models import MediaFile
from tests.conftest import STANDARDS

VALIDATOR_ID = "67352ccc-d1b0-11e1-89ae-279075081939"


@pytest.fixture
def picture(db):
    media = db.session.scalar(
        sa.select(MediaFile)
        .where(MediaFile.kind == "image", MediaFile.state == "ready", MediaFile.access_level == "public")
        .limit(1)
    )
    assert media is not None
    return media


def test_base_uri_redirects_to_info(client, picture):
    response = client.get(f"/iiif/3/{picture.public_id}")
    assert response.status_code == 303 and response.headers["Location"].endswith(
        f"/{picture.public_id}/info.json"
    )


def test_info_json(client, picture):
    response = client.get(f"/iiif/3/{picture.public_id}/info.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    info = response.get_json()
    assert info["@context"] == "http://iiif.io/api/image/3/context.json"
    assert info["type"] == "ImageService3" and info["profile"] == "level2"
    assert info["id"] == f"http://localhost/iiif/3/{picture.public_id}"
    assert (info["width"], info["height"]) == (picture.width, picture.height)
    assert info["tiles"][0]["width"] == 512 and 1 in info["tiles"][0]["scaleFactors"]
    assert info["sizes"] and all(s["width"] <= info["width"] for s in info["sizes"])
    ld = client.get(f"/iiif/3/{picture.public_id}/info.json", headers={"Accept": "application/ld+json"})
    assert ld.mimetype == "application/ld+json"
    assert 'profile="http://iiif.io/api/image/3/context.json"' in ld.headers["Content-Type"]


@pytest.mark.parametrize(
    ("path", "size", "mode", "fmt"),
    [
        ("full/max/0/default.jpg", None, "RGB", "JPEG"),
        ("full/!400,400/0/default.png", (400, 267), "RGB", "PNG"),
        ("square/200,/90/gray.webp", (200, 200), "L", "WEBP"),
        ("100,100,600,300/300,/0/bitonal.png", (300, 150), "1", "PNG"),
        ("pct:10,10,50,50/pct:50/!0/color.jpg", (300, 200), "RGB", "JPEG"),
        ("full/^1600,/0/default.jpg", (1600, 1067), "RGB", "JPEG"),
    ],
)
def test_image_requests(client, picture, path, size, mode, fmt):
    with client.get(f"/iiif/3/{picture.public_id}/{path}") as response:
        assert response.status_code == 200, response.get_data(as_text=True)
        data = response.data
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == fmt
        assert image.size == (size or (picture.width, picture.height))
        if fmt == "WEBP" and mode == "L":  # WebP has no grey mode: every pixel must be grey
            rgb = image.convert("RGB")
            assert all(max(p) - min(p) <= 4 for p in rgb.getdata())  # lossy YUV: within a few levels
        else:
            assert image.mode in (mode, "RGBA" if mode == "RGB" else mode, "LA" if mode == "L" else mode)


def test_tiles_are_served_from_the_pyramid_with_caching(client, picture):
    from archive.media.services import derivative_path

    tile = derivative_path(picture.derivative("pyramid")) / "tiles" / "1" / "0_0.jpg"
    with client.get(f"/iiif/3/{picture.public_id}/0,0,512,512/512,/0/default.jpg") as response:
        assert response.status_code == 200
        assert response.data == tile.read_bytes()
        assert "max-age=31536000" in response.headers["Cache-Control"]
        etag = response.headers["ETag"]
    with client.get(
        f"/iiif/3/{picture.public_id}/0,0,512,512/512,/0/default.jpg", headers={"If-None-Match": etag}
    ) as again:
        assert again.status_code == 304
    # a rendered (not stored) image: the render cache and its ETag
    with client.get(f"/iiif/3/{picture.public_id}/100,100,900,600/!301,301/0/default.jpg") as rendered:
        assert rendered.status_code == 200
    with client.get(
        f"/iiif/3/{picture.public_id}/100,100,900,600/!301,301/0/default.jpg",
        headers={"If-None-Match": rendered.headers["ETag"]},
    ) as cached:
        assert cached.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "full/max/0/default.gif",
        "full/max/0/fancy.jpg",
        "full/max/361/default.jpg",
        "full/0,/0/default.jpg",
        "10,10,0,10/max/0/default.jpg",
        "99999,99999,10,10/max/0/default.jpg",
        "full/2000,/0/default.jpg",
        "full/^99999,/0/default.jpg",
        "ful/max/0/default.jpg",
        "full/max/0/default",
        "full/pct:0/0/default.jpg",
        "full/max/-90/default.jpg",
        "full/!10/0/default.jpg",
    ],
)
def test_malformed_requests_are_400(client, picture, path):
    assert client.get(f"/iiif/3/{picture.public_id}/{path}").status_code == 400


def test_unknown_and_restricted_images(client, db, picture, login):
    assert client.get("/iiif/3/m0000000000/info.json").status_code == 404
    assert client.get("/iiif/3/m0000000000/full/max/0/default.jpg").status_code == 404
    picture.access_level = "private"
    db.session.flush()
    assert client.get(f"/iiif/3/{picture.public_id}/info.json").status_code == 401
    assert client.get(f"/iiif/3/{picture.public_id}/full/max/0/default.jpg").status_code == 401
    assert client.get(f"/media/{picture.public_id}/file").status_code == 401
    login("researcher")
    assert client.get(f"/iiif/3/{picture.public_id}/info.json").status_code == 403
    assert client.get(f"/iiif/3/{picture.public_id}/0,0,512,512/512,/0/default.jpg").status_code == 403


def test_official_validator_passes_at_level_2(tmp_path, isolated_app):
    """The IIIF Image API validator, run against a live server, reports zero failures at level 2."""
    from archive.core.extensions import db
    from archive.media.services import ingest_file, queue_derivatives
    from archive.records.services import create_record
    from metadata.csv_records import RecordInput

    app = isolated_app("validator", JOBS_IMMEDIATE=True)
    with app.app_context():
        record = create_record(
            RecordInput.titled("Ảnh kiểm thử IIIF", slug="validator", category="craft"),
            actor=None,
        )
        source = tmp_path / "validation_image.png"
        source.write_bytes((STANDARDS / "iiif" / "validation_image.png").read_bytes())
        media = ingest_file(record, source, "validation_image.png", actor=None)
        media.public_id = VALIDATOR_ID
        db.session.commit()
        queue_derivatives(media)
        db.session.refresh(media)
        assert media.state == "ready", media.state_detail
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        validator = Path(sys.executable).with_name("iiif-validate.py")
        result = subprocess.run(
            [
                sys.executable,
                str(validator),
                "-s",
                f"127.0.0.1:{server.server_port}",
                "-p",
                "iiif/3",
                "-i",
                VALIDATOR_ID,
                "--version=3.0",
                "--level",
                "2",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        server.shutdown()
        thread.join(timeout=10)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "test" in output.lower()
