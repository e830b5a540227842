"""Bulk import on the web: a CSV of records with a ZIP file or a folder of media, a dry-run report, and
an all-or-nothing confirmation."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from archive.core.extensions import db
from archive.media import services as media_services
from archive.media.models import MediaFile
from archive.records import bulk_import
from archive.records.csv_import import ImportReport, Problem, decode_upload, describe_error, message
from archive.records.models import HeritageRecord

logger = logging.getLogger(__name__)

bp = Blueprint("imports", __name__)
bp.record_once(lambda state: bulk_import.install_jobs(state.app))


def _contributor() -> None:
    if not current_user.can_contribute:
        abort(403)


def problem_lines(problems: list[Problem]) -> list[tuple[int, str, str]]:
    """(row, column or file, translated message) for each problem, for the report's tables."""
    return [(p.row, getattr(p, "file", None) or p.column, message(p)) for p in problems]


def _form(error: str | None = None, errors: list[str] | None = None, status: int = 200):
    return render_template("records/import_form.html", error=error, errors=errors or []), status


@bp.route("/import", methods=["GET", "POST"])
@login_required
def start():
    """The form (CSV file with a ZIP file or a folder); sending it stages the upload and runs the dry run."""
    _contributor()
    if request.method == "GET":
        return _form()
    upload = request.files.get("csv")
    if upload is None or not upload.filename:
        return _form(bulk_import.refusal_text(bulk_import.BundleRefused("no_csv")), status=400)
    limit = current_app.config["MAX_IMPORT_BYTES"]
    text, errors = decode_upload(upload.stream.read(limit + 1), limit)
    if text is None:
        status = 413 if errors[0].code == "too_large" else 400
        return _form(errors=[describe_error(e) for e in errors], status=status)
    archive = request.files.get("bundle")
    archive = archive if archive is not None and archive.filename else None
    folder = [(f.filename, f.stream) for f in request.files.getlist("folder") if f and f.filename]
    try:
        staged = bulk_import.stage(
            current_user, text, zip_stream=archive.stream if archive else None, folder=folder
        )
    except bulk_import.BundleRefused as exc:
        return _form(bulk_import.refusal_text(exc), status=exc.status)
    try:
        bulk_import.dry_run(staged, current_user)
    except BaseException:
        bulk_import.discard(staged)
        raise
    finally:
        db.session.rollback()  # the dry run wrote nothing; end its transaction
    return redirect(url_for("imports.report", token=staged.token), 303)


def _render_report(report: ImportReport, token: str | None, state: str, records=(), status: int = 200):
    return render_template(
        "records/import_report.html",
        report=report,
        token=token,
        state=state,
        errors=problem_lines(report.errors),
        warnings=problem_lines(report.warnings),
        records=records,
    ), status


@bp.get("/import/<token>")
@login_required
def report(token: str):
    """The dry-run report of a staged import, with a Confirm button when nothing is wrong."""
    _contributor()
    staged = bulk_import.load(token, current_user)
    found = bulk_import.read_report(staged) if staged is not None else None
    if found is None:
        abort(404)
    return _render_report(found, token, "checked")


@bp.post("/import/<token>/confirm")
@login_required
def confirm(token: str):
    """Import everything the report listed, or nothing: the staged upload is used up either way."""
    _contributor()
    outcome = bulk_import.confirm(token, current_user)
    if outcome is None:
        abort(404)
    if not outcome.ok:
        db.session.rollback()
        return _render_report(outcome, None, "refused", status=422)
    media_ids, stored, public_ids = list(outcome.media), list(outcome.stored), list(outcome.imported)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        media_services.discard_originals(stored)
        raise
    for media_id in media_ids:
        media = db.session.get(MediaFile, media_id)
        if media is not None:
            media_services.queue_derivatives(media)
    records = db.session.scalars(
        select(HeritageRecord).where(HeritageRecord.public_id.in_(public_ids)).order_by(HeritageRecord.id)
    ).all()
    logger.info("bulk import by %s: %d records, %d media", current_user.email, len(records), len(media_ids))
    return _render_report(outcome, None, "imported", records=records, status=201)
