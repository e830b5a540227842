"""Uploading media to a record, the uploader's processing list, captions, and serving renditions."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from archive.core.accel import send_stored_file
from archive.core.access import can_add_media, can_view_media, denial_status, is_cacheable_publicly
from archive.core.extensions import db
from archive.core.i18n import language_neutral
from archive.core.storage import original_path
from archive.media import services
from archive.media.models import MediaFile
from archive.records.models import HeritageRecord
from media.checks import MediaRejected
from metadata.languages import LangString, is_valid_tag, normalize_tag

bp = Blueprint("media", __name__)

#: Messages for every reason a file can be refused or fail, in the user's language.
REASONS = {
    "empty": _l("The file is empty."),
    "too_large": _l("The file is larger than the limit of %(limit)s bytes."),
    "unsupported_type": _l(
        "This kind of file is not accepted. Send JPEG, PNG, TIFF or WebP pictures, "
        "WAV, MP3, FLAC, Ogg/Opus or M4A sound, or MP4, MOV, MKV or WebM video."
    ),
    "type_mismatch": _l("The file's name says %(claimed)s but its content is %(detected)s."),
    "truncated": _l("The file is incomplete (truncated); send it again."),
    "pixel_limit": _l("The picture has %(pixels)s pixels, more than the limit of %(limit)s."),
    "unreadable": _l("The file cannot be read as sound or video."),
    "probe_timeout": _l("The file could not be read within %(seconds)s seconds."),
    "no_stream": _l("The file contains no sound and no picture."),
    "external_reference": _l(
        "The file refers to other files or web addresses (a playlist or list); send the recording itself."
    ),
    "too_long": _l("The recording is longer than the limit of %(seconds)s seconds."),
    "bad_captions": _l("The captions are not a valid WebVTT file."),
    "captions_need_av": _l("Captions can only be attached to sound or video."),
    "duplicate": _l("This file is already in the archive (media %(media)s of record %(record)s)."),
    "processing_failed": _l("The renditions could not be made; the archive staff have been told."),
    "no_file": _l("Choose at least one file."),
}

STATUS_FOR = {
    "too_large": 413,
    "unsupported_type": 415,
    "type_mismatch": 415,
    "external_reference": 415,
    "duplicate": 409,
}

STATE_LABELS = {
    "pending": _l("Waiting"),
    "processing": _l("Processing"),
    "ready": _l("Ready"),
    "failed": _l("Failed"),
}


def reason_text(code: str | None, params: dict | None = None) -> str:
    """The translated sentence for a refusal or failure code."""
    if code is None:
        return ""
    message = REASONS.get(code)
    if message is None:
        return code
    try:
        return str(message) % (params or {})
    except (KeyError, TypeError, ValueError):
        return str(message).split("%(")[0].strip()


def _record_for_upload(public_id: str) -> HeritageRecord:
    record = db.session.scalar(select(HeritageRecord).where(HeritageRecord.public_id == public_id))
    if record is None:
        abort(404)
    if not can_add_media(record):
        abort(denial_status())
    return record


@bp.route("/records/<public_id>/media", methods=["GET", "POST"])
@login_required
def upload(public_id: str):
    """Upload one or more files to a record; each file is accepted or refused on its own."""
    record = _record_for_upload(public_id)
    if request.method == "GET":
        return render_template("media/upload.html", record=record, results=None)
    files = [f for f in request.files.getlist("files") if f and f.filename]
    caption = []
    for lang in ("vi", "en"):
        text = (request.form.get(f"caption_{lang}") or "").strip()
        if text:
            caption.append(LangString(text[:2000], lang))
    if not files:
        return render_template(
            "media/upload.html", record=record, results=[(None, "", reason_text("no_file"))]
        ), 400
    results, statuses = [], []
    limit = current_app.config["MAX_MEDIA_BYTES"]
    for storage in files:
        try:
            path = services.receive_stream(storage.stream, limit)
            media = services.ingest_file(record, path, storage.filename, current_user, caption)
            db.session.commit()
        except MediaRejected as exc:
            db.session.rollback()
            results.append((None, storage.filename, reason_text(exc.code, exc.params)))
            statuses.append(STATUS_FOR.get(exc.code, 400))
            continue
        services.queue_derivatives(media)
        results.append((media, storage.filename, None))
        statuses.append(201)
    status = 201 if 201 in statuses else statuses[0]
    return render_template("media/upload.html", record=record, results=results), status


@bp.get("/my/media")
@login_required
def my_media():
    """The signed-in person's uploads with their processing state."""
    items = db.session.scalars(
        select(MediaFile)
        .where(MediaFile.created_by_id == current_user.id)
        .order_by(MediaFile.created_at.desc())
    ).all()
    return render_template("media/mine.html", items=items, state_labels=STATE_LABELS, reason_text=reason_text)


@bp.post("/media/<public_id>/access")
@login_required
def set_access(public_id: str):
    """Set one media file's own access level (and community group), e.g. one restricted recording in a
    public record. Curators, and the contributor who may add media to the record."""
    from archive.communities.models import Community
    from archive.records.models import ACCESS_LEVELS

    media = db.session.scalar(select(MediaFile).where(MediaFile.public_id == public_id))
    if media is None:
        abort(404)
    if not can_add_media(media.record):
        abort(denial_status())
    level = request.form.get("access_level") or ""
    community_id = request.form.get("community") or ""
    community = db.session.get(Community, int(community_id)) if community_id.isdigit() else None
    if level not in ACCESS_LEVELS or (community_id and community is None):
        abort(400)
    if level == "community" and community is None and media.record.community_id is None:
        flash(_("Choose the community group whose protocol applies."), "error")
        return redirect(url_for("records.detail", public_id=media.record.public_id), 303)
    media.access_level = level
    media.community_id = community.id if level == "community" and community is not None else None
    db.session.commit()
    flash(_("Access to the file saved."), "success")
    return redirect(url_for("records.detail", public_id=media.record.public_id), 303)


@bp.post("/media/<public_id>/captions")
@login_required
def captions(public_id: str):
    """Attach a WebVTT captions or transcript track to an audio or video file."""
    media = db.session.scalar(select(MediaFile).where(MediaFile.public_id == public_id))
    if media is None:
        abort(404)
    if not can_add_media(media.record):
        abort(denial_status())
    upload = request.files.get("file")
    lang = normalize_tag(request.form.get("lang") or "vi")
    kind = request.form.get("kind") or "captions"
    if upload is None or not is_valid_tag(lang) or kind not in ("captions", "subtitles", "transcript"):
        return render_template(
            "media/captions_result.html", media=media, error=reason_text("bad_captions")
        ), 400
    data = upload.stream.read(current_app.config["MAX_CAPTION_BYTES"] + 1)
    try:
        if len(data) > current_app.config["MAX_CAPTION_BYTES"]:
            raise MediaRejected("too_large", {"limit": current_app.config["MAX_CAPTION_BYTES"]})
        services.attach_captions(media, data, lang, request.form.get("label") or lang, kind, current_user)
        db.session.commit()
    except MediaRejected as exc:
        db.session.rollback()
        return render_template(
            "media/captions_result.html", media=media, error=reason_text(exc.code, exc.params)
        ), STATUS_FOR.get(exc.code, 400)
    return render_template("media/captions_result.html", media=media, error=None), 201


def _visible_media(public_id: str) -> MediaFile:
    media = db.session.scalar(select(MediaFile).where(MediaFile.public_id == public_id))
    if media is None:
        abort(404)
    if not can_view_media(media):
        abort(denial_status())
    return media


def _private_headers(response, media: MediaFile):
    public = is_cacheable_publicly(media)
    response.headers["Cache-Control"] = "public, max-age=86400" if public else "private, max-age=600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/media/<public_id>/file")
@language_neutral
def original(public_id: str):
    """The original file, to those who may see it (range requests supported)."""
    media = _visible_media(public_id)
    path = original_path(media.storage_key)
    if not path.is_file():
        abort(404)
    response = send_stored_file(
        path,
        mimetype=media.mime_type,
        conditional=True,
        etag=media.sha256,
        download_name=f"{media.public_id}.{path.suffix.lstrip('.')}",
    )
    return _private_headers(response, media)


@bp.get("/media/<public_id>/r/<name>")
@language_neutral
def rendition(public_id: str, name: str):
    """A rendition (web, low, 720, 360, audio_low, poster, peaks, thumbnail), range requests supported."""
    media = _visible_media(public_id)
    derivative = media.derivative(name)
    if derivative is None or name == "pyramid":
        abort(404)
    path = services.derivative_path(derivative)
    response = send_stored_file(path, mimetype=derivative.mime_type, conditional=True, etag=derivative.sha256)
    return _private_headers(response, media)


@bp.get("/media/<public_id>/captions/<kind>-<lang>.vtt")
def caption_file(public_id: str, kind: str, lang: str):
    """A WebVTT track."""
    media = _visible_media(public_id)
    track = next((c for c in media.captions if c.kind == kind and c.lang == lang), None)
    if track is None:
        abort(404)
    path = services.derivatives_root() / track.storage_key
    response = send_stored_file(path, mimetype="text/vtt", conditional=True, etag=track.sha256)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return _private_headers(response, media)
