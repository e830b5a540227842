"""A record's history: its workflow events and revisions, a readable diff, and restoring a revision."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from archive.core.access import denial_status
from archive.core.extensions import db
from archive.records.models import HeritageRecord
from archive.workflow import services
from archive.workflow.models import WorkflowEvent

bp = Blueprint("workflow", __name__)


def _record_for_history(public_id: str) -> HeritageRecord:
    """Curators see every record's history; a contributor the history of the records they created."""
    record = db.session.scalar(select(HeritageRecord).where(HeritageRecord.public_id == public_id))
    if record is None:
        abort(404)
    if not (current_user.is_curator or record.created_by_id == current_user.id):
        abort(denial_status())
    return record


@bp.get("/records/<public_id>/history")
@login_required
def history(public_id: str):
    """Workflow events (with comments) and revisions of a record, newest first."""
    record = _record_for_history(public_id)
    events = db.session.scalars(
        select(WorkflowEvent).where(WorkflowEvent.record_id == record.id).order_by(WorkflowEvent.at.desc())
    ).all()
    return render_template(
        "workflow/history.html",
        record=record,
        events=events,
        revisions=services.revisions(record),
        status_labels=services.STATUS_LABELS,
    )


@bp.get("/records/<public_id>/history/<int:number>")
@login_required
def revision_diff(public_id: str, number: int):
    """What changed in one revision, against the one before it (or another, ?against=N)."""
    record = _record_for_history(public_id)
    try:
        newer = services.get_revision(record, number)
        against = request.args.get("against", str(number - 1))
        if not against.isdigit():
            abort(400)
        older = services.get_revision(record, int(against)) if int(against) >= 1 else None
    except services.WorkflowError:
        abort(404)
    changes = services.diff(older, newer) if older is not None else services.diff_from_nothing(newer)
    return render_template("workflow/diff.html", record=record, newer=newer, older=older, changes=changes)


@bp.post("/records/<public_id>/history/<int:number>/restore")
@login_required
def restore(public_id: str, number: int):
    """Restore a revision (curators): the record's description becomes what it was then."""
    record = _record_for_history(public_id)
    try:
        revision = services.get_revision(record, number)
        new = services.restore(record, revision, current_user)
        db.session.commit()
    except services.WorkflowError as exc:
        db.session.rollback()
        if exc.status == 404:
            abort(404)
        flash(str(services.MESSAGES[exc.code]), "error")
        return redirect(url_for("workflow.history", public_id=record.public_id), 303)
    flash(_("Revision %(old)s restored as revision %(new)s.", old=number, new=new.number), "success")
    return redirect(url_for("workflow.history", public_id=record.public_id), 303)
