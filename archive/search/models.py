"""The search outbox: record ids whose index entry must be refreshed, written in the same transaction
as the change itself, so that no publish, edit, withdrawal or deletion is ever missed by the index."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from archive.core.extensions import db
from archive.core.types import UTCDateTime, utcnow


class SearchOutbox(db.Model):
    """One pending index refresh of a record (deleted once the single index writer has applied it)."""

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Not a foreign key: the record may be gone (a deletion is itself something to index).
    record_id: Mapped[int] = mapped_column(Integer, index=True)
    queued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
