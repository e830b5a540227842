"""Hand the sending of stored files to nginx (X-Accel-Redirect) after the archive's access check.

With ACCEL_REDIRECT_PREFIX set (e.g. "/_protected"), a view that has decided a visitor may have a file
answers with an empty body and ``X-Accel-Redirect: <prefix>/<path relative to DATA_DIR>``, plus the
headers it would have sent with the bytes (Content-Type, Content-Disposition, ETag, Last-Modified,
Cache-Control). nginx then serves the file from an ``internal`` location (ranges included), so the
Python worker is free at once. Unset, the file is sent by the application as before.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from flask import Flask, Response, current_app, request, send_file

ACCEL_HEADER = "X-Accel-Redirect"
#: Headers of the file response that go with the redirect (nginx keeps them for the file it sends).
_KEPT = ("Content-Type", "Content-Disposition", "ETag", "Last-Modified", "Cache-Control", "Expires")


def accel_prefix() -> str | None:
    """The configured internal location prefix, without a trailing slash (None: not behind nginx)."""
    prefix = current_app.config.get("ACCEL_REDIRECT_PREFIX")
    if not prefix:
        return None
    return "/" + prefix.strip("/")


def accel_uri(path: Path, prefix: str) -> str:
    """The internal URI of *path* under *prefix*; ValueError when the file is outside DATA_DIR."""
    root = Path(current_app.config["DATA_DIR"]).resolve()
    resolved = Path(path).resolve()
    if root not in resolved.parents:
        raise ValueError("file outside the data directory")
    return f"{prefix}/{quote(resolved.relative_to(root).as_posix())}"


def send_stored_file(path: Path, **options) -> Response:
    """``flask.send_file`` for a file under DATA_DIR, or its X-Accel-Redirect twin behind nginx.

    Call it only after the access check. *options* are those of ``send_file``; with ``conditional``
    an If-None-Match / If-Modified-Since hit is answered 304 by the application either way.
    """
    prefix = accel_prefix()
    if prefix is None:
        return send_file(path, **options)
    uri = accel_uri(path, prefix)
    conditional = options.pop("conditional", True)
    sent = send_file(path, conditional=False, **options)
    sent.close()  # only its headers are wanted
    response = Response(b"", status=200)
    for name in _KEPT:
        if name in sent.headers:
            response.headers[name] = sent.headers[name]
    response.headers[ACCEL_HEADER] = uri
    if conditional:
        response = response.make_conditional(request)
    return response


def _drop_redirect_of_not_modified(response: Response) -> Response:
    # A 304 made later (e.g. by a view's make_conditional) must not send nginx to the file.
    if response.status_code == 304 and ACCEL_HEADER in response.headers:
        del response.headers[ACCEL_HEADER]
    return response


def init_app(app: Flask) -> None:
    """Keep 304 answers free of X-Accel-Redirect."""
    app.after_request(_drop_redirect_of_not_modified)
