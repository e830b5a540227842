"""Ingest of uploaded originals and the derivative jobs that turn them into web renditions.

Ingest decides the type from the content, refuses anything dangerous (and then stores nothing and
leaves no temporary file), stores the original write-once under its SHA-256, records it as *pending*
and queues the derivative job. Jobs are idempotent: they claim the media row atomically, build every
rendition in a temporary directory swapped into place at the end, and record each derivative's
checksum. A worker killed mid-job leaves its claim behind; the claim is taken over when its process is
gone or its lease has expired, so the job completes later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import or_, select, update

from archive.accounts.models import User
from archive.core.extensions import db
from archive.core.identifiers import mint_identifier
from archive.core.jobs import enqueue, is_local_worker_dead, job, periodic, worker_identity
from archive.core.storage import original_path, store_original_file
from archive.core.types import utcnow
from archive.media.models import MediaCaption, MediaDerivative, MediaFile
from archive.records.models import HeritageRecord
from media.checks import (
    MediaRejected,
    Sniffed,
    check_filename,
    check_image,
    check_webvtt,
    probe_av,
    sniff,
)
from media.fixity import tree_digest
from media.probe import sha256_file
from metadata.languages import LangString

logger = logging.getLogger(__name__)

CHUNK = 1 << 20
#: How many times a derivative job is tried before the media is marked failed.
MAX_ATTEMPTS = 4


def incoming_dir() -> Path:
    """Where uploads are received before they are checked (same filesystem as the originals)."""
    path = Path(current_app.config["DATA_DIR"]) / "incoming"
    path.mkdir(parents=True, exist_ok=True)
    return path


def derivatives_root() -> Path:
    """The root directory of every derivative."""
    return Path(current_app.config["DATA_DIR"]) / "derivatives"


def receive_stream(stream, limit: int) -> Path:
    """Copy an upload stream to a private temporary file, refusing it past *limit* bytes."""
    fd, name = tempfile.mkstemp(dir=incoming_dir(), prefix="upload-")
    path = Path(name)
    try:
        total = 0
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                total += len(chunk)
                if total > limit:
                    raise MediaRejected("too_large", {"limit": limit})
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


@dataclass(frozen=True)
class FileFacts:
    """What the ingest checks found out about an acceptable file."""

    size: int
    sniffed: Sniffed
    kind: str
    mime: str
    width: int | None
    height: int | None
    duration: float | None
    sha256: str


def check_file(path: Path, filename: str) -> FileFacts:
    """Run every ingest check on a file (size, sniffing, name/type match, pixel limit, ffprobe, duplicate
    SHA-256) without storing or removing anything. Raises MediaRejected for anything the archive refuses."""
    config = current_app.config
    size = path.stat().st_size
    if size == 0:
        raise MediaRejected("empty", {})
    if size > config["MAX_MEDIA_BYTES"]:
        raise MediaRejected("too_large", {"limit": config["MAX_MEDIA_BYTES"]})
    sniffed = sniff(path)
    check_filename(sniffed, filename)
    width = height = duration = None
    if sniffed.kind == "image":
        width, height = check_image(path, sniffed, max_pixels=config["MAX_IMAGE_PIXELS"])
        kind, mime = "image", sniffed.mime
    else:
        facts = probe_av(
            path,
            sniffed,
            ffprobe=config["FFPROBE"],
            timeout=config["PROBE_TIMEOUT"],
            memory_limit=config["TOOL_MEMORY_LIMIT"],
            max_duration=config["MAX_MEDIA_SECONDS"],
        )
        kind, mime, duration = facts.kind, facts.mime, facts.duration
        width, height = facts.width, facts.height
    digest = sha256_file(path)
    existing = db.session.scalar(select(MediaFile).where(MediaFile.sha256 == digest))
    if existing is not None:
        raise MediaRejected("duplicate", {"media": existing.public_id, "record": existing.record.public_id})
    return FileFacts(size, sniffed, kind, mime, width, height, duration, digest)


def ingest_file(
    record: HeritageRecord,
    path: Path,
    filename: str,
    actor: User | None,
    caption: list[LangString] | None = None,
    access_level: str = "public",
) -> MediaFile:
    """Check an uploaded file and add it to *record* as a pending MediaFile; the temporary file is
    always removed. Raises MediaRejected (nothing stored) for anything the archive refuses."""
    config = current_app.config
    stored: Path | None = None
    try:
        facts = check_file(path, filename)
        key, created = store_original_file(path, facts.sha256, "." + facts.sniffed.extension)
        stored = original_path(key) if created else None
        media = MediaFile(
            public_id=mint_identifier("media"),
            record=record,
            kind=facts.kind,
            original_filename=display_filename(filename),
            storage_key=key,
            sha256=facts.sha256,
            size_bytes=facts.size,
            mime_type=facts.mime,
            width=facts.width,
            height=facts.height,
            duration_seconds=facts.duration,
            caption=[v.to_dict() for v in caption or []],
            access_level=access_level,
            created_by=actor,
            position=len(record.media),
            state="pending",
            demuxer=facts.sniffed.demuxer,
            lease_until=utcnow() + dt.timedelta(seconds=config["JOB_REQUEUE_SECONDS"]),
        )
        db.session.add(media)
        db.session.flush()
        stored = None
        logger.info(
            "media %s (%s, %s) ingested for record %s",
            media.public_id,
            facts.kind,
            facts.mime,
            record.public_id,
        )
        return media
    finally:
        path.unlink(missing_ok=True)
        if stored is not None:  # the database refused the row: do not leave the file behind
            _remove_original(stored)


def discard_originals(storage_keys: list[str]) -> int:
    """Delete stored originals that no media row refers to any more (after an ingest was rolled back);
    returns how many files were removed."""
    removed = 0
    for key in dict.fromkeys(storage_keys):
        if db.session.scalar(select(MediaFile.id).where(MediaFile.storage_key == key).limit(1)) is not None:
            continue
        path = original_path(key)
        if path.exists():
            _remove_original(path)
            removed += 1
            logger.info("original %s removed: its ingest was rolled back", key)
    return removed


def _remove_original(path: Path) -> None:
    path.chmod(0o644)
    path.unlink(missing_ok=True)


def display_filename(filename: str) -> str:
    """The client's file name, kept for information only: no directories, no control characters (PostgreSQL
    refuses NUL in text), bounded length."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "upload"
    return "".join(ch for ch in name if ch.isprintable())[:200]


def queue_derivatives(media: MediaFile) -> None:
    """Queue the derivative job of a media file (call after the ingest has been committed)."""
    enqueue("derive_media", media.id)


@job("derive_media", retries=MAX_ATTEMPTS - 1, retry_delay=5, retry_backoff=2)
def derive_media_job(media_id: int) -> None:
    """Build every derivative of one media file (idempotent; retried with back-off)."""
    claimed = claim(media_id)
    if claimed is None:
        return
    media = MediaJob(claimed.id, claimed.public_id, claimed.kind, claimed.storage_key, claimed.demuxer,
                     claimed.attempts)  # fmt: skip
    # End the transaction before the long work: on SQLite a transaction holds the database lock.
    db.session.commit()
    try:
        rows, size = build_derivatives(media)
    except MediaRejected as exc:  # the content itself cannot be processed: retrying will not help
        _fail(media_id, exc.code, str(exc.params))
        return
    except Exception as exc:
        logger.exception("derivatives of media %s failed (attempt %d)", media_id, media.attempts)
        final = media.attempts >= MAX_ATTEMPTS
        _release(media_id, failed=final, detail=f"{type(exc).__name__}: {exc}")
        if not final:
            raise
        return
    db.session.execute(MediaDerivative.__table__.delete().where(MediaDerivative.media_id == media_id))
    db.session.add_all(rows)
    if size is not None:
        db.session.execute(
            update(MediaFile).where(MediaFile.id == media_id).values(width=size[0], height=size[1])
        )
    db.session.execute(
        update(MediaFile)
        .where(MediaFile.id == media_id)
        .values(
            state="ready",
            state_reason=None,
            state_detail=None,
            claimed_by=None,
            lease_until=None,
            processed_at=utcnow(),
        )
    )
    db.session.commit()
    logger.info("media %s ready", media.public_id)
    from archive.datasets.generated import request_refresh  # here: datasets import the media models

    request_refresh()  # the generated datasets count the media hours visitors can play


def claim(media_id: int) -> MediaFile | None:
    """Atomically take a media file for processing; None if it is done or held by a live worker."""
    now = utcnow()
    lease = dt.timedelta(seconds=current_app.config["JOB_LEASE_SECONDS"])
    result = db.session.execute(
        update(MediaFile)
        .where(
            MediaFile.id == media_id,
            or_(
                MediaFile.state == "pending",
                (MediaFile.state == "processing") & (MediaFile.lease_until < now),
            ),
        )
        .values(
            state="processing",
            claimed_by=worker_identity(),
            lease_until=now + lease,
            attempts=MediaFile.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount != 1:
        return None
    return db.session.get(MediaFile, media_id)


def _release(media_id: int, failed: bool, detail: str) -> None:
    db.session.rollback()
    values = {"claimed_by": None, "state_detail": detail[:2000]}
    if failed:
        values.update(state="failed", state_reason="processing_failed", lease_until=None)
    else:
        values.update(
            state="pending",
            lease_until=utcnow() + dt.timedelta(seconds=current_app.config["JOB_REQUEUE_SECONDS"]),
        )
    db.session.execute(update(MediaFile).where(MediaFile.id == media_id).values(**values))
    db.session.commit()


def _fail(media_id: int, reason: str, detail: str) -> None:
    db.session.rollback()
    db.session.execute(
        update(MediaFile)
        .where(MediaFile.id == media_id)
        .values(
            state="failed", state_reason=reason, state_detail=detail[:2000], claimed_by=None, lease_until=None
        )
    )
    db.session.commit()


@dataclass(frozen=True)
class MediaJob:
    """What a derivative job needs to know of its media file, read once (no database during the work)."""

    id: int
    public_id: str
    kind: str
    storage_key: str
    demuxer: str | None
    attempts: int


def build_derivatives(media: MediaJob) -> tuple[list[MediaDerivative], tuple[int, int] | None]:
    """Build the renditions of *media* into a fresh directory and swap it in; returns the derivative rows
    (with their checksums) to record, and the image's size after orientation (None for sound and video).
    Touches no database."""
    from media import renditions
    from media.pyramid import build_pyramid

    config = current_app.config
    root = derivatives_root()
    root.mkdir(parents=True, exist_ok=True)
    final = root / media.public_id
    for stale in root.glob(f".{media.public_id}-*"):  # left by a worker that died mid-job
        shutil.rmtree(stale, ignore_errors=True)
    work = Path(tempfile.mkdtemp(dir=root, prefix=f".{media.public_id}-"))
    try:
        source = original_path(media.storage_key)
        outputs: dict[str, tuple[Path, str]] = {}
        if media.kind == "image":
            info = build_pyramid(source, work / "pyramid", max_pixels=config["MAX_IMAGE_PIXELS"])
            outputs["pyramid"] = (work / "pyramid", "application/x-archive-pyramid")
            w, h = info.sizes[-1] if info.sizes else (info.width, info.height)
            outputs["thumbnail"] = (work / "pyramid" / "full" / f"{w}x{h}.jpg", "image/jpeg")
        elif media.kind == "audio":
            made = renditions.audio_renditions(
                source, media.demuxer, work, ffmpeg=config["FFMPEG"], timeout=config["RENDITION_TIMEOUT"]
            )
            outputs["web"] = (made["web"], "audio/mp4")
            outputs["low"] = (made["low"], "audio/ogg")
            outputs["peaks"] = (made["peaks"], "application/json")
        else:
            made = renditions.video_renditions(
                source,
                media.demuxer,
                work,
                ffmpeg=config["FFMPEG"],
                timeout=config["RENDITION_TIMEOUT"],
                has_audio=True,
            )
            for name, mime in (
                ("720", "video/mp4"),
                ("360", "video/mp4"),
                ("audio_low", "audio/ogg"),
                ("poster", "image/jpeg"),
            ):
                if name in made:
                    outputs[name] = (made[name], mime)
        rows = [_derivative_row(media, name, path, mime, work) for name, (path, mime) in outputs.items()]
        old = None
        if (final / "captions").is_dir():
            # Captions are uploaded, not derived: carry them into the new directory. Hard links, so that
            # a worker dying before the swap leaves the only copy where it was.
            shutil.copytree(final / "captions", work / "captions", copy_function=os.link)
        if final.exists():
            old = root / f".{media.public_id}-old-{os.getpid()}"
            final.rename(old)
        work.rename(final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return rows, ((info.width, info.height) if media.kind == "image" else None)


def _derivative_row(media: MediaJob, name: str, path: Path, mime: str, work: Path) -> MediaDerivative:
    relative = path.relative_to(work)
    if path.is_dir():
        digest, size = tree_digest(path)
        width = height = None
        from media.pyramid import load_pyramid_info

        info = load_pyramid_info(path)
        width, height = info.width, info.height
    else:
        digest, size = sha256_file(path), path.stat().st_size
        width = height = None
        if mime == "image/jpeg":
            from media.probe import image_facts

            _, width, height = image_facts(path)
    return MediaDerivative(
        media_id=media.id,
        name=name,
        storage_key=f"{media.public_id}/{relative}",
        mime_type=mime,
        sha256=digest,
        size_bytes=size,
        width=width,
        height=height,
    )


def derivative_path(derivative: MediaDerivative) -> Path:
    """Absolute path of a derivative (a file, or the pyramid directory)."""
    root = derivatives_root().resolve()
    path = (root / derivative.storage_key).resolve()
    if root not in path.parents:
        raise ValueError("derivative outside the derivatives root")
    return path


@periodic("recover_media_jobs", minute="*")
def recover_jobs() -> int:
    """Re-queue media whose job was lost: a dead or expired worker claim, or a pending job never run."""
    now = utcnow()
    requeue = []
    for media in db.session.scalars(select(MediaFile).where(MediaFile.state.in_(("pending", "processing")))):
        if media.state == "processing" and (
            is_local_worker_dead(media.claimed_by) or (media.lease_until and media.lease_until < now)
        ):
            media.state = "pending"
            media.claimed_by = None
            requeue.append(media)
        elif media.state == "pending" and (media.lease_until is None or media.lease_until < now):
            requeue.append(media)
    for media in requeue:
        media.lease_until = now + dt.timedelta(seconds=current_app.config["JOB_REQUEUE_SECONDS"])
    ids = [(media.id, media.public_id) for media in requeue]
    db.session.commit()
    for media_id, public_id in ids:  # by id: reading the rows again would open a new transaction
        logger.info("re-queueing derivatives of media %s", public_id)
        enqueue("derive_media", media_id)
    return len(requeue)


def rebuild_derivatives(media: MediaFile) -> None:
    """Mark a media file for a rebuild from its original and queue the job."""
    media.state = "pending"
    media.state_reason = media.state_detail = None
    media.attempts = 0
    media.lease_until = utcnow() + dt.timedelta(seconds=current_app.config["JOB_REQUEUE_SECONDS"])
    db.session.commit()
    queue_derivatives(media)


def attach_captions(
    media: MediaFile, data: bytes, lang: str, label: str, kind: str, actor: User | None
) -> MediaCaption:
    """Store a checked WebVTT track for an audio or video file (replacing one of the same language/kind)."""
    if media.kind not in ("audio", "video"):
        raise MediaRejected("captions_need_av", {})
    text = check_webvtt(data)
    body = text.encode("utf-8")
    digest = hashlib.sha256(body).hexdigest()
    directory = derivatives_root() / media.public_id / "captions"
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{kind}-{lang}.vtt"
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".vtt-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(body)
    os.replace(tmp, directory / name)
    track = db.session.scalar(select(MediaCaption).filter_by(media_id=media.id, lang=lang, kind=kind))
    if track is None:
        track = MediaCaption(media=media, lang=lang, kind=kind)
        db.session.add(track)
    track.label, track.sha256, track.created_by = label, digest, actor
    track.storage_key = f"{media.public_id}/captions/{name}"
    db.session.flush()
    return track
