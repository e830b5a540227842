"""Recovery after a crash: remove what a killed process left behind, never anything still in use.

A web process or worker killed with SIGKILL can leave:

* an original moved into the write-once store whose database row was never committed (the store moves
  a file into place *before* the commit); it is removed once it has been unreferenced for longer than
  ORPHAN_GRACE_MINUTES, so an upload between the move and its commit is never touched;
* temporary files: uploads being received in ``incoming/``, derivative work directories
  (``derivatives/.<media>-*``), a bulk import taken for confirmation (``bulk-imports/.<token>-confirming``),
  half-built search index directories;
* derivative directories of media that no longer exist, and files in them no row refers to;
* expired resumable uploads (the clean-up job's work, reused here);
* the index writer's queue lock, held by a process that no longer runs (the index would never be updated
  again);
* media jobs claimed by a dead worker (re-queued by :func:`archive.media.services.recover_jobs`).

:func:`recover` does all of this and returns a :class:`RecoveryReport`. It runs at worker start, as a
periodic job, and as ``archive recover`` (with ``--dry-run``). It is safe while the web serves: every
removal is of a file older than the grace period that nothing refers to, checked again just before it goes.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from huey.api import TaskLock
from huey.exceptions import TaskLockedException
from sqlalchemy import select

from archive.core.extensions import db
from archive.core.jobs import is_local_worker_dead, periodic, worker_identity

logger = logging.getLogger(__name__)

#: Minutes a file may stay unreferenced before the sweep removes it (ORPHAN_GRACE_MINUTES).
DEFAULT_GRACE_MINUTES = 60


@dataclass
class RecoveryReport:
    """What a recovery pass removed (or, in a dry run, would remove), as paths relative to DATA_DIR."""

    dry_run: bool = False
    orphan_originals: list[str] = field(default_factory=list)
    temporary_files: list[str] = field(default_factory=list)
    orphan_derivatives: list[str] = field(default_factory=list)
    expired_uploads: int = 0
    released_locks: list[str] = field(default_factory=list)
    requeued_media: int = 0
    #: Rows whose original is missing from the store (never removed here: restore them from a copy).
    missing_originals: list[str] = field(default_factory=list)

    @property
    def removed(self) -> int:
        """How many files and directories were (or would be) removed."""
        return len(self.orphan_originals) + len(self.temporary_files) + len(self.orphan_derivatives)

    def lines(self) -> list[str]:
        """One line per finding, for the log and the command's output."""
        verb = "would remove" if self.dry_run else "removed"
        out = [f"{verb} unreferenced original {p}" for p in self.orphan_originals]
        out += [f"{verb} temporary file {p}" for p in self.temporary_files]
        out += [f"{verb} orphan derivative {p}" for p in self.orphan_derivatives]
        if self.expired_uploads:
            out.append(f"{verb} {self.expired_uploads} expired resumable uploads")
        out += [f"released index writer lock held by dead process {p}" for p in self.released_locks]
        if self.requeued_media:
            out.append(f"re-queued {self.requeued_media} unfinished media jobs")
        out += [f"MISSING original (restore it from a copy): {p}" for p in self.missing_originals]
        return out


# --- the index writer lock, with the identity of its holder ------------------------------------------


class HeldLock(TaskLock):
    """A queue lock whose value names its holder ("host:pid"), so that a lock left by a killed process can
    be told from one a live process holds, and released."""

    def acquire(self):
        if not self._huey.put_if_empty(self._key, worker_identity(), self._ttl):
            raise TaskLockedException(f"unable to acquire lock {self._name}")
        return True


def held_lock(huey, name: str) -> HeldLock:
    """The lock *name* on *huey*, recording its holder."""
    return HeldLock(huey, name)


def release_dead_lock(huey, name: str, dry_run: bool = False) -> str | None:
    """Release lock *name* if it is held by a process of this host that no longer runs; returns the
    holder's identity when it was (or would be) released."""
    key = f"{huey.name}.lock.{name}"
    try:
        holder = huey.get(key, peek=True)
    except Exception:  # noqa: BLE001 - a value written by another lock type (e.g. b"1"): not ours to judge
        return None
    if not isinstance(holder, str) or not is_local_worker_dead(holder):
        return None
    # Only the holder ever deletes the key, and it is dead: nobody can take the lock between the two calls.
    if not dry_run:
        huey.delete(key)
        logger.warning("index writer lock held by dead process %s released", holder)
    return holder


# --- what the database refers to ------------------------------------------------------------------------


def referenced_storage_keys() -> set[str]:
    """Every value of every ``*storage_key`` column (originals of media and datasets, derivatives,
    caption tracks, and any table added later that follows the naming): a superset is always safe. The
    fixity tables only record which files were checked (their history names deleted files too)."""
    keys: set[str] = set()
    for table in db.metadata.tables.values():
        if table.name.startswith("fixity_"):
            continue
        for column in table.columns:
            if column.name == "storage_key" or column.name.endswith("_storage_key"):
                keys.update(k for k in db.session.scalars(select(column).where(column.is_not(None))) if k)
    return keys


# --- the sweeps ---------------------------------------------------------------------------------------------


def grace_seconds() -> float:
    """The grace period in seconds (ORPHAN_GRACE_MINUTES)."""
    return float(current_app.config.get("ORPHAN_GRACE_MINUTES", DEFAULT_GRACE_MINUTES)) * 60.0


def _age(path: Path, now: float) -> float:
    """Seconds since *path* was last written (0 when it has gone)."""
    try:
        return now - path.lstat().st_mtime
    except FileNotFoundError:
        return 0.0


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        for child in path.rglob("*"):
            if not child.is_symlink():
                child.chmod(0o755 if child.is_dir() else 0o644)
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.chmod(0o644)
        except FileNotFoundError:
            return
        path.unlink(missing_ok=True)


def sweep_originals(report: RecoveryReport, grace: float, now: float) -> None:
    """Remove originals nothing refers to that entered the store longer than *grace* seconds ago."""
    from archive.core.storage import storage_root

    root = storage_root()
    if not root.is_dir():
        return
    for parked in root.rglob(".recovering-*"):  # a sweep killed while it held a file aside: put it back
        target = parked.with_name(parked.name.removeprefix(".recovering-"))
        if report.dry_run:
            continue
        if target.exists():
            _remove(parked)
        else:
            os.replace(parked, target)
    referenced = referenced_storage_keys()
    db.session.rollback()  # hold no transaction (on SQLite: no lock) during the walk
    data_dir = Path(current_app.config["DATA_DIR"])
    for path in sorted(root.rglob("*")):
        if path.is_dir() or path.is_symlink() or path.name.startswith(".recovering-"):
            continue
        key = path.relative_to(root).as_posix()
        if key in referenced or _age(path, now) <= grace:
            continue
        if report.dry_run:
            report.orphan_originals.append(str(path.relative_to(data_dir)))
            continue
        if _remove_unreferenced_original(path, key, grace):
            report.orphan_originals.append(str(path.relative_to(data_dir)))
            logger.warning("unreferenced original %s removed (left by an interrupted ingest)", key)
    # Empty directories stay: an ingest may be about to move a file into one (at most 65,536 of them).


def _remove_unreferenced_original(path: Path, key: str, grace: float) -> bool:
    """Take *path* out of the store, check once more that nothing refers to it and that no ingest of the
    same content touched it meanwhile (the store refreshes a file's time when it deduplicates into it),
    then delete it; otherwise put it back. Returns True when it was deleted."""
    parked = path.with_name(f".recovering-{path.name}")
    try:
        os.replace(path, parked)
    except FileNotFoundError:
        return False
    touched = _age(parked, time.time()) <= grace
    db.session.rollback()
    referenced = key in referenced_storage_keys()
    db.session.rollback()
    if touched or referenced:
        if path.exists():  # the ingest stored a fresh copy meanwhile
            _remove(parked)
        else:
            os.replace(parked, path)
        return False
    _remove(parked)
    return True


def sweep_temporary_files(report: RecoveryReport, grace: float, now: float) -> None:
    """Remove received-but-unfinished uploads in ``incoming/`` (not the resumable parts, which have
    sessions of their own), interrupted bulk import confirmations and half-built search indexes."""
    data_dir = Path(current_app.config["DATA_DIR"])
    candidates: list[Path] = []
    incoming = data_dir / "incoming"
    if incoming.is_dir():
        candidates += [p for p in incoming.iterdir() if p.is_file() and not p.is_symlink()]
    imports = data_dir / "bulk-imports"
    if imports.is_dir():
        candidates += [
            p for p in imports.iterdir() if p.name.startswith(".") and p.name.endswith("-confirming")
        ]
    candidates += _stale_index_parts()
    for path in candidates:
        if _age(path, now) <= grace:
            continue
        report.temporary_files.append(str(path.relative_to(data_dir)))
        if not report.dry_run:
            _remove(path)
            logger.warning("temporary file %s removed (left by an interrupted process)", path)


def _stale_index_parts() -> list[Path]:
    """Whoosh index directories other than the live one, and pointer files never renamed into place."""
    if current_app.config.get("SEARCH_BACKEND", "whoosh") != "whoosh":
        return []
    from archive.search.service import search_dir

    root = search_dir()
    pointer = root / "CURRENT"
    if not pointer.is_file():
        return []  # no live index yet: a rebuild may be writing the first one
    live = pointer.read_text(encoding="utf-8").strip()
    return [
        p
        for p in root.iterdir()
        if (p.is_dir() and p.name.startswith("index-") and p.name != live) or p.name.startswith(".CURRENT.")
    ]


def sweep_derivatives(report: RecoveryReport, grace: float, now: float) -> None:
    """Remove derivative directories of media that no longer exist, work directories of jobs no live
    worker holds, and files of a finished media's directory that no derivative or caption row names."""
    from archive.media.models import MediaCaption, MediaDerivative, MediaFile
    from archive.media.services import derivatives_root

    root = derivatives_root()
    if not root.is_dir():
        return
    data_dir = Path(current_app.config["DATA_DIR"])
    media = {m.public_id: (m.state, m.claimed_by) for m in db.session.execute(
        select(MediaFile.public_id, MediaFile.state, MediaFile.claimed_by))}  # fmt: skip
    keys = set(db.session.scalars(select(MediaDerivative.storage_key)))
    keys.update(db.session.scalars(select(MediaCaption.storage_key)))
    db.session.rollback()
    doomed: list[Path] = []
    for entry in root.iterdir():
        if entry.name.startswith("."):  # a job's work directory (".<media>-xxxx", ".<media>-old-<pid>")
            public_id = entry.name[1:].split("-", 1)[0]
            found = media.get(public_id)
            held = found is not None and found[0] == "processing" and not is_local_worker_dead(found[1])
            if found is None or (not held and _age(entry, now) > grace):
                doomed.append(entry)
            continue
        found = media.get(entry.name)
        if found is None:
            if _age(entry, now) > grace:
                doomed.append(entry)
            continue
        if found[0] not in ("ready", "failed"):
            continue  # a job will replace the whole directory
        for path in entry.rglob("*"):
            relative = path.relative_to(root).as_posix()
            covered = any(relative == k or relative.startswith(k + "/") or k.startswith(relative + "/")
                          for k in keys if k.startswith(entry.name + "/"))  # fmt: skip
            if not covered and not any(p in doomed for p in path.parents) and _age(path, now) > grace:
                doomed.append(path)
    for path in doomed:
        report.orphan_derivatives.append(str(path.relative_to(data_dir)))
        if not report.dry_run:
            _remove(path)
            logger.warning("orphan derivative %s removed", path.relative_to(data_dir))


def find_missing_originals(report: RecoveryReport) -> None:
    """List media rows whose original is not in the store (a half-written state; never expected)."""
    from archive.core.storage import original_path
    from archive.media.models import MediaFile

    for public_id, key in db.session.execute(select(MediaFile.public_id, MediaFile.storage_key)):
        if not original_path(key).is_file():
            report.missing_originals.append(f"{public_id} ({key})")
    db.session.rollback()
    for line in report.missing_originals:
        logger.error("media %s: its original is missing from the store", line)


def expire_uploads(report: RecoveryReport) -> None:
    """Remove expired resumable uploads and partial files without a session (the clean-up job's work)."""
    from archive.media import resumable

    if report.dry_run:
        return
    tokens = resumable.remove_expired_uploads()
    db.session.commit()
    resumable.remove_part_files(tokens)
    db.session.commit()
    report.expired_uploads = len(tokens)


def recover(
    dry_run: bool = False, grace_minutes: float | None = None, requeue: bool = True
) -> RecoveryReport:
    """Remove what crashed processes left behind and re-queue their jobs; returns what was done."""
    from archive.core.jobs import huey_for
    from archive.search.service import WRITER_LOCK

    report = RecoveryReport(dry_run=dry_run)
    grace = grace_seconds() if grace_minutes is None else grace_minutes * 60.0
    now = time.time()
    released = release_dead_lock(huey_for(current_app), WRITER_LOCK, dry_run=dry_run)
    if released:
        report.released_locks.append(released)
    expire_uploads(report)
    sweep_originals(report, grace, now)
    sweep_temporary_files(report, grace, now)
    sweep_derivatives(report, grace, now)
    find_missing_originals(report)
    if requeue and not dry_run:
        from archive.media.services import recover_jobs

        report.requeued_media = recover_jobs()
    db.session.remove()
    for line in report.lines():
        logger.info("recovery: %s", line)
    return report


def report_to_json(report: RecoveryReport) -> str:
    """The report as JSON (for ``archive recover --json``)."""
    from dataclasses import asdict

    return json.dumps(asdict(report), ensure_ascii=False, indent=2)


@periodic("preservation.recover", minute="17")
def recover_job() -> int:
    """Hourly recovery sweep (media jobs are re-queued by their own per-minute job)."""
    return recover(requeue=False).removed
