"""The deep-zoom image viewer of the public pages (OpenSeadragon over the IIIF Image API), and the
record cards' thumbnails.

OpenSeadragon is installed by npm (package.json, node_modules/openseadragon) and served from there,
never copied into the repository. Its script is not part of the record page: record.js loads it when
a visitor presses "Zoom". URLs carry the installed version, so that they can be cached for a year.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from pathlib import Path

from flask import Blueprint, abort, send_file, url_for

logger = logging.getLogger(__name__)

bp = Blueprint("viewer", __name__)

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
OSD_DIR = NODE_MODULES / "openseadragon" / "build" / "openseadragon"
OSD_SCRIPT = OSD_DIR / "openseadragon.min.js"
LONG_CACHE = "public, max-age=31536000, immutable"
_ICON = re.compile(r"[a-z]+_(?:rest|grouphover|hover|pressed)")


@functools.cache
def osd_version() -> str | None:
    """The version of OpenSeadragon installed in node_modules (None when npm has not installed it)."""
    try:
        return json.loads((NODE_MODULES / "openseadragon" / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def _serve(path: Path, mimetype: str, version: str):
    if version != osd_version() or not path.is_file():
        if not OSD_SCRIPT.is_file():
            logger.warning("%s is missing: run `npm ci` (scripts/install-and-run does)", OSD_SCRIPT)
        abort(404)
    response = send_file(path, mimetype=mimetype, conditional=True, max_age=31536000)
    response.headers["Cache-Control"] = LONG_CACHE
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/static/vendor/openseadragon/<version>/openseadragon.min.js")
def script(version: str):
    """OpenSeadragon's script, from node_modules, cached for a year (the URL names the version)."""
    return _serve(OSD_SCRIPT, "text/javascript", version)


@bp.get("/static/vendor/openseadragon/<version>/images/<name>.png")
def icon(version: str, name: str):
    """One of OpenSeadragon's button pictures (zoom in, zoom out, home...), cached for a year."""
    if not _ICON.fullmatch(name):
        abort(404)
    return _serve(OSD_DIR / "images" / f"{name}.png", "image/png", version)


def viewer_urls() -> dict[str, str]:
    """The script's URL and the prefix of the button pictures (OpenSeadragon's prefixUrl)."""
    version = osd_version() or "missing"
    icon_url = url_for("viewer.icon", version=version, name="home_rest")
    return {
        "script": url_for("viewer.script", version=version),
        "images": icon_url[: -len("home_rest.png")],
    }


@bp.app_context_processor
def _template_helpers() -> dict:
    from archive.records.page import card_thumbnail

    return {"viewer_urls": viewer_urls, "card_thumbnail": card_thumbnail}
