"""A real IIIF viewer (Mirador 4, from npm) opens a record's manifest in headless Chromium and shows its
label and its canvases (thumbnails), the image painted from the IIIF Image API."""

from __future__ import annotations

import functools
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from archive.records.models import HeritageRecord
from tests.conftest import ROOT
from tests.iiif.test_presentation import DEMO_AV_RECORD, register_presentation

pytestmark = pytest.mark.browser

MIRADOR = ROOT / "node_modules" / "mirador" / "dist" / "mirador.min.js"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mirador test</title>
<script src="mirador.min.js"></script></head>
<body><div id="viewer" style="position:absolute;inset:0"></div>
<script>
Mirador.viewer({
  id: "viewer",
  language: "en",
  windows: [{
    manifestId: "%(manifest)s", canvasId: "%(canvas)s", thumbnailNavigationPosition: "far-bottom"
  }],
  window: { allowClose: false, sideBarOpen: false },
  workspaceControlPanel: { enabled: false }
});
</script></body></html>
"""


@pytest.fixture(scope="module")
def presentation_server(app):
    """The live server, with the presentation blueprint registered before it starts serving."""
    register_presentation(app)
    return app


@pytest.fixture(scope="module")
def viewer_page(tmp_path_factory):
    """A static server on its own port (another origin than the archive) for the viewer's page."""
    if not MIRADOR.is_file():
        pytest.fail("node_modules/mirador is missing: run `npm install` (package.json lists mirador 4.0.0)")
    directory = tmp_path_factory.mktemp("mirador")
    shutil.copy(MIRADOR, directory / "mirador.min.js")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield directory, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_mirador_shows_the_label_and_the_canvases(
    presentation_server, live_server, viewer_page, browser, artifacts_dir
):
    from archive.core.extensions import db

    with presentation_server.app_context():
        record = db.session.scalar(select(HeritageRecord).where(HeritageRecord.slug == DEMO_AV_RECORD))
        english = next(v.value for v in record.values("title") if v.lang == "en")
        manifest_url = f"{live_server}/iiif/records/{record.public_id}/manifest.json"
        ready = [m for m in record.media if m.state == "ready"]
        image = next(m for m in ready if m.kind == "image")
        # Open on the picture: the first canvas is a recording, which the viewer would start loading.
        canvas = f"{live_server}/iiif/records/{record.public_id}/canvas/{image.public_id}"
    directory, origin = viewer_page
    (directory / "index.html").write_text(
        PAGE % {"manifest": manifest_url, "canvas": canvas}, encoding="utf-8"
    )

    page = browser.new_page(viewport={"width": 1200, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    failed: list[str] = []
    page.on("requestfailed", lambda req: failed.append(req.url))
    try:
        page.goto(f"{origin}/index.html")
        page.get_by_text(english).first.wait_for(timeout=60_000)
        thumbnails = page.locator('[class*="thumbnail-nav-canvas-"]')
        thumbnails.first.wait_for(timeout=30_000)
        assert thumbnails.count() == len(ready) == 3
        # The picture is painted in the main view through the Image API (OpenSeadragon's canvas).
        page.locator(".openseadragon-canvas").first.wait_for(timeout=30_000)
        # The image canvas's thumbnail comes from the IIIF Image API and has really loaded.
        page.wait_for_function(
            """() => [...document.querySelectorAll('[class*="thumbnail-nav"] img')]
                 .some(img => img.complete && img.naturalWidth > 0 && img.src.includes('/iiif/3/'))""",
            timeout=30_000,
        )
        page.screenshot(path=str(artifacts_dir / "iiif-mirador.png"))
        page.wait_for_load_state("networkidle")  # let every file finish before the page goes
    finally:
        page.close()
    assert not [e for e in errors if "ResizeObserver" not in e], errors
    assert not [u for u in failed if "/iiif/" in u], failed
