"""Keeping the index in step with the database.

Every flush that adds, changes or deletes a record (or its texts, vocabulary links, dates or media)
writes the record's id to the search outbox *in the same transaction*, so no change can be committed
without its index update being queued. After the commit, a ``search.sync`` job applies the outbox;
the jobs that write the index hold one queue lock, so there is a single writer however many web
processes and workers run. A periodic sync catches anything a lost job left behind.
"""

from __future__ import annotations

import logging

from flask import current_app, has_app_context
from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session

from archive.communities.models import ConsentRecord, CulturalLabel
from archive.core.jobs import enqueue, job, periodic
from archive.core.types import utcnow
from archive.media.models import MediaCaption, MediaFile
from archive.records.models import (
    DocumentedDate,
    FestivalTiming,
    HeritageRecord,
    RecordAgent,
    RecordText,
    Rights,
)
from archive.search import service
from archive.search.models import SearchOutbox

logger = logging.getLogger(__name__)

#: Children whose changes change their record's document (None: any change of the row counts).
_CHILDREN = (RecordText, RecordAgent, FestivalTiming, DocumentedDate, Rights, ConsentRecord, CulturalLabel)
#: Media attributes that the document reads (processing claims and leases do not change it).
_MEDIA_ATTRIBUTES = ("caption", "access_level", "community_id", "kind", "state", "record_id")
_PENDING = "search_outbox_pending"


def _changed(obj, attributes) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in attributes)


def _affected_records(session: Session) -> set[int]:
    ids: set[int] = set()
    caption_media: set[int] = set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        is_dirty = obj not in session.new and obj not in session.deleted
        if isinstance(obj, HeritageRecord):
            if not is_dirty or session.is_modified(obj):
                ids.add(obj.id)
        elif isinstance(obj, _CHILDREN):
            if not is_dirty or session.is_modified(obj):
                ids.add(obj.record_id)
        elif isinstance(obj, MediaFile):
            if not is_dirty or _changed(obj, _MEDIA_ATTRIBUTES):
                ids.add(obj.record_id)
        elif isinstance(obj, MediaCaption):
            caption_media.add(obj.media_id)
    if caption_media:
        ids.update(session.scalars(select(MediaFile.record_id).where(MediaFile.id.in_(caption_media))))
    ids.discard(None)
    return ids


@event.listens_for(Session, "after_flush")
def _queue_in_outbox(session: Session, _flush_context) -> None:
    ids = _affected_records(session)
    if not ids:
        return
    now = utcnow()
    session.connection().execute(
        insert(SearchOutbox.__table__), [{"record_id": rid, "queued_at": now} for rid in sorted(ids)]
    )
    session.info[_PENDING] = True


@event.listens_for(Session, "after_commit")
def _sync_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT was released; the outer transaction may still roll the change back
    if not session.info.pop(_PENDING, False) or not has_app_context():
        return
    if current_app.config.get("JOBS_IMMEDIATE"):
        # Tests and one-off scripts: apply now, in a session of its own (this one has just committed and
        # may not run SQL inside this hook), on the same connection or engine.
        with Session(bind=session.get_bind(), join_transaction_mode="create_savepoint") as own:
            try:
                service.sync_index(own)
            except service.WriterBusy:
                logger.info("index writer busy; the outbox stays queued")
        return
    enqueue("search.sync")


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    if not session.in_nested_transaction():  # the whole transaction, not a SAVEPOINT, was rolled back
        session.info.pop(_PENDING, None)


@job("search.sync", retries=100, retry_delay=1)
def sync_job() -> None:
    """Apply the search outbox (retried while another writer holds the lock)."""
    from huey.exceptions import RetryTask

    try:
        service.sync_index()
    except service.WriterBusy:
        raise RetryTask(delay=1) from None


@job("search.rebuild", retries=3, retry_delay=30)
def rebuild_job() -> None:
    """Rebuild the whole index from the database (a missing or corrupt index, or an administrator)."""
    try:
        service.rebuild_index()
    except service.WriterBusy:
        logger.info("a rebuild or sync is already running")


@periodic("search.sync.periodic", minute="*")
def periodic_sync() -> None:
    """Apply anything left in the outbox (a job lost with a crashed queue) and heal a missing index."""
    try:
        service.sync_index()
    except service.WriterBusy:
        pass


@periodic("search.date_change", minute="0", hour="17")
def date_change_job() -> None:
    """When the day changes in Vietnam (17:00 UTC), re-index the records whose access depends on the date
    (seasonal labels, consents with an end date), so search follows the seasons from the first minute.
    The periodic outbox sync applies them within the minute."""
    from archive.core.extensions import db

    ids = set(db.session.scalars(select(CulturalLabel.record_id).where(CulturalLabel.kind == "seasonal")))
    ids.update(
        db.session.scalars(select(ConsentRecord.record_id).where(ConsentRecord.valid_until.is_not(None)))
    )
    if not ids:
        return
    now = utcnow()
    db.session.execute(
        insert(SearchOutbox.__table__), [{"record_id": rid, "queued_at": now} for rid in sorted(ids)]
    )
    db.session.commit()
    logger.info("date changed in Vietnam: %d records re-queued for their seasonal access", len(ids))
    enqueue("search.sync")
