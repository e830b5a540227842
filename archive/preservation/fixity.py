"""Fixity checks: read every stored file again, compare its SHA-256 with the recorded one, keep each check,
repair from the good copy (or rebuild a derivative from its original), and say loudly what cannot be repaired.

Runs from ``archive fixity``, from the admin page (one file) and from an hourly job that checks a bounded
batch, oldest-checked first, so that every file is read again within FIXITY_CYCLE_DAYS.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select

from archive import audit
from archive.core.extensions import db
from archive.core.jobs import periodic
from archive.core.types import utcnow
from archive.preservation.models import FAILING, FILE_KINDS, FixityCheck, FixityRun, FixityState
from archive.preservation.replica import StoredFile, primary_path, replica_path, replica_root
from media.fixity import MISSING, CopyFailed, Verdict, copy_verified, verify

logger = logging.getLogger(__name__)

SCHEDULED_JOB = "preservation.fixity"


@dataclass
class RunSummary:
    """What a run found: counts, and the files still failing afterwards as (kind, key, location, outcome)."""

    run_id: str
    checked: int = 0
    repaired: int = 0
    copied: int = 0
    failures: list[tuple[str, str, str, str]] = field(default_factory=list)
    forgotten: int = 0


def stored_files(kinds: tuple[str, ...] = FILE_KINDS) -> list[StoredFile]:
    """Every file the archive records a SHA-256 for, one entry per (kind, key). Derivatives of media being
    (re)built are left out: their files are being replaced."""
    held, rebuilding = held_files(kinds)
    return [f for f in held if (f.kind, f.key) not in rebuilding]


def held_files(kinds: tuple[str, ...] = FILE_KINDS) -> tuple[list[StoredFile], set[tuple[str, str]]]:
    """Every file the archive records, one entry per (kind, key), and the (kind, key) of the derivatives
    whose media are being (re)built."""
    from archive.datasets.models import DatasetTable
    from archive.media.models import MediaCaption, MediaDerivative, MediaFile

    found: list[StoredFile] = []
    rebuilding: set[tuple[str, str]] = set()
    if "original" in kinds:
        rows = db.session.execute(select(MediaFile.storage_key, MediaFile.sha256, MediaFile.id))
        found += [StoredFile("original", key, digest, media_id) for key, digest, media_id in rows]
    if "derivative" in kinds:
        rows = db.session.execute(
            select(
                MediaDerivative.storage_key, MediaDerivative.sha256, MediaDerivative.media_id, MediaFile.state
            ).join(MediaFile, MediaFile.id == MediaDerivative.media_id)
        )
        for key, digest, media_id, state in rows:
            found.append(StoredFile("derivative", key, digest, media_id))
            if state != "ready":
                rebuilding.add(("derivative", key))
    if "caption" in kinds:
        rows = db.session.execute(
            select(MediaCaption.storage_key, MediaCaption.sha256, MediaCaption.media_id)
        )
        found += [StoredFile("caption", key, digest, media_id) for key, digest, media_id in rows]
    if "dataset" in kinds:
        for key, digest, source_key, source_digest in db.session.execute(
            select(
                DatasetTable.storage_key,
                DatasetTable.sha256,
                DatasetTable.source_storage_key,
                DatasetTable.source_sha256,
            )
        ):
            found.append(StoredFile("dataset", key, digest))
            if source_key and source_digest:
                found.append(StoredFile("dataset", source_key, source_digest))
    unique: dict[tuple[str, str], StoredFile] = {}
    for stored in found:
        unique.setdefault((stored.kind, stored.key), stored)
    return list(unique.values()), rebuilding


def due_first(files: list[StoredFile]) -> list[StoredFile]:
    """The files ordered by their last check, never-checked first, then oldest-checked first."""
    last: dict[tuple[str, str], object] = {}
    for kind, key, checked_at in db.session.execute(
        select(
            FixityState.file_kind, FixityState.storage_key, func.min(FixityState.last_checked_at)
        ).group_by(FixityState.file_kind, FixityState.storage_key)
    ):
        last[(kind, key)] = checked_at
    never = [f for f in files if (f.kind, f.key) not in last]
    seen = sorted((f for f in files if (f.kind, f.key) in last), key=lambda f: last[(f.kind, f.key)])
    return never + seen


def forget_files_no_longer_held(
    held: set[tuple[str, str]], kinds: tuple[str, ...], keys: set[tuple[str, str]] | None, before
) -> int:
    """Delete the latest-state rows (never the checks) of files not in *held*, among *kinds* (and *keys*,
    when given), last checked before *before*: a derivative set that changed on a rebuild, a file whose row
    is gone. Otherwise a failure of a file that no longer exists would stay listed for ever. Flushes;
    returns how many files were forgotten."""
    query = select(FixityState).where(FixityState.file_kind.in_(kinds), FixityState.last_checked_at < before)
    if keys is not None:
        query = query.where(FixityState.storage_key.in_({key for _kind, key in keys}))
    stale = [
        s
        for s in db.session.scalars(query)
        if (s.file_kind, s.storage_key) not in held and (keys is None or (s.file_kind, s.storage_key) in keys)
    ]
    for state in stale:
        db.session.delete(state)
    db.session.flush()
    forgotten = {(s.file_kind, s.storage_key) for s in stale}
    if forgotten:
        logger.info("fixity: %d files are no longer held; their latest state is forgotten", len(forgotten))
    return len(forgotten)


def record_check(stored: StoredFile, location: str, verdict: Verdict, run_id: str | None) -> FixityCheck:
    """Append one check to the trail and bring the file's latest state up to date (flushes)."""
    now = utcnow()
    check = FixityCheck(
        run_id=run_id,
        file_kind=stored.kind,
        storage_key=stored.key,
        location=location,
        checked_at=now,
        outcome=verdict.outcome,
        expected_sha256=verdict.expected,
        actual_sha256=verdict.actual,
        size_bytes=verdict.size,
        detail=verdict.detail[:2000],
    )
    db.session.add(check)
    db.session.flush()
    state = db.session.scalar(
        select(FixityState).filter_by(file_kind=stored.kind, storage_key=stored.key, location=location)
    )
    if state is None:
        state = FixityState(file_kind=stored.kind, storage_key=stored.key, location=location)
        db.session.add(state)
    failing = verdict.outcome in FAILING
    if failing and state.failing_since is None:
        state.failing_since = now
        audit.record(
            "fixity_failure",
            "fixity_check",
            check.id,
            summary=f"{stored.kind} {stored.key} ({location}): {verdict.outcome}",
            actor="system" if run_id is None else None,
        )
    elif not failing:
        state.failing_since = None
    state.last_checked_at = now
    state.last_outcome = verdict.outcome
    state.detail = verdict.detail[:2000]
    state.last_check_id = check.id
    db.session.flush()
    return check


def check_file(stored: StoredFile, run_id: str | None, *, repair: bool) -> list[FixityCheck]:
    """Verify one file at every location, copy it where the second copy is missing, and with *repair*
    replace a damaged copy from the good one (or rebuild a damaged derivative). Flushes, never commits
    (except for a derivative rebuild, which commits to queue its job)."""
    checks = []
    primary = verify(primary_path(stored), stored.sha256)
    checks.append(record_check(stored, "primary", primary, run_id))
    target = replica_path(stored)
    if target is not None:
        copy = verify(target, stored.sha256)
        checks.append(record_check(stored, "copy", copy, run_id))
        if primary.good and not copy.good and (copy.outcome == MISSING or repair):
            outcome = "copied" if copy.outcome == MISSING else "repaired"
            checks.append(_copy(stored, primary_path(stored), target, "copy", outcome, run_id))
        elif copy.good and not primary.good and repair:
            checks.append(_copy(stored, target, primary_path(stored), "primary", "repaired", run_id))
        elif not primary.good and not copy.good:
            logger.error(
                "fixity: BOTH copies of %s %s are damaged (primary %s, copy %s); restore it from a backup",
                stored.kind,
                stored.key,
                primary.outcome,
                copy.outcome,
            )
    elif not primary.good:
        if stored.kind == "derivative" and repair:
            checks.append(_rebuild(stored, run_id))
        else:
            logger.error("fixity: %s %s is %s: %s", stored.kind, stored.key, primary.outcome, primary.detail)
    return checks


def _copy(stored: StoredFile, source, target, location: str, outcome: str, run_id: str | None) -> FixityCheck:
    try:
        copy_verified(source, target, stored.sha256, replace=True)
    except (CopyFailed, OSError) as exc:
        logger.error("fixity: copying %s %s to the %s failed: %s", stored.kind, stored.key, location, exc)
        verdict = Verdict("repair_failed", stored.sha256, detail=f"{type(exc).__name__}: {exc}")
        return record_check(stored, location, verdict, run_id)
    after = verify(target, stored.sha256)
    if not after.good:
        verdict = Verdict("repair_failed", stored.sha256, after.actual, after.size, after.detail)
        return record_check(stored, location, verdict, run_id)
    where = "the primary store" if location == "copy" else "the second copy"
    verdict = Verdict(
        outcome, stored.sha256, after.actual, after.size, f"written from {where}, digest verified"
    )
    check = record_check(stored, location, verdict, run_id)
    if outcome == "repaired":
        audit.record(
            "fixity_repair",
            "fixity_check",
            check.id,
            summary=f"{stored.kind} {stored.key} ({location}) repaired",
        )
        logger.warning("fixity: %s %s (%s) repaired from %s", stored.kind, stored.key, location, where)
    return check


def _rebuild(stored: StoredFile, run_id: str | None) -> FixityCheck:
    """Rebuild the derivatives of the media file from its original, then verify the rebuilt file."""
    from archive.media.models import MediaDerivative, MediaFile
    from archive.media.services import rebuild_derivatives

    media = db.session.get(MediaFile, stored.media_id)
    original = verify(original_path_of(media), media.sha256) if media is not None else None
    if media is None or not original.good:
        verdict = Verdict("repair_failed", stored.sha256, detail="the original is not good: cannot rebuild")
        logger.error("fixity: derivative %s cannot be rebuilt, its original is damaged or gone", stored.key)
        return record_check(stored, "primary", verdict, run_id)
    rebuild_derivatives(media)  # commits, and queues the job (run now when jobs are immediate)
    media = db.session.get(MediaFile, stored.media_id)
    rebuilt = db.session.scalar(select(MediaDerivative).where(MediaDerivative.storage_key == stored.key))
    if media.state != "ready" or rebuilt is None:
        verdict = Verdict("rebuild_queued", stored.sha256, detail="rebuild from the original queued")
        return record_check(stored, "primary", verdict, run_id)
    fresh = StoredFile("derivative", rebuilt.storage_key, rebuilt.sha256, media.id)
    after = verify(primary_path(fresh), fresh.sha256)
    outcome = "repaired" if after.good else "repair_failed"
    verdict = Verdict(outcome, fresh.sha256, after.actual, after.size, "rebuilt from the original")
    check = record_check(fresh, "primary", verdict, run_id)
    if after.good:
        audit.record("fixity_repair", "fixity_check", check.id, summary=f"derivative {stored.key} rebuilt")
    return check


def original_path_of(media):
    """Path of a media file's original."""
    from archive.core.storage import original_path

    return original_path(media.storage_key)


def run_fixity(
    *,
    kinds: tuple[str, ...] = FILE_KINDS,
    limit: int | None = None,
    repair: bool = False,
    trigger: str = "cli",
    keys: set[tuple[str, str]] | None = None,
) -> RunSummary:
    """Check the stored files (all, or the *limit* least recently checked; or only *keys*), committing after
    each file so that no transaction is held while files are read."""
    held, rebuilding = held_files(kinds)
    files = [f for f in held if (f.kind, f.key) not in rebuilding]
    if keys is not None:
        files = [f for f in files if (f.kind, f.key) in keys]
    files = due_first(files)
    if limit is not None:
        files = files[:limit]
    run = FixityRun(id=uuid.uuid4().hex, started_by=trigger, started_at=utcnow())
    db.session.add(run)
    forgotten = forget_files_no_longer_held({(f.kind, f.key) for f in held}, kinds, keys, run.started_at)
    db.session.commit()
    summary = RunSummary(run.id, forgotten=forgotten)
    for stored in files:
        checks = check_file(stored, run.id, repair=repair)
        summary.checked += 1
        summary.repaired += sum(1 for c in checks if c.outcome == "repaired")
        summary.copied += sum(1 for c in checks if c.outcome == "copied")
        failing = db.session.scalars(
            select(FixityState).where(
                FixityState.file_kind == stored.kind,
                FixityState.storage_key.in_({stored.key} | {c.storage_key for c in checks}),
                FixityState.failing_since.is_not(None),
            )
        ).all()
        summary.failures += [(s.file_kind, s.storage_key, s.location, s.last_outcome) for s in failing]
        db.session.commit()
    run = db.session.get(FixityRun, summary.run_id)
    run.finished_at = utcnow()
    run.files_checked, run.repaired, run.copied = summary.checked, summary.repaired, summary.copied
    run.failures = len(summary.failures)
    db.session.commit()
    if summary.failures:
        logger.error("fixity run %s: %d failures in %d files", run.id, len(summary.failures), summary.checked)
    else:
        logger.info("fixity run %s: %d files good", run.id, summary.checked)
    return summary


def scheduled_batch_size(total: int) -> int:
    """How many files one hourly run checks so that all *total* are read within FIXITY_CYCLE_DAYS."""
    days = current_app.config.get("FIXITY_CYCLE_DAYS", 30)
    if not days or days <= 0 or total == 0:
        return 0
    return math.ceil(total / (days * 24))


@periodic(SCHEDULED_JOB, minute="23")
def scheduled_fixity() -> int:
    """Hourly: check the batch of least recently checked files (repairing when FIXITY_AUTO_REPAIR is on)."""
    total = len(stored_files())
    batch = scheduled_batch_size(total)
    if batch == 0:
        return 0
    summary = run_fixity(
        limit=batch, repair=bool(current_app.config.get("FIXITY_AUTO_REPAIR", False)), trigger="schedule"
    )
    return summary.checked


__all__ = ["FILE_KINDS", "FixityCheck", "RunSummary", "replica_root", "run_fixity", "stored_files"]
