"""Resumable uploads (tus 1.0): upload sessions, their partial files, and the hand-over of a finished file
to the media pipeline.

The bytes of an unfinished upload live in a private directory, ``<DATA_DIR>/incoming/tus/<token>.part``.
Bytes are written at the offset the client names and flushed to disk (fsync) before the session's offset
moves forward, so the offset never claims more than the disk holds. The offset moves with a
compare-and-set (``WHERE upload_offset = <the offset this request started from>``): when two requests
race for the same upload (a client retrying while its first, dropped connection is still being read),
both write the same bytes at the same places and only one of them may advance the offset.

Functions here flush but never commit; the tus views commit, several times per request while a long
body streams in (each commit records bytes that are safely on disk), and the periodic clean-up job
commits its own work.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, func, select, update

from archive.accounts.models import User
from archive.core.access import can_add_media
from archive.core.extensions import db
from archive.core.jobs import periodic
from archive.core.types import to_langstrings, utcnow
from archive.media import services
from archive.media.models import MediaFile, UploadSession
from archive.records.models import HeritageRecord
from metadata.languages import LangString

logger = logging.getLogger(__name__)

#: Upload-Metadata keys understood at creation; others are ignored.
METADATA_KEYS = ("filename", "filetype", "record", "caption_vi", "caption_en")
CAPTION_LANGUAGES = ("vi", "en")


class UploadRefused(Exception):
    """A creation request the archive refuses: *code* names the reason, *status* is the HTTP status."""

    def __init__(self, code: str, status: int, params: dict | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.params = params or {}


@dataclass(frozen=True)
class UploadState:
    """The columns a PATCH needs, read once so that no transaction stays open while the body streams in."""

    id: int
    token: str
    length: int
    offset: int
    state: str
    expired: bool


def parts_dir() -> Path:
    """The private directory of partial uploads (same filesystem as the originals)."""
    path = services.incoming_dir() / "tus"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def part_path(token: str) -> Path:
    """Where the bytes of the upload *token* are kept until it is complete."""
    return parts_dir() / f"{token}.part"


def expiry_from(now: dt.datetime) -> dt.datetime:
    """When an upload touched at *now* expires."""
    return now + dt.timedelta(hours=current_app.config["TUS_EXPIRY_HOURS"])


def parse_metadata(header: str | None) -> dict[str, str]:
    """Decode an Upload-Metadata header (``key base64value,key2 base64value2``); ValueError if malformed."""
    values: dict[str, str] = {}
    for pair in (header or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _sep, encoded = pair.partition(" ")
        if not key or " " in encoded.strip() or key in values:
            raise ValueError(f"malformed Upload-Metadata pair {pair[:40]!r}")
        try:
            values[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ValueError(f"Upload-Metadata value of {key!r} is not base64 UTF-8") from exc
    return values


def open_uploads(user: User) -> int:
    """How many unfinished, unexpired uploads *user* has."""
    return db.session.scalar(
        select(func.count())
        .select_from(UploadSession)
        .where(
            UploadSession.user_id == user.id,
            UploadSession.state == "receiving",
            UploadSession.expires_at > utcnow(),
        )
    )


def create_upload(actor: User, length: int, metadata: dict[str, str]) -> UploadSession:
    """Open a resumable upload of *length* bytes to the record named in *metadata*; raises UploadRefused."""
    config = current_app.config
    public_id = (metadata.get("record") or "").strip()
    if not public_id:
        raise UploadRefused("no_record", 400)
    record = db.session.scalar(select(HeritageRecord).where(HeritageRecord.public_id == public_id))
    if record is None:
        raise UploadRefused("unknown_record", 404)
    if not can_add_media(record, actor):
        raise UploadRefused("forbidden", 403)
    if length == 0:
        raise UploadRefused("empty", 400)
    if length > config["MAX_MEDIA_BYTES"]:
        raise UploadRefused("too_large", 413, {"limit": config["MAX_MEDIA_BYTES"]})
    limit = config["TUS_MAX_OPEN_PER_USER"]
    if open_uploads(actor) >= limit:
        raise UploadRefused("too_many_uploads", 429, {"limit": limit})
    caption = []
    for lang in CAPTION_LANGUAGES:
        text = (metadata.get(f"caption_{lang}") or "").strip()
        if text:
            caption.append(LangString(text[:2000], lang).to_dict())
    now = utcnow()
    upload = UploadSession(
        token=secrets.token_urlsafe(24),
        user_id=actor.id,
        record_id=record.id,
        # For information only, cleaned as ingest_file cleans the media file's name.
        filename=services.display_filename(metadata.get("filename") or ""),
        caption=caption,
        upload_length=length,
        upload_offset=0,
        state="receiving",
        created_at=now,
        expires_at=expiry_from(now),
    )
    db.session.add(upload)
    db.session.flush()
    logger.info("resumable upload %s opened by user %s for record %s (%d bytes)", upload.token, actor.id,
                record.public_id, length)  # fmt: skip
    return upload


def find_upload(token: str, actor: User) -> UploadSession | None:
    """The upload *token* if *actor* created it (anyone else is told it does not exist)."""
    return db.session.scalar(
        select(UploadSession).where(UploadSession.token == token, UploadSession.user_id == actor.id)
    )


def snapshot(upload: UploadSession) -> UploadState:
    """The plain facts of an upload, to keep while no transaction is open."""
    expired = upload.state == "receiving" and upload.expires_at <= utcnow()
    return UploadState(upload.id, upload.token, upload.upload_length, upload.upload_offset, upload.state,
                       expired)  # fmt: skip


def open_part(token: str) -> int:
    """A file descriptor for writing the partial file of *token* (created empty, private, if missing)."""
    return os.open(part_path(token), os.O_WRONLY | os.O_CREAT, 0o600)


def bytes_on_disk(token: str) -> int:
    """Size of the partial file of *token* (0 when it does not exist yet)."""
    try:
        return part_path(token).stat().st_size
    except FileNotFoundError:
        return 0


def advance_offset(upload_id: int, expected: int, new: int) -> bool:
    """Move an unfinished upload's offset from *expected* to *new* (its bytes must already be fsynced);
    False when another request moved it first, or the upload is gone or finished."""
    result = db.session.execute(
        update(UploadSession)
        .where(
            UploadSession.id == upload_id,
            UploadSession.upload_offset == expected,
            UploadSession.state == "receiving",
        )
        .values(upload_offset=new, expires_at=expiry_from(utcnow()))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def reset_offset(upload_id: int, offset: int) -> None:
    """Bring an upload's offset back to the bytes really on disk (its partial file was lost or cut)."""
    db.session.execute(
        update(UploadSession)
        .where(UploadSession.id == upload_id, UploadSession.state == "receiving")
        .values(upload_offset=offset)
        .execution_options(synchronize_session=False)
    )


def lock_for_completion(upload_id: int, expected: int) -> UploadSession | None:
    """The unfinished upload, locked, if its offset is still *expected*; None when another request won."""
    upload = db.session.scalar(select(UploadSession).where(UploadSession.id == upload_id).with_for_update())
    if upload is None or upload.state != "receiving" or upload.upload_offset != expected:
        return None
    return upload


def complete_upload(upload: UploadSession) -> MediaFile:
    """Hand the finished file to the media pipeline and record the new media file on the session.

    The partial file is consumed (ingest_file removes it, accepted or not). Raises MediaRejected when the
    pipeline refuses the file; the caller rolls back and records the refusal with :func:`record_refusal`.
    """
    path = part_path(upload.token)
    upload.upload_offset = upload.upload_length
    caption = to_langstrings(upload.caption)
    media = services.ingest_file(upload.record, path, upload.filename, upload.user, caption)
    now = utcnow()
    upload.state = "accepted"
    upload.media_public_id = media.public_id
    upload.completed_at = now
    upload.expires_at = expiry_from(now)
    db.session.flush()
    logger.info("resumable upload %s became media %s", upload.token, media.public_id)
    return media


def record_refusal(upload_id: int, code: str, params: dict | None) -> None:
    """Record that the pipeline refused a finished upload, and make sure none of its bytes stay behind."""
    upload = db.session.get(UploadSession, upload_id)
    if upload is None:
        return
    now = utcnow()
    upload.state = "refused"
    upload.upload_offset = upload.upload_length
    upload.refusal_code = code
    upload.refusal_params = _plain(params or {})
    upload.completed_at = now
    upload.expires_at = expiry_from(now)
    part_path(upload.token).unlink(missing_ok=True)
    db.session.flush()
    logger.info("resumable upload %s refused: %s", upload.token, code)


def _plain(params: dict) -> dict:
    """Parameters of a refusal as JSON-safe values."""
    return {str(k): v if isinstance(v, int | float | str | bool) or v is None else str(v)
            for k, v in params.items()}  # fmt: skip


def terminate_upload(upload: UploadSession) -> None:
    """Forget an upload and remove its bytes (a finished upload's media file is kept)."""
    token = upload.token
    db.session.delete(upload)
    db.session.flush()
    part_path(token).unlink(missing_ok=True)
    logger.info("resumable upload %s terminated", token)


def remove_expired_uploads(now: dt.datetime | None = None) -> list[str]:
    """Delete the sessions that expired before *now*; returns their tokens (their files go after commit)."""
    now = now or utcnow()
    tokens = list(db.session.scalars(select(UploadSession.token).where(UploadSession.expires_at <= now)))
    if tokens:
        db.session.execute(delete(UploadSession).where(UploadSession.token.in_(tokens)))
        db.session.flush()
    return tokens


def remove_part_files(tokens: list[str], now: dt.datetime | None = None) -> int:
    """Remove the partial files of *tokens*, and any partial file left without a session for longer than
    the expiry time (a crash between writing it and recording it); returns how many were removed."""
    now = now or utcnow()
    removed = 0
    for token in tokens:
        path = part_path(token)
        if path.exists():
            path.unlink(missing_ok=True)
            removed += 1
    known = set(db.session.scalars(select(UploadSession.token)))
    cutoff = (now - dt.timedelta(hours=current_app.config["TUS_EXPIRY_HOURS"])).timestamp()
    for path in parts_dir().glob("*.part"):
        try:
            stale = path.stem not in known and path.stat().st_mtime < cutoff
        except FileNotFoundError:  # finished or terminated meanwhile
            continue
        if stale:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


@periodic("expire_uploads", minute="*/10")
def expire_uploads_job() -> int:
    """Remove expired resumable uploads and their partial files; returns how many sessions went."""
    tokens = remove_expired_uploads()
    db.session.commit()
    files = remove_part_files(tokens)
    db.session.commit()
    if tokens or files:
        logger.info("removed %d expired uploads and %d partial files", len(tokens), files)
    return len(tokens)
