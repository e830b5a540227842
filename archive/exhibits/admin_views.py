"""The curators' exhibit admin: the list, the exhibit form, and adding, editing, moving and deleting
sections. Every form is a plain POST (works without JavaScript); errors answer 400 with what was typed
kept, a stale form 409."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError

from archive.core.extensions import db
from archive.core.i18n import localized_text
from archive.exhibits import forms, services
from archive.exhibits.models import SECTION_KINDS, Exhibit, ExhibitSection

logger = logging.getLogger(__name__)

admin_bp = Blueprint("exhibit_admin", __name__)


def _curator() -> None:
    if not services.is_curator(current_user):
        abort(403)


def _load(exhibit_id: int) -> Exhibit:
    exhibit = services.get_by_id(exhibit_id)
    if exhibit is None:
        abort(404)
    return exhibit


def _load_section(exhibit: Exhibit, section_id: int) -> ExhibitSection:
    section = next((s for s in exhibit.sections if s.id == section_id), None)
    if section is None:
        abort(404)
    return section


def _page(template: str, status: int = 200, **context) -> Response:
    body = render_template(
        template,
        status_labels=forms.STATUS_LABELS,
        kind_labels=forms.KIND_LABELS,
        language_labels=forms.LANGUAGE_LABELS,
        languages=forms.LANGUAGES,
        **context,
    )
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _title(exhibit: Exhibit) -> str:
    return localized_text(exhibit.title_values) or exhibit.slug


@admin_bp.get("/admin/exhibits")
@login_required
def index():
    """Every exhibit with its status, for curators."""
    _curator()
    return _page("exhibits/admin_list.html", exhibits=services.all_exhibits(current_user))


def _edit_page(
    exhibit: Exhibit | None, state: forms.FormState, status: int = 200, problem: str | None = None
):
    return _page(
        "exhibits/admin_edit.html",
        status,
        exhibit=exhibit,
        form=state,
        problem=problem,
        statuses=forms.EXHIBIT_STATUSES,
        kinds=SECTION_KINDS,
        covers=services.media_choices(("image",)),
    )


@admin_bp.route("/admin/exhibits/new", methods=["GET", "POST"])
@login_required
def new():
    """The form for a new exhibit (saved as a draft unless published is chosen)."""
    _curator()
    if request.method == "GET":
        return _edit_page(None, forms.exhibit_state(None))
    state, data = forms.parse_exhibit(request.form)
    if data is None:
        db.session.rollback()
        return _edit_page(None, state, 400)
    try:
        exhibit = services.create_exhibit(current_user, data)
        db.session.commit()
    except services.ExhibitError as exc:
        db.session.rollback()
        state.error("slug" if exc.code == "slug_taken" else "form", exc.code)
        return _edit_page(None, state, exc.status)
    flash(_("Exhibit “%(title)s” created. Now add its sections.", title=_title(exhibit)))
    return redirect(url_for("exhibit_admin.edit", exhibit_id=exhibit.id), 303)


@admin_bp.route("/admin/exhibits/<int:exhibit_id>/edit", methods=["GET", "POST"])
@login_required
def edit(exhibit_id: int):
    """The exhibit's fields and its sections (each with edit, move and delete buttons)."""
    _curator()
    exhibit = _load(exhibit_id)
    if request.method == "GET":
        return _edit_page(exhibit, forms.exhibit_state(exhibit))
    state, data = forms.parse_exhibit(request.form)
    if data is None:
        db.session.rollback()
        return _edit_page(exhibit, state, 400)
    try:
        services.update_exhibit(current_user, exhibit, data, state.version)
        db.session.commit()
    except (services.StaleExhibit, StaleDataError):
        return _stale_exhibit(exhibit_id, state)
    except services.ExhibitError as exc:
        db.session.rollback()
        state.error("slug" if exc.code == "slug_taken" else "form", exc.code)
        return _edit_page(_load(exhibit_id), state, exc.status)
    flash(_("Your changes to “%(title)s” were saved.", title=_title(exhibit)))
    return redirect(url_for("exhibit_admin.edit", exhibit_id=exhibit.id), 303)


def _stale_exhibit(exhibit_id: int, state: forms.FormState):
    db.session.rollback()
    exhibit = _load(exhibit_id)
    state.values["version_id"] = str(exhibit.version_id)
    return _edit_page(exhibit, state, 409, problem=forms.message("stale"))


@admin_bp.post("/admin/exhibits/<int:exhibit_id>/delete")
@login_required
def delete(exhibit_id: int):
    """Delete an exhibit (its records and media stay)."""
    _curator()
    exhibit = _load(exhibit_id)
    title = _title(exhibit)
    try:
        services.delete_exhibit(current_user, exhibit, forms.FormState(request.form.to_dict()).version)
        db.session.commit()
    except (services.StaleExhibit, StaleDataError):
        return _stale_exhibit(exhibit_id, forms.exhibit_state(_reloaded(exhibit_id)))
    flash(_("Exhibit “%(title)s” deleted.", title=title))
    return redirect(url_for("exhibit_admin.index"), 303)


def _reloaded(exhibit_id: int) -> Exhibit:
    db.session.rollback()
    return _load(exhibit_id)


# --- sections ----------------------------------------------------------------------------------------


def _section_page(exhibit: Exhibit, section: ExhibitSection | None, kind: str, state: forms.FormState,
                  status: int = 200, problem: str | None = None):  # fmt: skip
    return _page(
        "exhibits/admin_section.html",
        status,
        exhibit=exhibit,
        section=section,
        kind=kind,
        form=state,
        problem=problem,
        rows=forms.item_rows(state),
        records=services.record_choices() if kind == "records" else [],
        media_options=services.media_choices(("image",) if kind == "image" else ("audio", "video"))
        if kind in ("image", "excerpt")
        else [],
    )


@admin_bp.route("/admin/exhibits/<int:exhibit_id>/sections/new", methods=["GET", "POST"])
@login_required
def new_section(exhibit_id: int):
    """The form for a new section of the kind chosen (``?kind=`` or the form's ``kind``)."""
    _curator()
    exhibit = _load(exhibit_id)
    kind = request.values.get("kind") or ""
    if kind not in SECTION_KINDS:
        abort(400)
    if request.method == "GET":
        return _section_page(exhibit, None, kind, forms.section_state(None, kind, exhibit.version_id))
    state, data = forms.parse_section(request.form, kind)
    if data is None:
        db.session.rollback()
        return _section_page(exhibit, None, kind, state, 400)
    try:
        services.add_section(current_user, exhibit, data, state.version)
        db.session.commit()
    except (services.StaleExhibit, StaleDataError):
        exhibit = _reloaded(exhibit_id)
        state.values["version_id"] = str(exhibit.version_id)
        return _section_page(exhibit, None, kind, state, 409, forms.message("stale"))
    flash(_("Section added."))
    return redirect(url_for("exhibit_admin.edit", exhibit_id=exhibit_id, _anchor="sections"), 303)


@admin_bp.route("/admin/exhibits/<int:exhibit_id>/sections/<int:section_id>/edit", methods=["GET", "POST"])
@login_required
def edit_section(exhibit_id: int, section_id: int):
    """The form of one section."""
    _curator()
    exhibit = _load(exhibit_id)
    section = _load_section(exhibit, section_id)
    if request.method == "GET":
        return _section_page(exhibit, section, section.kind,
                             forms.section_state(section, section.kind, exhibit.version_id))  # fmt: skip
    state, data = forms.parse_section(request.form, section.kind)
    if data is None:
        db.session.rollback()
        return _section_page(exhibit, section, section.kind, state, 400)
    try:
        services.update_section(current_user, exhibit, section, data, state.version)
        db.session.commit()
    except (services.StaleExhibit, StaleDataError):
        exhibit = _reloaded(exhibit_id)
        section = _load_section(exhibit, section_id)
        state.values["version_id"] = str(exhibit.version_id)
        return _section_page(exhibit, section, section.kind, state, 409, forms.message("stale"))
    flash(_("Section saved."))
    return redirect(
        url_for("exhibit_admin.edit", exhibit_id=exhibit_id, _anchor=f"section-{section_id}"), 303
    )


@admin_bp.post("/admin/exhibits/<int:exhibit_id>/sections/<int:section_id>/move")
@login_required
def move_section(exhibit_id: int, section_id: int):
    """Move a section one place up or down."""
    _curator()
    exhibit = _load(exhibit_id)
    section = _load_section(exhibit, section_id)
    direction = request.form.get("direction") or ""
    if direction not in ("up", "down"):
        abort(400)
    try:
        services.move_section(current_user, exhibit, section, direction,
                              forms.FormState(request.form.to_dict()).version)  # fmt: skip
        db.session.commit()
    except (services.StaleExhibit, StaleDataError):
        return _stale_exhibit(exhibit_id, forms.exhibit_state(_reloaded(exhibit_id)))
    flash(_("Section moved up.") if direction == "up" else _("Section moved down."))
    return redirect(
        url_for("exhibit_admin.edit", exhibit_id=exhibit_id, _anchor=f"section-{section_id}"), 303
    )


@admin_bp.post("/admin/exhibits/<int:exhibit_id>/sections/<int:section_id>/delete")
@login_required
def delete_section(exhibit_id: int, section_id: int):
    """Remove a section."""
    _curator()
    exhibit = _load(exhibit_id)
    section = _load_section(exhibit, section_id)
    try:
        services.delete_section(
            current_user, exhibit, section, forms.FormState(request.form.to_dict()).version
        )
        db.session.commit()
    except (services.StaleExhibit, StaleDataError):
        return _stale_exhibit(exhibit_id, forms.exhibit_state(_reloaded(exhibit_id)))
    flash(_("Section deleted."))
    return redirect(url_for("exhibit_admin.edit", exhibit_id=exhibit_id, _anchor="sections"), 303)
