"""What the OAI-PMH repository has exposed: one row per record ever shown to harvesters.

Records leave public view in ways that never touch the record row (a consent withdrawn, a season that
ends, an access level changed), so "deleted" cannot be computed from the records alone. The repository
keeps its own ledger instead: each request compares the records visitors may see now with the ledger,
and marks the ones that left as deleted (kept for ever: ``deletedRecord`` is ``persistent``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.core.extensions import db
from archive.core.types import UTCDateTime


class OaiItem(db.Model):
    """A record as harvesters know it: its datestamp, its sets, and whether it is now deleted."""

    __tablename__ = "oai_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The record's public identifier (the local part of the OAI identifier); never reused.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    #: The record's row id while it exists (no foreign key: the tombstone outlives the record).
    record_id: Mapped[int | None] = mapped_column(index=True)
    deleted: Mapped[bool] = mapped_column(default=False)
    #: When the item last changed for harvesters (UTC, whole seconds): edited, shown, hidden, moved.
    datestamp: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)

    set_rows: Mapped[list[OaiItemSet]] = relationship(
        cascade="all, delete-orphan", order_by="OaiItemSet.spec", lazy="selectin"
    )

    @property
    def set_specs(self) -> list[str]:
        """The specs of the sets the item is in (for a deleted item: those it was in when last shown)."""
        return [row.spec for row in self.set_rows]

    def __repr__(self) -> str:
        return f"<OaiItem {self.public_id}{' deleted' if self.deleted else ''}>"


class OaiItemSet(db.Model):
    """One set an item belongs to (the leaf spec, e.g. ``group:tay``)."""

    __tablename__ = "oai_item_set"

    item_id: Mapped[int] = mapped_column(ForeignKey("oai_item.id", ondelete="CASCADE"), primary_key=True)
    spec: Mapped[str] = mapped_column(String(160), primary_key=True, index=True)


class OaiSyncState(db.Model):
    """When the ledger was last compared with the visible records (a single row, id 1)."""

    __tablename__ = "oai_sync_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    synced_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
