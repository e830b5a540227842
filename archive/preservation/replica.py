"""The second copy of originals (REPLICA_DIR): media originals, caption tracks and dataset tables are
copied there write-once after they are committed, by a queued job; fixity runs copy whatever is missing.

Layout: ``<REPLICA_DIR>/originals/<key>`` for the originals store, ``<REPLICA_DIR>/derivatives/<key>`` for
caption tracks (which live beside the derivatives but cannot be rebuilt). Derivatives are not copied:
they are rebuilt from the original.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, has_app_context
from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from archive.core.jobs import enqueue_after_commit, job
from archive.core.storage import original_path
from archive.core.types import utcnow

logger = logging.getLogger(__name__)

REPLICATE_JOB = "preservation.replicate"
_PENDING = "preservation_replicate"
#: Kinds of stored file that have a second copy (the others are rebuilt from them).
REPLICATED_KINDS = ("original", "caption", "dataset")


@dataclass(frozen=True)
class StoredFile:
    """One stored file the archive vouches for: its kind, key and recorded SHA-256."""

    kind: str
    key: str
    sha256: str
    #: The media file a derivative or caption belongs to (None for datasets).
    media_id: int | None = None

    @property
    def replicated(self) -> bool:
        """True for files that have a second copy."""
        return self.kind in REPLICATED_KINDS


def replica_root() -> Path | None:
    """The second copy's directory, or None when REPLICA_DIR is empty (no second copy)."""
    value = current_app.config.get("REPLICA_DIR") or ""
    return Path(value) if value else None


def _inside(root: Path, key: str) -> Path:
    root = root.resolve()
    path = (root / key).resolve()
    if root not in path.parents:
        raise ValueError("storage key outside its root")
    return path


def primary_path(stored: StoredFile) -> Path:
    """Where the file lives in the data directory."""
    if stored.kind in ("original", "dataset"):
        return original_path(stored.key)
    from archive.media.services import derivatives_root

    return _inside(derivatives_root(), stored.key)


def replica_path(stored: StoredFile) -> Path | None:
    """Where the second copy of the file lives (None without a replica or for rebuildable files)."""
    root = replica_root()
    if root is None or not stored.replicated:
        return None
    area = "originals" if stored.kind in ("original", "dataset") else "derivatives"
    return _inside(root / area, stored.key)


# --- after a commit: queue the copy of the new files ----------------------------------------------------


def _new_files(session: Session) -> list[StoredFile]:
    from archive.datasets.models import DatasetTable
    from archive.media.models import MediaCaption, MediaFile

    found = []
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, MediaFile) and obj in session.new:
            found.append(StoredFile("original", obj.storage_key, obj.sha256, obj.id))
        elif isinstance(obj, MediaCaption) and (
            obj in session.new or inspect(obj).attrs.sha256.history.has_changes()
        ):
            found.append(StoredFile("caption", obj.storage_key, obj.sha256, obj.media_id))
        elif isinstance(obj, DatasetTable) and obj in session.new:
            found.append(StoredFile("dataset", obj.storage_key, obj.sha256))
            if obj.source_storage_key and obj.source_sha256:
                found.append(StoredFile("dataset", obj.source_storage_key, obj.source_sha256))
    return found


@event.listens_for(Session, "after_flush")
def _note_new_files(session: Session, _flush_context) -> None:
    """Record the ingest digest of each new stored file as its first check; remember the files to copy."""
    files = _new_files(session)
    if not files:
        return
    from archive.preservation.models import FixityCheck

    now = utcnow()
    session.connection().execute(
        insert(FixityCheck.__table__),
        [
            {
                "run_id": None,
                "file_kind": f.kind,
                "storage_key": f.key,
                "location": "primary",
                "checked_at": now,
                "outcome": "ingested",
                "expected_sha256": f.sha256,
                "actual_sha256": f.sha256,
                "size_bytes": None,
                "detail": "digest computed when the file was received",
            }
            for f in files
        ],
    )
    session.info.setdefault(_PENDING, []).extend(files)


@event.listens_for(Session, "after_commit")
def _queue_copies(session: Session) -> None:
    files = session.info.pop(_PENDING, None)
    if not files or not has_app_context() or replica_root() is None:
        return
    items = [[f.kind, f.key, f.sha256] for f in dict.fromkeys(files)]
    try:
        enqueue_after_commit(REPLICATE_JOB, items)
    except Exception:  # the next fixity run copies what is missing
        logger.exception("queueing the second copy of %d files failed", len(items))


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


@job(REPLICATE_JOB, retries=3, retry_delay=30)
def replicate_files(items: list[list[str]]) -> int:
    """Copy newly stored files to the second copy (write-once, verified); returns how many were copied."""
    from archive.preservation.fixity import record_check
    from media.fixity import Verdict, copy_verified

    copied = 0
    for kind, key, sha256 in items:
        stored = StoredFile(kind, key, sha256)
        target = replica_path(stored)
        if target is None or target.exists():
            continue
        size = copy_verified(primary_path(stored), target, sha256)
        record_check(stored, "copy", Verdict("copied", sha256, sha256, size, "second copy written"), None)
        copied += 1
        logger.info("%s %s copied to the replica", kind, key)
    from archive.core.extensions import db

    db.session.commit()
    return copied
