"""Reading the audit log: administrators only, newest first, filtered by object, actor and action."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select

from archive.accounts.models import User
from archive.audit.models import AuditEvent
from archive.core.extensions import db


class NotAllowed(Exception):
    """The person may not read the audit log."""


def may_read_log(user: User | None) -> bool:
    """Only active administrators read the audit log."""
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.role == "administrator"
    )


@dataclass(frozen=True)
class AuditFilters:
    """What the administrator narrows the log to; empty strings mean "any"."""

    object_type: str = ""
    object_id: str = ""
    actor: str = ""
    action: str = ""

    def apply(self, stmt: Select) -> Select:
        """Add the filters to a statement over AuditEvent."""
        if self.object_type:
            stmt = stmt.where(AuditEvent.object_type == self.object_type)
        if self.object_id:
            stmt = stmt.where(AuditEvent.object_id == self.object_id)
        if self.action:
            stmt = stmt.where(AuditEvent.action == self.action)
        if self.actor:
            if self.actor.isdigit():
                stmt = stmt.where(AuditEvent.actor_id == int(self.actor))
            else:
                actor = func.lower(AuditEvent.actor_label)
                stmt = stmt.where(actor.contains(self.actor.lower(), autoescape=True))
        return stmt


def list_events(
    user: User | None, filters: AuditFilters, page: int, per_page: int
) -> tuple[list[AuditEvent], int]:
    """One page of events, newest first, and how many match; raises NotAllowed for non-administrators."""
    if not may_read_log(user):
        raise NotAllowed()
    total = db.session.scalar(filters.apply(select(func.count()).select_from(AuditEvent))) or 0
    stmt = filters.apply(select(AuditEvent)).order_by(AuditEvent.id.desc())
    events = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return list(events), total


def known_values(user: User | None) -> tuple[list[str], list[str]]:
    """The object types and actions present in the log, for the filter menus."""
    if not may_read_log(user):
        raise NotAllowed()
    types = db.session.scalars(select(AuditEvent.object_type).distinct().order_by(AuditEvent.object_type))
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action))
    return list(types), list(actions)
