"""The audit log: who changed what, when, with the values before and after; append-only.

Changes to the audited models are logged by archive.audit.listeners in the transaction that makes them.
Other code logs named events (sign-in, sign-out, failed sign-in, password change...) with :func:`record`.
The actor is the signed-in person of the current request, or whoever :func:`acting_as` names (CLI
commands, jobs), or "cli" inside any other command, else "system".
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from flask import has_request_context, request

from archive.audit.models import AuditEvent, AuditLogIsAppendOnly
from archive.core.types import utcnow

__all__ = ["AuditEvent", "AuditLogIsAppendOnly", "Actor", "acting_as", "current_actor", "record", "to_json"]


@dataclass(frozen=True)
class Actor:
    """Who acts: an account (id and email) or a label such as "cli" or "system"."""

    id: int | None
    label: str


SYSTEM = Actor(None, "system")
ANONYMOUS = Actor(None, "anonymous")
_ACTING_AS: ContextVar[Actor | None] = ContextVar("archive_audit_actor", default=None)


def _as_actor(who: Any) -> Actor:
    if isinstance(who, Actor):
        return who
    if isinstance(who, str):
        return Actor(None, who)
    return Actor(getattr(who, "id", None), getattr(who, "email", None) or str(who))


@contextmanager
def acting_as(who: Any) -> Iterator[Actor]:
    """Attribute the changes made inside the block to *who*: a User, an Actor or a label like "cli"."""
    actor = _as_actor(who)
    token = _ACTING_AS.set(actor)
    try:
        yield actor
    finally:
        _ACTING_AS.reset(token)


def current_actor() -> Actor:
    """Who is acting now (see the module's docstring for the order of the rules)."""
    explicit = _ACTING_AS.get()
    if explicit is not None:
        return explicit
    if has_request_context():
        from flask_login import current_user

        user = current_user._get_current_object() if current_user else None
        if user is not None and getattr(user, "is_authenticated", False):
            return Actor(user.id, user.email)
        return ANONYMOUS
    import click

    if click.get_current_context(silent=True) is not None:
        return Actor(None, "cli")
    return SYSTEM


def current_ip() -> str | None:
    """The client address of the current request, if any."""
    return request.remote_addr if has_request_context() else None


def to_json(value: Any) -> Any:
    """A JSON-safe form of a column value: dates as ISO 8601, enums by value, decimals and UUIDs as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, enum.Enum):
        return to_json(value.value)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(bytes(value))} bytes>"
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [to_json(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if hasattr(value, "to_dict"):
        return to_json(value.to_dict())
    return str(value)


def event_row(
    action: str,
    object_type: str,
    object_id: Any,
    summary: str = "",
    before: dict | None = None,
    after: dict | None = None,
    actor: Actor | None = None,
) -> dict:
    """The column values of one audit event (for a Core insert or an AuditEvent)."""
    actor = actor or current_actor()
    return {
        "at": utcnow(),
        "actor_id": actor.id,
        "actor_label": actor.label[:254],
        "action": action[:40],
        "object_type": object_type[:60],
        "object_id": None if object_id is None else str(object_id)[:64],
        "summary": (summary or "")[:500],
        "before": to_json(before) if before is not None else None,
        "after": to_json(after) if after is not None else None,
        "ip": current_ip(),
    }


def record(
    action: str,
    object_type: str,
    object_id: Any,
    summary: str = "",
    before: dict | None = None,
    after: dict | None = None,
    *,
    actor: Any = None,
) -> AuditEvent:
    """Log a named event ("login", "logout", "login_failed", "password_change"...) in the current session.

    It is written with the session's next flush and committed with the rest of the transaction; *actor*
    (a User, an Actor or a label) overrides the current actor, e.g. for the account that is signing in.
    Never pass secrets (passwords, tokens, hashes) in *before* or *after*.
    """
    from archive.core.extensions import db

    event = AuditEvent(
        **event_row(
            action, object_type, object_id, summary, before, after, _as_actor(actor) if actor else None
        )
    )
    db.session.add(event)
    return event
