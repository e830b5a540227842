"""Resumable uploads over the tus 1.0.0 protocol (core, creation, termination and expiration extensions).

``POST /uploads/`` opens an upload (Upload-Length, Upload-Metadata with the record's public id, the file
name and the captions), ``HEAD /uploads/<token>`` tells how many bytes arrived, ``PATCH`` appends bytes at
that offset, ``DELETE`` abandons the upload, ``OPTIONS`` describes the server. The last byte hands the
file to the same pipeline as the multipart form (archive.media.services.ingest_file, then
queue_derivatives once committed); ``GET /uploads/<token>/status`` gives the verdict as JSON.

Only signed-in people who may add media to the record may open an upload, and only its creator may see
or continue it. The endpoints stay under CSRF protection: browsers send the token as X-CSRFToken.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, jsonify, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from werkzeug.exceptions import ClientDisconnected
from werkzeug.http import http_date

from archive.core.extensions import db
from archive.media import resumable, services
from archive.media.models import UploadSession
from archive.media.views import reason_text
from media.checks import MediaRejected

logger = logging.getLogger(__name__)

bp = Blueprint("tus", __name__)

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination,expiration"
OCTET_STREAM = "application/offset+octet-stream"
#: Bytes read from the request body at a time.
READ_CHUNK = 64 * 1024
#: While a long body streams in, the offset reached is recorded (after fsync) every this many bytes.
RECORD_EVERY = 4 * 1024 * 1024
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
CLIENT_SCRIPT = NODE_MODULES / "tus-js-client" / "dist" / "tus.min.js"
_DIGITS = re.compile(r"[0-9]{1,19}")


@bp.after_request
def _tus_resumable_header(response: Response) -> Response:
    """Every answer of these endpoints, errors included, names the protocol version."""
    response.headers["Tus-Resumable"] = TUS_VERSION
    return response


def _answer(status: int, message: str | None = None, headers: dict[str, str] | None = None) -> Response:
    """A tus answer: a short plain-text message (none for 204), never cached."""
    body = "" if status == 204 or message is None else message
    response = current_app.response_class(body, status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _header_int(name: str) -> int | None:
    """A non-negative integer header, or None when it is missing or malformed."""
    value = (request.headers.get(name) or "").strip()
    return int(value) if _DIGITS.fullmatch(value) else None


def _progress_headers(upload: resumable.UploadState | UploadSession) -> dict[str, str]:
    if isinstance(upload, UploadSession):
        upload = resumable.snapshot(upload)
    return {"Upload-Offset": str(upload.offset), "Upload-Length": str(upload.length)}


def _expires_header(upload: UploadSession) -> dict[str, str]:
    return {"Upload-Expires": http_date(upload.expires_at)} if upload.state == "receiving" else {}


def _tus_endpoint(view):
    """Refuse a request in another protocol version (412) or from an anonymous visitor (401)."""

    @functools.wraps(view)
    def checked(*args, **kwargs):
        if request.headers.get("Tus-Resumable") != TUS_VERSION:
            return _answer(412, _("This server speaks version 1.0.0 of the tus protocol."),
                           {"Tus-Version": TUS_VERSION})  # fmt: skip
        if not current_user.is_authenticated:
            return _answer(401, _("Please sign in to upload files."))
        return view(*args, **kwargs)

    return checked


def _not_found() -> Response:
    return _answer(404, _("There is no such upload."))


def _gone() -> Response:
    return _answer(410, _("This upload has expired; start it again."))


@bp.route("/uploads/", methods=["OPTIONS"], provide_automatic_options=False)
@bp.route("/uploads/<token>", methods=["OPTIONS"], provide_automatic_options=False)
def discover(token: str | None = None):
    """What this server supports: protocol version, extensions and the largest upload."""
    return _answer(
        204,
        headers={
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": TUS_EXTENSIONS,
            "Tus-Max-Size": str(current_app.config["MAX_MEDIA_BYTES"]),
        },
    )


REFUSALS = {
    "no_record": lambda params: _("Say which record the file belongs to."),
    "unknown_record": lambda params: _("There is no such record."),
    "forbidden": lambda params: _("You may not add media to this record."),
    "too_many_uploads": lambda params: _(
        "You already have %(limit)s unfinished uploads; finish or cancel some before starting another.",
        limit=params.get("limit"),
    ),
}


@bp.route("/uploads/", methods=["POST"], provide_automatic_options=False)
@_tus_endpoint
def create():
    """Open an upload: Upload-Length bytes for the record named in Upload-Metadata."""
    if request.headers.get("Upload-Defer-Length") is not None:
        return _answer(400, _("Announce the file's size (Upload-Length) when the upload starts."))
    length = _header_int("Upload-Length")
    if length is None:
        return _answer(400, _("Announce the file's size (Upload-Length) when the upload starts."))
    try:
        metadata = resumable.parse_metadata(request.headers.get("Upload-Metadata"))
    except ValueError:
        return _answer(400, _("The upload's description (Upload-Metadata) cannot be read."))
    try:
        upload = resumable.create_upload(current_user._get_current_object(), length, metadata)
        db.session.commit()
    except resumable.UploadRefused as exc:
        db.session.rollback()
        explain = REFUSALS.get(exc.code)
        message = explain(exc.params) if explain else reason_text(exc.code, exc.params)
        return _answer(exc.status, message)
    headers = {"Location": url_for("tus.offset", token=upload.token)}
    headers.update(_expires_header(upload))
    return _answer(201, _("Upload created."), headers)


@bp.route("/uploads/<token>", methods=["HEAD"], provide_automatic_options=False)
@_tus_endpoint
def offset(token: str):
    """How many bytes of the upload the server holds."""
    upload = resumable.find_upload(token, current_user._get_current_object())
    if upload is None:
        return _not_found()
    state = resumable.snapshot(upload)
    if state.expired:
        return _gone()
    return _answer(200, headers={**_progress_headers(state), **_expires_header(upload)})


@bp.route("/uploads/<token>", methods=["DELETE"], provide_automatic_options=False)
@_tus_endpoint
def terminate(token: str):
    """Abandon an upload: its bytes are removed (a media file it already became stays)."""
    upload = resumable.find_upload(token, current_user._get_current_object())
    if upload is None:
        return _not_found()
    resumable.terminate_upload(upload)
    db.session.commit()
    return _answer(204)


@bp.route("/uploads/<token>", methods=["PATCH"], provide_automatic_options=False)
@_tus_endpoint
def receive(token: str):
    """Append the request's bytes at Upload-Offset; the last byte hands the file to the media pipeline."""
    if request.mimetype != OCTET_STREAM:
        return _answer(415, _("Send the file's bytes as application/offset+octet-stream."))
    claimed = _header_int("Upload-Offset")
    if claimed is None:
        return _answer(400, _("Say where the bytes go (Upload-Offset)."))
    upload = resumable.find_upload(token, current_user._get_current_object())
    if upload is None:
        return _not_found()
    state = resumable.snapshot(upload)
    if state.expired:
        return _gone()
    if claimed != state.offset:
        return _answer(409, _("The upload is at another offset; ask for it and continue from there."),
                       _progress_headers(state))  # fmt: skip
    body_length = request.content_length
    if body_length is not None and claimed + body_length > state.length:
        return _answer(400, _("These bytes go beyond the size announced for the file."))
    if state.state != "receiving":  # complete already: an empty PATCH at the end changes nothing
        return _answer(204, headers=_progress_headers(state))
    on_disk = resumable.bytes_on_disk(token)
    if on_disk < state.offset:  # the partial file lost bytes (restored backup, manual clean-up...)
        logger.warning("upload %s: %d bytes recorded but %d on disk", token, state.offset, on_disk)
        resumable.reset_offset(state.id, on_disk)
        db.session.commit()
        return _answer(409, _("The upload is at another offset; ask for it and continue from there."),
                       {"Upload-Offset": str(on_disk), "Upload-Length": str(state.length)})  # fmt: skip
    # End the transaction before reading the body: on SQLite a transaction holds the write lock, and a
    # slow phone may take minutes to send its bytes.
    db.session.commit()
    recorded, written, outcome = _receive(state, request.stream, body_length)
    if outcome == "conflict":
        return _conflict(state.token)
    if outcome == "too_long":
        return _answer(400, _("These bytes go beyond the size announced for the file."))
    if written == state.length:
        return _complete(state, recorded)
    headers = {"Upload-Offset": str(recorded)}
    if outcome == "disconnected":  # nobody is listening; the bytes that arrived are kept
        logger.info("upload %s: connection ended at offset %d", token, recorded)
        return _answer(400, _("The connection ended before all the bytes arrived."), headers)
    refreshed = db.session.get(UploadSession, state.id)
    if refreshed is not None:
        headers.update(_expires_header(refreshed))
    return _answer(204, headers=headers)


def _receive(state: resumable.UploadState, stream, body_length: int | None) -> tuple[int, int, str]:
    """Write the body into the partial file from the upload's offset, recording progress as it goes.

    Returns the offset recorded, the offset written (the end of the file when both differ: the last
    stretch is recorded with the pipeline's verdict), and the outcome: "done", "disconnected" (the
    client went away: what arrived is kept), "conflict" (another request moved the offset) or
    "too_long" (a body of unannounced length went past the file's size: its last stretch is dropped).
    """
    end = state.offset + body_length if body_length is not None else state.length
    recorded = written = state.offset
    outcome = "done"
    fd = resumable.open_part(state.token)
    try:
        while written < end:
            try:
                chunk = stream.read(min(READ_CHUNK, end - written))
            except (ClientDisconnected, OSError):
                chunk = None
            if not chunk:
                if body_length is not None:
                    outcome = "disconnected"
                break
            os.pwrite(fd, chunk, written)
            written += len(chunk)
            if written - recorded >= RECORD_EVERY and written < state.length:
                if not _record(fd, state.id, recorded, written):
                    return recorded, written, "conflict"
                recorded = written
        if body_length is None and written == state.length and _has_more(stream):
            return recorded, recorded, "too_long"
        if written == state.length:
            os.fsync(fd)
        elif written > recorded:
            if not _record(fd, state.id, recorded, written):
                return recorded, written, "conflict"
            recorded = written
    finally:
        os.close(fd)
    return recorded, written, outcome


def _has_more(stream) -> bool:
    try:
        return bool(stream.read(1))
    except (ClientDisconnected, OSError):
        return False


def _record(fd: int, upload_id: int, expected: int, new: int) -> bool:
    """Flush the bytes to disk, then move the recorded offset (in its own short transaction)."""
    os.fsync(fd)
    moved = resumable.advance_offset(upload_id, expected, new)
    db.session.commit()
    return moved


def _conflict(token: str) -> Response:
    db.session.rollback()
    upload = db.session.scalar(select(UploadSession).where(UploadSession.token == token))
    if upload is None:  # terminated or expired meanwhile: leave no bytes behind
        resumable.part_path(token).unlink(missing_ok=True)
        return _not_found()
    return _answer(409, _("The upload is at another offset; ask for it and continue from there."),
                   _progress_headers(upload))  # fmt: skip


def _complete(state: resumable.UploadState, recorded: int) -> Response:
    """The last byte arrived: run the media pipeline's checks and record its verdict."""
    upload = resumable.lock_for_completion(state.id, recorded)
    if upload is None:
        return _conflict(state.token)
    done = {"Upload-Offset": str(state.length)}
    try:
        media = resumable.complete_upload(upload)
        db.session.commit()
    except MediaRejected as exc:
        db.session.rollback()
        resumable.record_refusal(state.id, exc.code, exc.params)
        db.session.commit()
        return _answer(204, headers=done)
    except Exception:
        logger.exception("upload %s: the pipeline failed on the complete file", state.token)
        db.session.rollback()
        resumable.record_refusal(state.id, "processing_failed", {})
        db.session.commit()
        return _answer(500, reason_text("processing_failed"), done)
    services.queue_derivatives(media)
    return _answer(204, headers=done)


@bp.get("/uploads/<token>/status")
def status(token: str):
    """The state of one of the signed-in person's uploads, and the pipeline's verdict once complete."""
    if not current_user.is_authenticated:
        return jsonify(message=_("Please sign in to upload files.")), 401
    upload = resumable.find_upload(token, current_user._get_current_object())
    if upload is None:
        return jsonify(message=_("There is no such upload.")), 404
    state = resumable.snapshot(upload)
    body = {
        "state": "expired" if state.expired else state.state,
        "offset": state.offset,
        "length": state.length,
        "filename": upload.filename,
        "message": "",
        "media": upload.media_public_id,
        "link": None,
    }
    if state.expired:
        body["message"] = _("This upload has expired; start it again.")
    elif upload.state == "accepted":
        body["message"] = _("Received; the renditions are being made.")
        body["link"] = url_for("media.my_media")
    elif upload.state == "refused":
        body["message"] = reason_text(upload.refusal_code, upload.refusal_params)
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/uploads/csrf-token")
def csrf_token():
    """A fresh CSRF token for the upload page's script: an upload can outlast the token's hour."""
    if not current_user.is_authenticated:
        return jsonify(message=_("Please sign in to upload files.")), 401
    response = jsonify(csrf_token=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response


@functools.cache
def client_version() -> str | None:
    """The version of tus-js-client installed in node_modules (None when npm has not installed it)."""
    try:
        return json.loads((CLIENT_SCRIPT.parents[1] / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


@bp.get("/static/vendor/tus.min.js")
def client_script():
    """tus-js-client, served from node_modules (installed by the set-up scripts), cached for a year."""
    if not CLIENT_SCRIPT.is_file():
        logger.warning("%s is missing: run `npm ci` (scripts/install-and-run does)", CLIENT_SCRIPT)
        abort(404)
    response = send_file(CLIENT_SCRIPT, mimetype="text/javascript", conditional=True, max_age=31536000)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@bp.app_context_processor
def _client_script_url() -> dict:
    def tus_client_script() -> str:
        """The URL of tus-js-client, versioned so that an upgrade is fetched at once."""
        return url_for("tus.client_script", v=client_version() or "missing")

    return {"tus_client_script": tus_client_script}
