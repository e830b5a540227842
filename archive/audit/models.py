"""AuditEvent: one change or named action, kept for good (the table refuses updates and deletes)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from archive.core.extensions import db
from archive.core.types import JSONType, UTCDateTime, utcnow


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when code tries to change or remove an audit event."""


class AuditEvent(db.Model):
    """Who did what to which object, when, from where, with the values before and after."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The acting account's id. Not a foreign key: the log outlives the accounts it names, and ON DELETE
    #: SET NULL would be an UPDATE, which the table refuses.
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: Who acted, as it read then: the account's email, or "cli", "system", "anonymous".
    actor_label: Mapped[str] = mapped_column(String(254), index=True)
    #: "create", "update", "delete", or a named action ("login", "password_change"...).
    action: Mapped[str] = mapped_column(String(40))
    #: Table name of the object ("heritage_record", "user_account"...).
    object_type: Mapped[str] = mapped_column(String(60))
    #: Primary key of the object as text ("12"; "3:7" for a composite key).
    object_id: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(String(500), default="")
    #: Changed fields only, for an update; every field for a creation (after) or deletion (before).
    before: Mapped[dict | None] = mapped_column(JSONType)
    after: Mapped[dict | None] = mapped_column(JSONType)
    ip: Mapped[str | None] = mapped_column(String(45))

    def changes(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for every field named in either side, in a stable order."""
        before, after = self.before or {}, self.after or {}
        names = list(before) + [name for name in after if name not in before]
        return [(name, before.get(name), after.get(name)) for name in names]

    def __repr__(self) -> str:
        return (
            f"<AuditEvent {self.id} {self.action} {self.object_type}:{self.object_id} by {self.actor_label}>"
        )


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(_mapper, _connection, target: AuditEvent) -> None:
    raise AuditLogIsAppendOnly("audit log is append-only")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(_mapper, _connection, target: AuditEvent) -> None:
    raise AuditLogIsAppendOnly("audit log is append-only")
