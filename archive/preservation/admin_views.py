"""The preservation page for curators and administrators: /admin/preservation (fixity runs, failures,
re-check and repair). Plain POST forms, CSRF-protected; never cached."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select

from archive.core.extensions import db
from archive.preservation.models import FILE_KINDS, FixityRun, FixityState

bp = Blueprint("preservation", __name__, url_prefix="/admin/preservation")

KIND_LABELS = {
    "original": _l("Original"),
    "derivative": _l("Derivative"),
    "caption": _l("Captions track"),
    "dataset": _l("Dataset table"),
}
LOCATION_LABELS = {"primary": _l("Primary store"), "copy": _l("Second copy")}
OUTCOME_LABELS = {
    "ok": _l("Good"),
    "mismatch": _l("Content changed (checksum differs)"),
    "missing": _l("File missing"),
    "unreadable": _l("File unreadable"),
    "copied": _l("Copied to the second copy"),
    "repaired": _l("Repaired"),
    "repair_failed": _l("Repair failed"),
    "rebuild_queued": _l("Rebuild from the original queued"),
}
TRIGGER_LABELS = {"cli": _l("Command line"), "schedule": _l("Schedule"), "admin": _l("This page")}


def _curator() -> None:
    if not getattr(current_user, "is_curator", False):
        abort(403)


def _owner_link(kind: str, key: str) -> tuple[str, str] | None:
    """(label, URL) of the record or dataset a stored file belongs to, if it still exists."""
    from archive.datasets.models import DatasetTable, DatasetVersion
    from archive.media.models import MediaFile

    if kind == "dataset":
        row = db.session.execute(
            select(DatasetVersion.dataset_id)
            .join(DatasetTable, DatasetTable.version_id == DatasetVersion.id)
            .where((DatasetTable.storage_key == key) | (DatasetTable.source_storage_key == key))
            .limit(1)
        ).first()
        if row is None:
            return None
        return str(row[0]), url_for("dataset_admin.dataset", dataset_id=row[0])
    if kind == "original":
        media = db.session.scalar(select(MediaFile).where(MediaFile.storage_key == key).limit(1))
    else:
        media = db.session.scalar(select(MediaFile).where(MediaFile.public_id == key.split("/", 1)[0]))
    if media is None:
        return None
    record = media.record
    return record.public_id, url_for("records.detail", public_id=record.public_id)


def _page(status: int = 200) -> Response:
    from archive.preservation.replica import replica_root

    failures = db.session.scalars(
        select(FixityState)
        .where(FixityState.failing_since.is_not(None))
        .order_by(FixityState.failing_since.desc())
        .limit(500)
    ).all()
    counts = dict(
        db.session.execute(
            select(FixityState.last_outcome, func.count()).group_by(FixityState.last_outcome)
        ).all()
    )
    runs = db.session.scalars(select(FixityRun).order_by(FixityRun.started_at.desc()).limit(10)).all()
    body = render_template(
        "preservation/index.html",
        failures=[(state, _owner_link(state.file_kind, state.storage_key)) for state in failures],
        counts=counts,
        checked=sum(counts.values()),
        runs=runs,
        replica=replica_root(),
        cycle_days=format_decimal(current_app.config.get("FIXITY_CYCLE_DAYS", 30)),
        auto_repair=current_app.config.get("FIXITY_AUTO_REPAIR", False),
        kind_labels=KIND_LABELS,
        location_labels=LOCATION_LABELS,
        outcome_labels=OUTCOME_LABELS,
        trigger_labels=TRIGGER_LABELS,
    )
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("")
@login_required
def index():
    """Latest runs, counts by verdict, and the files currently failing."""
    _curator()
    return _page()


def _target() -> tuple[str, str]:
    kind, key = request.form.get("kind", ""), request.form.get("key", "")
    if kind not in FILE_KINDS or not key or len(key) > 200:
        abort(400)
    return kind, key


def _act(repair: bool):
    from archive.preservation.fixity import run_fixity

    _curator()
    kind, key = _target()
    summary = run_fixity(keys={(kind, key)}, repair=repair, trigger="admin")
    if summary.checked == 0 and summary.forgotten:
        flash(_("The archive no longer holds this file; it has been taken off the list."))
        return redirect(url_for("preservation.index"), code=303)
    if summary.checked == 0:
        abort(404)
    if summary.failures:
        flash(_("The file is still damaged: see the list below."))
    elif repair:
        flash(_("The file was checked and is good now."))
    else:
        flash(_("The file was checked and is good."))
    return redirect(url_for("preservation.index"), code=303)


@bp.post("/check")
@login_required
def check():
    """Check one file again now."""
    return _act(repair=False)


@bp.post("/repair")
@login_required
def repair():
    """Repair one file from its good copy (or rebuild a derivative from its original), then check it."""
    return _act(repair=True)
