"""Fixity records: every check kept for good (append-only), the latest state of each stored file, and runs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from archive.core.extensions import db
from archive.core.types import UTCDateTime, utcnow

#: What is checked: media originals, derivatives (renditions, pyramids), caption tracks, dataset tables.
FILE_KINDS = ("original", "derivative", "caption", "dataset")
#: Where: the primary store in the data directory, or the second copy (REPLICA_DIR).
LOCATIONS = ("primary", "copy")
#: ok/mismatch/missing/unreadable come from reading the file; copied (a missing second copy was written),
#: repaired (a bad file replaced from the good copy or rebuilt), repair_failed, rebuild_queued (a
#: derivative rebuild was queued; the next check verifies it), ingested (the digest computed at ingest).
OUTCOMES = (
    "ok",
    "mismatch",
    "missing",
    "unreadable",
    "copied",
    "repaired",
    "repair_failed",
    "rebuild_queued",
    "ingested",
)
#: Outcomes after which a file counts as damaged until a later check finds it good.
FAILING = ("mismatch", "missing", "unreadable", "repair_failed", "rebuild_queued")
TRIGGERS = ("cli", "schedule", "admin")


class FixityCheckIsAppendOnly(RuntimeError):
    """Raised when code tries to change or remove a fixity check."""


class FixityRun(db.Model):
    """One pass of the fixity checker: who started it, when, and what it found."""

    __tablename__ = "fixity_run"
    __table_args__ = (CheckConstraint(f"started_by IN {TRIGGERS!r}", name="started_by"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: cli, schedule or admin (the page's re-check and repair buttons).
    started_by: Mapped[str] = mapped_column(String(10))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    files_checked: Mapped[int] = mapped_column(default=0)
    failures: Mapped[int] = mapped_column(default=0)
    repaired: Mapped[int] = mapped_column(default=0)
    copied: Mapped[int] = mapped_column(default=0)


class FixityCheck(db.Model):
    """One check of one stored file at one location; never changed or removed (the audit trail)."""

    __tablename__ = "fixity_check"
    __table_args__ = (
        CheckConstraint(f"file_kind IN {FILE_KINDS!r}", name="file_kind"),
        CheckConstraint(f"location IN {LOCATIONS!r}", name="location"),
        CheckConstraint(f"outcome IN {OUTCOMES!r}", name="outcome"),
        Index("ix_fixity_check_file", "file_kind", "storage_key"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    #: The run that made the check (None for the digest recorded at ingest). Not a foreign key: kept apart.
    run_id: Mapped[str | None] = mapped_column(String(32), index=True)
    file_kind: Mapped[str] = mapped_column(String(12))
    #: Relative to the originals root (original, dataset) or the derivatives root (derivative, caption).
    storage_key: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(8), default="primary")
    checked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    expected_sha256: Mapped[str] = mapped_column(String(64))
    actual_sha256: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[str] = mapped_column(Text, default="")


@event.listens_for(FixityCheck, "before_update")
def _refuse_update(_mapper, _connection, target: FixityCheck) -> None:
    raise FixityCheckIsAppendOnly("fixity checks are append-only")


@event.listens_for(FixityCheck, "before_delete")
def _refuse_delete(_mapper, _connection, target: FixityCheck) -> None:
    raise FixityCheckIsAppendOnly("fixity checks are append-only")


class FixityState(db.Model):
    """The latest verdict on one stored file at one location, for scheduling and the admin view."""

    __tablename__ = "fixity_state"
    __table_args__ = (
        UniqueConstraint("file_kind", "storage_key", "location", name="uq_fixity_state_file"),
        CheckConstraint(f"location IN {LOCATIONS!r}", name="location"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    file_kind: Mapped[str] = mapped_column(String(12))
    storage_key: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(8))
    last_checked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    last_outcome: Mapped[str] = mapped_column(String(16))
    #: When the current failure was first detected (None while the file is good).
    failing_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    last_check_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))

    @property
    def failing(self) -> bool:
        """True while the last check found the file damaged, missing or not yet repaired."""
        return self.failing_since is not None
