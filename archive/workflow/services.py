"""The review workflow: transitions (each logged with its comment and notified), revisions and restore.

Draft → submitted (in review) → published; a curator may instead return a record with comments (its
contributor edits and submits it again) or withdraw it. Only curators publish, return and withdraw.
Every save of a record makes a revision; curators compare revisions and restore one.
Services flush but never commit.
"""

from __future__ import annotations

import csv
import difflib
import html
import io
import logging
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import func, select

from archive.accounts.models import User
from archive.core.extensions import db
from archive.core.mail import MailNotSent, send_mail
from archive.core.types import utcnow
from archive.records import services as records
from archive.records.models import HeritageRecord
from archive.workflow.models import Notification, RecordRevision, WorkflowEvent
from metadata.csv_records import header_for, parse_csv, record_row
from metadata.languages import pick_value

logger = logging.getLogger(__name__)


class WorkflowError(Exception):
    """A transition that is not allowed: carries a message code for translation and an HTTP status."""

    def __init__(self, code: str, status: int = 409):
        super().__init__(code)
        self.code = code
        self.status = status


MESSAGES = {
    "not_allowed": _l("You may not do this to this record."),
    "wrong_state": _l("This record is not in a state that allows this."),
    "comment_required": _l("Say why in a comment: its contributor will read it."),
    "comment_too_long": _l("The comment is too long (at most 5,000 characters)."),
    "no_title": _l("A record needs a title before it can be submitted."),
    "unknown_revision": _l("There is no such revision."),
    "restore_failed": _l("This revision cannot be restored: its vocabulary terms no longer exist."),
}

STATUS_LABELS = {
    "draft": _l("Draft"),
    "in_review": _l("Submitted for review"),
    "returned": _l("Returned with comments"),
    "published": _l("Published"),
    "withdrawn": _l("Withdrawn"),
}


@dataclass(frozen=True)
class Transition:
    """One workflow action: from which states, to which, who may do it, whether a comment is required."""

    name: str
    sources: frozenset[str]
    target: str
    curators_only: bool
    needs_comment: bool


TRANSITIONS = {
    "submit": Transition("submit", frozenset({"draft", "returned"}), "in_review", False, False),
    "publish": Transition("publish", frozenset({"in_review", "draft", "returned"}), "published", True, False),
    "return": Transition("return", frozenset({"in_review", "published"}), "returned", True, True),
    "withdraw": Transition(
        "withdraw", frozenset({"draft", "in_review", "returned", "published"}), "withdrawn", True, True
    ),
}

ACTION_LABELS = {
    "submit": _l("Submit for review"),
    "publish": _l("Publish"),
    "return": _l("Return with comments"),
    "withdraw": _l("Withdraw"),
}


def allowed_actions(record: HeritageRecord, user: User | None) -> list[str]:
    """The transitions *user* may apply to *record* now."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    out = []
    for name, t in TRANSITIONS.items():
        if record.status not in t.sources:
            continue
        if t.curators_only and not user.is_curator:
            continue
        if not t.curators_only and not (user.is_curator or record.created_by_id == user.id):
            continue
        out.append(name)
    return out


def transition(record: HeritageRecord, action: str, actor: User, comment: str | None = None) -> WorkflowEvent:
    """Apply a workflow action; raises WorkflowError (nothing changed) when it is not allowed."""
    t = TRANSITIONS.get(action)
    if t is None:
        raise WorkflowError("not_allowed", 400)
    if record.status not in t.sources:
        raise WorkflowError("wrong_state", 409)
    if action not in allowed_actions(record, actor):
        raise WorkflowError("not_allowed", 403)
    comment = (comment or "").strip() or None
    if t.needs_comment and not comment:
        raise WorkflowError("comment_required", 400)
    if comment and len(comment) > 5000:
        raise WorkflowError("comment_too_long", 400)
    if action in ("submit", "publish") and not record.values("title"):
        raise WorkflowError("no_title", 400)
    event = WorkflowEvent(record_id=record.id, from_status=record.status, to_status=t.target,
                          comment=comment, actor=actor, at=utcnow())  # fmt: skip
    record.status = t.target
    if t.target == "published" and record.published_at is None:
        record.published_at = utcnow()
    record.updated_by = actor
    db.session.add(event)
    db.session.flush()
    capture_revision(record, actor, action)
    _notify_transition(record, event, actor)
    logger.info(
        "record %s: %s -> %s by %s", record.public_id, event.from_status, event.to_status, actor.email
    )
    return event


# --- notifications --------------------------------------------------------------------------------

NOTICE_TEXTS = {
    "submitted": _l("“%(title)s” was submitted for review by %(actor)s."),
    "published": _l("“%(title)s” was published by %(actor)s."),
    "returned": _l("“%(title)s” was returned to you with comments by %(actor)s."),
    "withdrawn": _l("“%(title)s” was withdrawn by %(actor)s."),
    "consent_withdrawn": _l("Consent for “%(title)s” was withdrawn; it is no longer shown to the public."),
}


def notice_text(notification: Notification) -> str:
    """A notification's sentence in the reader's language."""
    template = NOTICE_TEXTS.get(notification.kind)
    return str(template) % notification.params if template is not None else notification.kind


def notify(users: list[User], record: HeritageRecord, kind: str, **params) -> None:
    """Tell *users* something about *record*: a notification in the archive and an e-mail."""
    title = pick_value(record.values("title"), "vi", record.slug)
    params = {"title": title, **params}
    base = current_app.config["BASE_URL"]
    for user in {u.id: u for u in users if u is not None and u.is_active}.values():
        db.session.add(Notification(user_id=user.id, record_id=record.id, kind=kind, params=params))
        with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "vi")):
            subject = str(NOTICE_TEXTS[kind]) % params
            body = subject + "\n\n" + f"{base}/records/{record.public_id}\n"
            if params.get("comment"):
                body += "\n" + _("Comment:") + "\n" + params["comment"] + "\n"
        try:
            send_mail(user.email, subject, body)
        except MailNotSent:
            logger.warning("notification mail to %s not sent (%s)", user.email, kind)


def curators() -> list[User]:
    """Every active curator and administrator."""
    stmt = select(User).where(User.role.in_(("curator", "administrator")), User.is_active.is_(True))
    return list(db.session.scalars(stmt))


def _notify_transition(record: HeritageRecord, event: WorkflowEvent, actor: User) -> None:
    params = {"actor": actor.display_name, "comment": event.comment or ""}
    owner = record.created_by
    if event.to_status == "in_review":
        notify([u for u in curators() if u.id != actor.id], record, "submitted", **params)
    elif (
        event.to_status in ("published", "returned", "withdrawn")
        and owner is not None
        and owner.id != actor.id
    ):
        notify([owner], record, event.to_status, **params)


def unread_count(user: User) -> int:
    """How many notifications *user* has not read."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


# --- revisions ------------------------------------------------------------------------------------


def snapshot(record: HeritageRecord) -> dict[str, str]:
    """Every field of the record as the CSV columns name them (empty columns left out), plus its access
    settings and labels."""
    description = records.describe(record)
    header = header_for([description])
    row = record_row(description, header)
    out = {col: value for col, value in zip(header, row, strict=True) if value}
    if record.community_id is not None:
        out["community"] = record.community.slug if record.community else str(record.community_id)
    labels = sorted(label.kind for label in record.labels)
    if labels:
        out["labels"] = " | ".join(labels)
    return out


def capture_revision(record: HeritageRecord, actor: User | None, reason: str) -> RecordRevision:
    """Store a revision of the record as it is now (call after every save)."""
    db.session.flush()
    db.session.expire(record, ["texts", "agents", "timings", "dates", "rights", "labels"])
    last = db.session.scalar(
        select(func.max(RecordRevision.number)).where(RecordRevision.record_id == record.id)
    )
    revision = RecordRevision(record_id=record.id, number=(last or 0) + 1, snapshot=snapshot(record),
                              reason=reason[:100], actor=actor, at=utcnow())  # fmt: skip
    db.session.add(revision)
    db.session.flush()
    return revision


def revisions(record: HeritageRecord) -> list[RecordRevision]:
    """The record's revisions, newest first."""
    stmt = select(RecordRevision).where(RecordRevision.record_id == record.id)
    return list(db.session.scalars(stmt.order_by(RecordRevision.number.desc())))


def get_revision(record: HeritageRecord, number: int) -> RecordRevision:
    """One revision of the record; raises WorkflowError (404) when there is none."""
    revision = db.session.scalar(
        select(RecordRevision).where(RecordRevision.record_id == record.id, RecordRevision.number == number)
    )
    if revision is None:
        raise WorkflowError("unknown_revision", 404)
    return revision


@dataclass(frozen=True)
class FieldChange:
    """One field that differs between two revisions, with a word-level marked-up rendering of each side."""

    field: str
    before: str
    after: str
    before_html: Markup
    after_html: Markup


def _marked(a: str, b: str) -> tuple[Markup, Markup]:
    """Word-level diff of two values: removed words in <del>, added words in <ins> (escaped)."""
    wa, wb = a.split(" "), b.split(" ")
    left, right = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=wa, b=wb, autojunk=False).get_opcodes():
        old, new = html.escape(" ".join(wa[i1:i2])), html.escape(" ".join(wb[j1:j2]))
        if op == "equal":
            left.append(old)
            right.append(new)
            continue
        if old:
            left.append(f"<del>{old}</del>")
        if new:
            right.append(f"<ins>{new}</ins>")
    return Markup(" ".join(left)), Markup(" ".join(right))


def diff(older: RecordRevision, newer: RecordRevision) -> list[FieldChange]:
    """The fields that differ between two revisions, in the CSV's column order."""
    a, b = older.snapshot, newer.snapshot
    fields = list(dict.fromkeys([*a.keys(), *b.keys()]))
    out = []
    for name in fields:
        before, after = a.get(name, ""), b.get(name, "")
        if before != after:
            out.append(FieldChange(name, before, after, *_marked(before, after)))
    return out


def diff_from_nothing(revision: RecordRevision) -> list[FieldChange]:
    """Every field of the first revision, as added."""
    return [
        FieldChange(k, "", v, Markup(""), Markup(f"<ins>{html.escape(v)}</ins>"))
        for k, v in revision.snapshot.items()
    ]


def restore(record: HeritageRecord, revision: RecordRevision, actor: User) -> RecordRevision:
    """Make the record's description what it was at *revision* (a curator's action); a new revision
    records the restore. Status and access settings are not changed by a restore."""
    if not actor.is_curator:
        raise WorkflowError("not_allowed", 403)
    columns = {k: v for k, v in revision.snapshot.items() if k not in ("community", "labels")}
    columns["identifier"] = ""
    columns["slug"] = ""
    columns["status"] = record.status
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(list(columns))
    writer.writerow(list(columns.values()))
    parsed, errors = parse_csv(buffer.getvalue())
    if errors or not parsed:
        logger.warning("revision %s of %s cannot be parsed: %s", revision.number, record.public_id, errors)
        raise WorkflowError("restore_failed", 409)
    data = parsed[0]
    data.access_level = record.access_level
    try:
        with db.session.begin_nested():
            records.update_record(record, data, actor)
    except Exception as exc:  # noqa: BLE001 - vocabulary lookups and constraint failures alike
        logger.warning("restore of revision %s of %s failed: %s", revision.number, record.public_id, exc)
        raise WorkflowError("restore_failed", 409) from exc
    return capture_revision(record, actor, f"restored from {revision.number}")
