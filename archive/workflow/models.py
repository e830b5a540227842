"""Workflow events (every transition, with its comment), record revisions and notifications."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.accounts.models import User
from archive.core.extensions import db
from archive.core.types import JSONType, UTCDateTime, utcnow


class WorkflowEvent(db.Model):
    """One transition of a record (draft → in_review → published, returned, withdrawn), with its comment."""

    __tablename__ = "workflow_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("heritage_record.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[User | None] = relationship()


class RecordRevision(db.Model):
    """A snapshot of a record after one save: every field, as the CSV/JSON description has it."""

    __tablename__ = "record_revision"
    __table_args__ = (UniqueConstraint("record_id", "number", name="uq_record_revision_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("heritage_record.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    #: Field name -> value(s); see archive.workflow.revisions.snapshot.
    snapshot: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: Why it was saved: "created", "edited", "imported", "restored from 3", a transition...
    reason: Mapped[str] = mapped_column(String(100), default="edited")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[User | None] = relationship()


class Notification(db.Model):
    """A message to one user about a record (submitted for review, returned, published, consent...)."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("heritage_record.id", ondelete="CASCADE"))
    #: Message kind; the text is composed in the reader's language when shown.
    kind: Mapped[str] = mapped_column(String(30))
    params: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
