"""IIIF Image API 3.0 endpoints under /iiif/3/<identifier>/...

Stored tiles are served as they are; any other request is rendered from the pyramid (never from the
original) and kept in a bounded disk cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, current_app, redirect, request, url_for
from sqlalchemy import select

from archive.core.accel import send_stored_file
from archive.core.access import MediaAccessFacts, can_view_media_facts, denial_status, media_fact_columns
from archive.core.extensions import db
from archive.iiif import cache
from archive.media.models import MediaDerivative, MediaFile
from archive.media.services import derivative_path
from archive.records.models import HeritageRecord
from media.iiif import IIIFRequestError, info_json, parse_request, render, resolve, size_for, tile_for
from media.pyramid import PyramidInfo, load_pyramid_info, size_path, tile_path

logger = logging.getLogger(__name__)
bp = Blueprint("iiif", __name__, url_prefix="/iiif/3")

PROFILE = "http://iiif.io/api/image/3/context.json"
MIME = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
LONG_CACHE = "public, max-age=31536000, immutable"


def _pyramid_dir(storage_key: str) -> Path:
    """The pyramid directory of a derivative storage key (checked to stay inside the derivatives root)."""
    return derivative_path(MediaDerivative(storage_key=storage_key))


@lru_cache(maxsize=512)
def _pyramid_info(directory: str, version: str) -> PyramidInfo:
    """The pyramid's geometry, read once per build (the version is the pyramid's checksum)."""
    return load_pyramid_info(Path(directory))


def _error(status: int, message: str) -> Response:
    response = Response(message + "\n", status=status, mimetype="text/plain")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@dataclass(frozen=True)
class _Image:
    """What an image request needs, read in one query without loading ORM objects (the hot path)."""

    public: bool
    pyramid_key: str | None
    pyramid_sha256: str | None


def _load(identifier: str):
    row = db.session.execute(
        select(
            *media_fact_columns(),
            MediaFile.id,
            MediaDerivative.storage_key,
            MediaDerivative.sha256,
        )
        .join(HeritageRecord, HeritageRecord.id == MediaFile.record_id)
        .outerjoin(
            MediaDerivative, (MediaDerivative.media_id == MediaFile.id) & (MediaDerivative.name == "pyramid")
        )
        .where(MediaFile.public_id == identifier, MediaFile.kind == "image")
    ).first()
    if row is None:
        return None, None, _error(404, "Unknown image identifier.")
    facts = MediaAccessFacts(*row[:8])
    if not can_view_media_facts(facts, lambda: db.session.get(MediaFile, row.id)):
        return None, None, _error(denial_status(), "You may not see this image.")
    if row.storage_key is None:
        response = _error(503, "The image is still being processed.")
        response.headers["Retry-After"] = "30"
        return None, None, response
    image = _Image(facts.simply_public, row.storage_key, row.sha256)
    return image, image, None


def _cache_headers(response: Response, media: _Image, etag: str) -> Response:
    response.set_etag(etag)
    response.headers["Cache-Control"] = LONG_CACHE if media.public else "private, max-age=3600"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.vary.add("Cookie")
    return response.make_conditional(request)


@bp.get("/<identifier>")
def base(identifier: str):
    """The base URI redirects to the image information (303 See Other)."""
    return redirect(url_for("iiif.info", identifier=identifier), 303)


@bp.get("/<identifier>/info.json")
def info(identifier: str):
    """The image information document."""
    media, pyramid, error = _load(identifier)
    if error is not None:
        return error
    config = current_app.config
    doc = info_json(
        url_for("iiif.base", identifier=identifier, _external=True),
        _pyramid_info(str(_pyramid_dir(pyramid.pyramid_key)), pyramid.pyramid_sha256),
        max_width=config["IIIF_MAX_WIDTH"],
        max_height=config["IIIF_MAX_HEIGHT"],
        max_area=config["IIIF_MAX_AREA"],
    )
    accept = request.headers.get("Accept", "")
    mimetype = (
        f'application/ld+json;profile="{PROFILE}"' if "application/ld+json" in accept else "application/json"
    )
    response = Response(json.dumps(doc, indent=2), mimetype=mimetype)
    response.headers["Link"] = '<http://iiif.io/api/image/3/level2.json>;rel="profile"'
    response.vary.add("Accept")
    return _cache_headers(response, media, pyramid.pyramid_sha256[:32] + request.host)


@bp.get("/<identifier>/<region>/<size>/<rotation>/<quality_format>")
def image(identifier: str, region: str, size: str, rotation: str, quality_format: str):
    """An image request: region / size / rotation / quality.format."""
    try:
        parsed = parse_request(region, size, rotation, quality_format)
    except IIIFRequestError as exc:
        return _error(exc.status, str(exc))
    media, pyramid, error = _load(identifier)
    if error is not None:
        return error
    directory = _pyramid_dir(pyramid.pyramid_key)
    pyramid_info = _pyramid_info(str(directory), pyramid.pyramid_sha256)
    config = current_app.config
    try:
        resolved = resolve(
            parsed,
            pyramid_info.width,
            pyramid_info.height,
            max_width=config["IIIF_MAX_WIDTH"],
            max_height=config["IIIF_MAX_HEIGHT"],
            max_area=config["IIIF_MAX_AREA"],
        )
    except IIIFRequestError as exc:
        return _error(exc.status, str(exc))
    mimetype = MIME[resolved.format]
    tile = tile_for(resolved, pyramid_info)
    stored = size_for(resolved, pyramid_info) if tile is None else None
    if tile is not None or stored is not None:  # a file built at ingest: serve its bytes as they are
        if tile is not None:
            path, tag = tile_path(directory, *tile), "-".join(map(str, tile))
        else:
            path, tag = size_path(directory, *stored), "x".join(map(str, stored))
        response = send_stored_file(path, mimetype=mimetype, conditional=False, etag=False, max_age=None)
        return _cache_headers(response, media, f"{pyramid.pyramid_sha256[:16]}-{tag}")
    key = hashlib.sha256(f"{pyramid.pyramid_sha256}|{resolved}".encode()).hexdigest()
    etag = key[:32]
    if request.if_none_match.contains(etag):
        return _cache_headers(Response(status=304), media, etag)
    body = cache.get(key)
    if body is None:
        body = render(directory, pyramid_info, resolved)
        cache.put(key, body)
    response = Response(body, mimetype=mimetype)
    return _cache_headers(response, media, etag)
