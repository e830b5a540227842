"""Light and fast delivery: fingerprinted static files with long cache lifetimes, and compression.

Fingerprints. ``url_for('static', filename='archive.css')`` yields ``/static/archive.css?v=<hash>``,
the first 12 hex digits of the file's SHA-256, computed once per file and remembered (when the app runs
in debug or testing mode, recomputed whenever the file's modification time or size changes). A request
whose ``v`` is the file's current hash is answered with ``Cache-Control: public, max-age=31536000,
immutable``: a new version of the file gets a new URL, so a browser never has to ask again. A request
without ``v``, or with a stale one, gets a short cache. The vendored tus-js-client script
(``tus.client_script``, versioned by its package version) follows the same rule.

Compression. Text responses (HTML, CSS, JavaScript, JSON, XML, SVG, WebVTT, iCalendar...) of at least
``MIN_BYTES`` are sent with brotli (when the ``brotli`` module is installed) or gzip, as the request's
Accept-Encoding allows, with ``Vary: Accept-Encoding``. Never compressed: range requests and partial
responses (audio and video seek with them), images and media (already compressed), streamed bodies of
unknown length, responses marked ``no-transform``, and pages into which a CSRF token was rendered (a
secret next to reflected input in a compressed body is what the BREACH attack reads). A compressed
response's ETag becomes weak (``W/"..."``): If-None-Match compares weakly, so conditional requests keep
answering 304, while If-Range, which needs a strong ETag, no longer applies to the compressed bytes.
Files sent with an ETag (static files, captions, waveform peaks) are compressed once per version and
kept in a small in-memory cache.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request
from werkzeug.security import safe_join

try:  # optional: brotli is about a fifth smaller than gzip on the archive's pages
    import brotli
except ImportError:  # pragma: no cover - depends on the installation
    brotli = None

logger = logging.getLogger(__name__)

#: Cache-Control of a fingerprinted URL whose fingerprint is the file's current one.
LONG_CACHE = "public, max-age=31536000, immutable"
#: Cache-Control of a static file asked for without its current fingerprint.
SHORT_CACHE = "public, max-age=300"
#: Length of the fingerprint (hex digits of the SHA-256 of the file).
FINGERPRINT_LENGTH = 12
#: Query parameter that carries a fingerprint.
VERSION_ARG = "v"

#: Bodies smaller than this are sent as they are: compression would save less than a packet.
MIN_BYTES = 500
#: Bodies larger than this are sent as they are (bounds the CPU and memory one response may take).
MAX_BYTES = 8 * 1024 * 1024
#: gzip level and brotli quality for generated pages (fast: each page is compressed per request).
GZIP_LEVEL = 6
BROTLI_QUALITY = 5
#: gzip level and brotli quality for files with an ETag, compressed once per version and cached.
GZIP_LEVEL_CACHED = 9
BROTLI_QUALITY_CACHED = 11
#: Bytes of compressed files kept in memory.
CACHE_BYTES = 16 * 1024 * 1024

#: Media types worth compressing, besides every text/* type except the event stream.
COMPRESSIBLE_TYPES = frozenset(
    {
        "application/javascript",
        "application/ecmascript",
        "application/json",
        "application/ld+json",
        "application/manifest+json",
        "application/xml",
        "application/xhtml+xml",
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/n-triples",
        "application/n-quads",
        "application/trig",
        "application/sparql-results+json",
        "application/geo+json",
        "application/x-ndjson",
        "application/x-javascript",
        "image/svg+xml",
    }
)


def compressible(mimetype: str | None) -> bool:
    """Whether a body of this media type is text that compresses well."""
    if not mimetype:
        return False
    mimetype = mimetype.lower()
    if mimetype.startswith("text/"):
        return mimetype != "text/event-stream"
    return mimetype in COMPRESSIBLE_TYPES or mimetype.endswith(("+json", "+xml"))


# Fingerprints -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Stamp:
    mtime_ns: int
    size: int
    digest: str


class Fingerprints:
    """Content hashes of files, computed once per file (or again when it changes, if *check_changes*)."""

    def __init__(self, check_changes: bool) -> None:
        self.check_changes = check_changes
        self._stamps: dict[str, _Stamp | None] = {}
        self._lock = threading.Lock()

    def of(self, path: str) -> str | None:
        """The fingerprint of the file at *path*, or None when there is no such file."""
        stamp = self._stamps.get(path, False)
        if stamp is not False and not self.check_changes:
            return stamp.digest if stamp else None
        try:
            status = os.stat(path)
        except OSError:
            return None
        if stamp and stamp.mtime_ns == status.st_mtime_ns and stamp.size == status.st_size:
            return stamp.digest
        digest = _file_digest(path)
        if digest is None:
            return None
        with self._lock:
            self._stamps[path] = _Stamp(status.st_mtime_ns, status.st_size, digest)
        return digest


def _file_digest(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()[:FINGERPRINT_LENGTH]
    except (OSError, ValueError):  # a directory, a vanished file
        return None


def _static_folder(app: Flask, endpoint: str) -> str | None:
    """The folder served by a static endpoint (the app's, or a blueprint's ``<name>.static``)."""
    if endpoint == "static":
        return app.static_folder
    if endpoint.endswith(".static"):
        blueprint = app.blueprints.get(endpoint.rsplit(".", 1)[0])
        return blueprint.static_folder if blueprint is not None else None
    return None


def static_fingerprint(endpoint: str, filename: str) -> str | None:
    """The current fingerprint of a file served by a static endpoint, None if there is no such file."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    folder = _static_folder(app, endpoint)
    path = safe_join(folder, filename) if folder else None
    if path is None:
        return None
    return app.extensions["archive_assets"].fingerprints.of(path)


def _add_fingerprint(endpoint: str, values: dict) -> None:
    """url_defaults hook: add ``v=<fingerprint>`` to the URL of every existing static file."""
    if VERSION_ARG in values or "filename" not in values:
        return
    if endpoint != "static" and not endpoint.endswith(".static"):
        return
    digest = static_fingerprint(endpoint, values["filename"])
    if digest is not None:
        values[VERSION_ARG] = digest


def _tus_client_version() -> str | None:
    # The app imports the tus blueprint before it registers it; read its version lazily all the same,
    # so this module does not depend on the media package.
    from archive.media.tus import client_version

    return client_version()


def _current_version() -> str | None:
    """The version a fingerprinted URL of the current request must carry, or None if not versioned."""
    endpoint = request.endpoint or ""
    if endpoint == "tus.client_script":
        return _tus_client_version()
    if endpoint == "static" or endpoint.endswith(".static"):
        filename = (request.view_args or {}).get("filename")
        return static_fingerprint(endpoint, filename) if filename else None
    return None


def _cache_versioned(response: Response) -> Response:
    """after_request: a year's immutable cache for a current fingerprint, a short one otherwise."""
    if response.status_code not in (200, 206, 304):
        return response
    current = _current_version()
    if current is None:
        return response
    asked = request.args.get(VERSION_ARG)
    response.headers["Cache-Control"] = LONG_CACHE if asked == current else SHORT_CACHE
    response.headers.pop("Expires", None)
    return response


# Compression ------------------------------------------------------------------------------------------


class _CompressedCache:
    """A small LRU of compressed bodies, keyed by path, ETag and encoding."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.size = 0
        self._items: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: tuple, body: bytes) -> None:
        if len(body) > self.capacity // 4:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = body
            self.size += len(body)
            while self.size > self.capacity:
                _, dropped = self._items.popitem(last=False)
                self.size -= len(dropped)


def compress(data: bytes, encoding: str, cached: bool = False) -> bytes:
    """*data* compressed with ``br`` or ``gzip`` (harder when the result will be cached)."""
    if encoding == "br":
        if brotli is None:
            raise ValueError("brotli is not installed")
        quality = BROTLI_QUALITY_CACHED if cached else BROTLI_QUALITY
        return brotli.compress(data, mode=brotli.MODE_TEXT, quality=quality)
    if encoding == "gzip":
        return gzip.compress(data, compresslevel=GZIP_LEVEL_CACHED if cached else GZIP_LEVEL, mtime=0)
    raise ValueError(f"unknown content coding {encoding!r}")


def negotiate_encoding() -> str | None:
    """The content coding the request accepts that we prefer (br, then gzip), or None."""
    accepted = request.accept_encodings
    offers = ["br", "gzip"] if brotli is not None else ["gzip"]
    best, best_quality = None, 0.0
    for coding in offers:
        quality = accepted[coding]
        if quality > best_quality:
            best, best_quality = coding, quality
    return best


def _weaken_etag(response: Response) -> None:
    etag, weak = response.get_etag()
    if etag and not weak:
        response.set_etag(etag, weak=True)


def _may_compress(response: Response) -> bool:
    """Whether the body of *response* may be compressed at all (before its size is known)."""
    status = response.status_code
    if status < 200 or status in (204, 206) or 300 <= status < 400:
        return False
    if "Content-Encoding" in response.headers or "Content-Range" in response.headers:
        return False
    if "Range" in request.headers:
        return False
    if response.cache_control.no_transform:
        return False
    if not compressible(response.mimetype):
        return False
    # BREACH: never compress a page that carries a secret. Flask-WTF keeps the request's CSRF token on
    # ``g`` under the field's name once a form or the page rendered it.
    if current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token") in g:
        return False
    return not (response.is_streamed and not response.direct_passthrough)


def compress_response(response: Response) -> Response:
    """after_request: compress text bodies as the client accepts, keeping ETags and ranges correct."""
    if response.status_code == 304:
        if compressible(response.mimetype):
            response.vary.add("Accept-Encoding")
            if negotiate_encoding():
                _weaken_etag(response)
        return response
    if not _may_compress(response):
        return response
    length = response.content_length if response.direct_passthrough else response.calculate_content_length()
    if length is None or length < MIN_BYTES or length > MAX_BYTES:
        return response
    response.vary.add("Accept-Encoding")
    encoding = negotiate_encoding()
    if encoding is None:
        return response
    etag, weak = response.get_etag()
    key = (request.path, etag, encoding) if etag and not weak else None
    state = current_app.extensions["archive_assets"]
    body = state.cache.get(key) if key else None
    if body is None:
        data = _read_body(response)
        body = compress(data, encoding, cached=key is not None)
        if len(body) >= len(data):
            response.set_data(data)
            return response
        if key:
            state.cache.put(key, body)
    else:
        _discard_body(response)
    response.set_data(body)
    response.headers["Content-Encoding"] = encoding
    response.headers.pop("Accept-Ranges", None)  # ranges would count bytes of the identity form
    _weaken_etag(response)
    return response


def _read_body(response: Response) -> bytes:
    """The whole body, also of a file sent with send_file (direct passthrough), whose file is closed."""
    if not response.direct_passthrough:
        return response.get_data()
    try:
        data = b"".join(response.response)  # type: ignore[arg-type]
    finally:
        _discard_body(response)
    return data


def _discard_body(response: Response) -> None:
    close = getattr(response.response, "close", None)
    if close is not None:
        close()
    response.direct_passthrough = False


# Setup ------------------------------------------------------------------------------------------------


@dataclass
class _AssetsState:
    fingerprints: Fingerprints
    cache: _CompressedCache


def init_app(app: Flask) -> None:
    """Fingerprint static URLs, cache fingerprinted files for a year, and compress text responses."""
    check_changes = bool(app.debug or app.testing or app.config.get("TEMPLATES_AUTO_RELOAD"))
    state = _AssetsState(Fingerprints(check_changes), _CompressedCache(CACHE_BYTES))
    app.extensions["archive_assets"] = state
    app.url_defaults(_add_fingerprint)
    app.after_request(_cache_versioned)
    # After-request functions run last-registered-first: put compression first in the list so that it
    # runs after every other one, on the final headers.
    app.after_request_funcs.setdefault(None, []).insert(0, compress_response)
    logger.debug("assets: brotli %s", "available" if brotli is not None else "not installed")


__all__ = [
    "FINGERPRINT_LENGTH",
    "LONG_CACHE",
    "SHORT_CACHE",
    "compress",
    "compress_response",
    "compressible",
    "init_app",
    "negotiate_encoding",
    "static_fingerprint",
]
