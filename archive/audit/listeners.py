"""Every insert, update and delete of the audited models becomes an audit event, written in the same
transaction as the change (on the flush's own connection), so no change is committed unlogged.

Mapper events note which objects the unit of work wrote; the session's ``after_flush`` turns the notes
into events, while the attribute history still holds the values before the flush. Deleted objects are
read in ``before_flush``, while their rows still exist. Every audited column keeps its old value when it
is set (active history), so an update is logged with its "before" even on an expired object.

Only the ORM's unit of work is seen. Bulk statements (``session.execute(insert(Place), rows)``,
``update(MediaFile)...``) bypass it: the vocabulary loader and the media jobs use them for reference data
and processing state. Not audited at all: the audit table itself, the search outbox, job bookkeeping and
rebuildable derivatives.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import ColumnProperty, Session, object_session

from archive.accounts.models import User
from archive.audit import current_actor, event_row
from archive.audit.models import AuditEvent
from archive.communities.models import Community, CommunityMembership, ConsentRecord, CulturalLabel
from archive.media.models import MediaCaption, MediaFile
from archive.records.models import (
    DocumentedDate,
    FestivalTiming,
    HeritageRecord,
    RecordAgent,
    RecordText,
    Rights,
)
from archive.vocab.models import Agent, Collection, EthnicGroup, Place, PlaceSuccession, Subject
from archive.workflow.models import WorkflowEvent

#: Columns whose values never enter the log (password and token hashes, secrets): only that they changed.
SECRET_COLUMN = re.compile(r"password|token|secret|_hash$|^hash$")
REDACTED = "***"
REDACTED_CHANGE = "***changed***"

_NOTES = "audit_notes"
_DELETED = "audit_deleted_values"


@dataclass(frozen=True)
class Audited:
    """How one model is logged."""

    #: A short label of the object for the summary, from its column values.
    label: Callable[[dict], str]
    #: Columns left out: bookkeeping that changes with every write (timestamps, version counters, job
    #: leases and processing state).
    ignore: frozenset[str] = frozenset()
    #: Many-to-many relationships logged as lists of keys, and the attribute giving each item's key.
    collections: dict[str, str] = field(default_factory=dict)


def _of_record(values: dict) -> str:
    return f"record #{values.get('record_id')}"


AUDITED: dict[type, Audited] = {
    HeritageRecord: Audited(
        label=lambda v: f"{v.get('public_id')} ({v.get('slug')})",
        ignore=frozenset({"updated_at", "version_id"}),
        collections={"ethnic_groups": "slug", "subjects": "key", "places": "code", "collections": "slug"},
    ),
    RecordText: Audited(label=lambda v: f"{_of_record(v)} · {v.get('field')} [{v.get('lang')}]"),
    RecordAgent: Audited(label=lambda v: f"{_of_record(v)} · agent #{v.get('agent_id')} as {v.get('role')}"),
    FestivalTiming: Audited(label=lambda v: f"{_of_record(v)} · {v.get('calendar')} timing"),
    DocumentedDate: Audited(label=lambda v: f"{_of_record(v)} · {v.get('kind')} {v.get('start')}"),
    Rights: Audited(label=lambda v: f"{_of_record(v)} · {v.get('uri')}"),
    MediaFile: Audited(
        label=lambda v: f"{v.get('public_id')} ({v.get('original_filename')}) · {_of_record(v)}",
        ignore=frozenset(
            {
                "state",
                "state_reason",
                "state_detail",
                "attempts",
                "claimed_by",
                "lease_until",
                "processed_at",
                "demuxer",
            }
        ),
    ),
    MediaCaption: Audited(label=lambda v: f"media #{v.get('media_id')} · {v.get('kind')} [{v.get('lang')}]"),
    User: Audited(label=lambda v: f"{v.get('email')} ({v.get('role')})"),
    EthnicGroup: Audited(label=lambda v: str(v.get("slug")), collections={"provinces": "code"}),
    Place: Audited(label=lambda v: f"{v.get('code')} {v.get('full_name')}"),
    PlaceSuccession: Audited(label=lambda v: f"place #{v.get('old_id')} → place #{v.get('new_id')}"),
    Subject: Audited(label=lambda v: str(v.get("key"))),
    Agent: Audited(label=lambda v: f"{v.get('slug')} ({v.get('kind')})"),
    Collection: Audited(label=lambda v: str(v.get("slug"))),
    Community: Audited(label=lambda v: str(v.get("slug"))),
    CommunityMembership: Audited(
        label=lambda v: f"user #{v.get('user_id')} in community #{v.get('community_id')}"
    ),
    ConsentRecord: Audited(label=lambda v: f"{_of_record(v)} · consent by {v.get('given_by')}"),
    CulturalLabel: Audited(label=lambda v: f"{_of_record(v)} · label {v.get('kind')}"),
    WorkflowEvent: Audited(
        label=lambda v: f"{_of_record(v)} · {v.get('from_status')} → {v.get('to_status')}"
    ),
}


def _columns(model: type) -> list[str]:
    """Names of the audited column attributes of a model."""
    options = AUDITED[model]
    return [
        prop.key
        for prop in inspect(model).iterate_properties
        if isinstance(prop, ColumnProperty) and prop.key not in options.ignore
    ]


def _is_secret(name: str) -> bool:
    return bool(SECRET_COLUMN.search(name))


def _shown(name: str, value: Any) -> Any:
    return REDACTED if _is_secret(name) and value is not None else value


def _object_id(obj: Any) -> str:
    identity = inspect(obj).identity or inspect(obj.__class__).primary_key_from_instance(obj)
    return ":".join(str(part) for part in identity)


def _item_key(item: Any, attribute: str) -> Any:
    value = getattr(item, attribute, None)
    return value if value is not None else f"#{_object_id(item)}"


def _collection(obj: Any, name: str, attribute: str) -> list:
    return [_item_key(item, attribute) for item in getattr(obj, name)]


def _values(obj: Any, *, load: bool) -> dict:
    """Every audited column (and collection) of *obj*; without *load*, only what is already loaded."""
    model = type(obj)
    state = inspect(obj)
    out: dict[str, Any] = {}
    for name in _columns(model):
        if load:
            out[name] = _shown(name, getattr(obj, name))
        elif name in state.dict:
            out[name] = _shown(name, state.dict[name])
    for name, attribute in AUDITED[model].collections.items():
        if load or name in state.dict:
            out[name] = _collection(obj, name, attribute)
    return out


def _history_value(values: tuple) -> Any:
    return values[0] if values else None


def _changes(obj: Any) -> tuple[dict, dict]:
    """(before, after) of the audited columns and collections that this flush changes."""
    model = type(obj)
    state = inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name in _columns(model):
        history = state.attrs[name].history
        if not history.added and not history.deleted:
            continue
        old, new = _history_value(history.deleted), _history_value(history.added)
        if old == new:
            continue
        if _is_secret(name):
            old, new = (REDACTED if old is not None else None), REDACTED_CHANGE
        before[name], after[name] = old, new
    for name, attribute in AUDITED[model].collections.items():
        history = state.attrs[name].history
        if not history.added and not history.deleted:
            continue
        unchanged = [_item_key(i, attribute) for i in history.unchanged]
        old = unchanged + [_item_key(i, attribute) for i in history.deleted]
        new = unchanged + [_item_key(i, attribute) for i in history.added]
        if sorted(map(str, old)) != sorted(map(str, new)):
            before[name], after[name] = old, new
    return before, after


def _keep_old_value(target, value, oldvalue, initiator) -> None:
    """Nothing to do: listening with active_history is what makes the old value load."""


def _note(kind: str):
    def listener(_mapper, _connection, target) -> None:
        session = object_session(target)
        if session is not None:
            session.info.setdefault(_NOTES, []).append((kind, target))

    return listener


for _model in AUDITED:
    for _kind in ("insert", "update", "delete"):
        event.listen(_model, f"after_{_kind}", _note(_kind))
    # Keep the old value of every audited column when it is set, even on an expired object (a replaced
    # collection always loads its old items).
    for _name in _columns(_model):
        event.listen(getattr(_model, _name), "set", _keep_old_value, active_history=True)


@event.listens_for(Session, "before_flush")
def _read_deleted(session: Session, _flush_context, _instances) -> None:
    """Read the last values of the objects about to be deleted, while their rows still exist."""
    # A new flush starts: whatever a failed one left behind is stale.
    session.info[_NOTES] = []
    snapshots = session.info[_DELETED] = {}
    for obj in session.deleted:
        if type(obj) in AUDITED and id(obj) not in snapshots:
            snapshots[id(obj)] = _values(obj, load=True)


@event.listens_for(Session, "after_flush")
def _write_events(session: Session, _flush_context) -> None:
    """Turn this flush's notes into audit events, on the flush's connection."""
    notes = session.info.pop(_NOTES, [])
    snapshots = session.info.pop(_DELETED, {})
    if not notes:
        return
    actor = current_actor()
    rows = []
    seen: set[tuple[str, int]] = set()
    for kind, obj in notes:
        if (kind, id(obj)) in seen:
            continue
        seen.add((kind, id(obj)))
        model = type(obj)
        options = AUDITED[model]
        table = model.__table__.name
        if kind == "insert":
            after = _values(obj, load=True)
            rows.append(event_row("create", table, _object_id(obj), options.label(after), None, after, actor))
        elif kind == "update":
            before, after = _changes(obj)
            if before or after:
                label = options.label(_values(obj, load=False))
                rows.append(event_row("update", table, _object_id(obj), label, before, after, actor))
        else:
            before = snapshots.get(id(obj)) or _values(obj, load=False)
            rows.append(
                event_row("delete", table, _object_id(obj), options.label(before), before, None, actor)
            )
    if rows:
        session.connection().execute(insert(AuditEvent.__table__), rows)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_NOTES, None)
    session.info.pop(_DELETED, None)
