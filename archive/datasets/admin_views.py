"""The officers' dataset admin: describing datasets, uploading tables, confirming schemas, publishing.

Every form is a plain POST (works without JavaScript, CSRF-protected); errors answer 400 with what was
typed kept, a stale form 409, a refused upload 400 with the reason in the user's language and nothing
stored. Pages are never cached.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError

from archive.browse import services as browse
from archive.core.extensions import db
from archive.core.i18n import current_language, localized_text
from archive.datasets import forms, messages, services
from archive.datasets.models import Dataset, DatasetTable, DatasetVersion, PublishedVersionIsImmutable
from archive.media.services import MediaRejected, receive_stream
from metadata import dcat, tables

logger = logging.getLogger(__name__)

admin_bp = Blueprint("dataset_admin", __name__)


# --- load, check, render --------------------------------------------------------------------------------


def _officer() -> None:
    if not services.can_manage(current_user):
        abort(403)


def _load(dataset_id: int) -> Dataset:
    dataset = services.get_by_id(dataset_id)
    if dataset is None:
        abort(404)
    return dataset


def _viewable(dataset_id: int) -> Dataset:
    _officer()
    dataset = _load(dataset_id)
    if not services.can_view(dataset, current_user):
        abort(403)
    return dataset


def _editable(dataset_id: int) -> Dataset:
    dataset = _viewable(dataset_id)
    if not services.can_edit(dataset, current_user):
        abort(403)
    return dataset


def _version(dataset: Dataset, number: int) -> DatasetVersion:
    version = services.version_of(dataset, number)
    if version is None:
        abort(404)
    return version


def _table(version: DatasetVersion, table_id: int) -> DatasetTable:
    table = next((t for t in version.tables if t.id == table_id), None)
    if table is None:
        abort(404)
    return table


def _title(dataset: Dataset) -> str:
    return localized_text(dataset.title_values) or dataset.slug


def _page(template: str, status: int = 200, **context) -> Response:
    lang = current_language()
    index = 0 if lang.startswith("vi") else 1
    body = render_template(
        template,
        status_labels=forms.STATUS_LABELS,
        language_labels=forms.LANGUAGE_LABELS,
        languages=forms.LANGUAGES,
        type_labels=messages.FIELD_TYPE_LABELS,
        field_types=tables.FIELD_TYPES,
        theme_labels={code: labels[index] for code, labels in dcat.THEMES.items()},
        frequency_labels={code: labels[index] for code, labels in dcat.FREQUENCIES.items()},
        licence_labels={uri: f"{v[0]} — {v[1 + index]}" for uri, v in dcat.LICENCES.items()},
        schema_mode_labels=forms.SCHEMA_MODE_LABELS,
        error_message=messages.error_message,
        can_publish=services.can_publish(current_user),
        lang_code="vi" if index == 0 else "en",
        **context,
    )
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _choices() -> dict:
    lang = "vi" if current_language().startswith("vi") else "en"
    return {
        "provinces_new": browse.provinces("2025"),
        "provinces_old": browse.provinces("pre2025"),
        "groups": browse.ethnic_groups(lang),
        "lang": lang,
    }


def _codes() -> tuple[set[str], set[str]]:
    choices = _choices()
    places = {p.code for p in choices["provinces_new"]} | {p.code for p in choices["provinces_old"]}
    return places, {g.slug for g in choices["groups"]}


# --- the list and the description form -----------------------------------------------------------------


@admin_bp.get("/admin/datasets")
@login_required
def index():
    """The datasets an officer may work on (their own and the public ones; every one for curators)."""
    _officer()
    return _page("dataset_admin/list.html", datasets=services.datasets_for(current_user))


def _edit_page(
    dataset: Dataset | None, state: forms.FormState, status: int = 200, problem: str | None = None
):
    return _page(
        "dataset_admin/edit.html", status, dataset=dataset, form=state, problem=problem, **_choices()
    )


def _refused_into(state: forms.FormState, exc: services.DatasetError) -> str | None:
    name = forms.FIELD_OF_CODE.get(exc.code)
    if name:
        state.errors.setdefault(name, messages.refusal_message(exc))
        return None
    return messages.refusal_message(exc)


@admin_bp.route("/admin/datasets/new", methods=["GET", "POST"])
@login_required
def new():
    """The form describing a new dataset (a draft until a version is published)."""
    _officer()
    if request.method == "GET":
        return _edit_page(None, forms.dataset_state(None))
    state, data = forms.parse_dataset(request.form, *_codes())
    if data is None:
        db.session.rollback()
        return _edit_page(None, state, 400)
    try:
        dataset = services.create_dataset(current_user, data)
        db.session.commit()
    except services.DatasetError as exc:
        db.session.rollback()
        problem = _refused_into(state, exc)
        return _edit_page(None, state, exc.status, problem)
    flash(_("Dataset “%(title)s” created. Now upload its first table.", title=_title(dataset)))
    return redirect(url_for("dataset_admin.dataset", dataset_id=dataset.id), 303)


@admin_bp.route("/admin/datasets/<int:dataset_id>/edit", methods=["GET", "POST"])
@login_required
def edit(dataset_id: int):
    """The dataset's description; a form opened before someone else's change answers 409."""
    dataset = _editable(dataset_id)
    if request.method == "GET":
        return _edit_page(dataset, forms.dataset_state(dataset))
    state, data = forms.parse_dataset(request.form, *_codes())
    if data is None:
        db.session.rollback()
        return _edit_page(dataset, state, 400)
    try:
        services.update_dataset(current_user, dataset, data, state.version)
        db.session.commit()
    except StaleDataError:
        return _stale(dataset_id, state)
    except services.DatasetError as exc:
        if exc.code == "stale":
            return _stale(dataset_id, state)
        db.session.rollback()
        problem = _refused_into(state, exc)
        return _edit_page(_load(dataset_id), state, exc.status, problem)
    flash(_("Your changes to “%(title)s” were saved.", title=_title(dataset)))
    return redirect(url_for("dataset_admin.dataset", dataset_id=dataset_id), 303)


def _stale(dataset_id: int, state: forms.FormState):
    db.session.rollback()
    dataset = _load(dataset_id)
    state.values["version_id"] = str(dataset.version_id)
    return _edit_page(dataset, state, 409, problem=messages.refusal("stale"))


# --- the dataset page and uploads ----------------------------------------------------------------------


#: How much of an upload is copied at a time.
def _receive(stream) -> Path:
    """Copy an upload to a private file in DATA_DIR/incoming, refused past DATASET_MAX_UPLOAD_BYTES."""
    limit = current_app.config["DATASET_MAX_UPLOAD_BYTES"]
    try:
        return receive_stream(stream, limit)
    except MediaRejected:
        raise services.DatasetError("table_too_large", 400, limit=limit) from None


def _default_mode(dataset: Dataset) -> str:
    return "previous" if dataset.latest_version and dataset.latest_version.tables else "infer"


def _dataset_page(
    dataset: Dataset, upload: forms.FormState | None = None, status: int = 200, problem: str | None = None
):
    return _page(
        "dataset_admin/dataset.html",
        status,
        dataset=dataset,
        upload=upload or forms.upload_state(_default_mode(dataset)),
        problem=problem,
        can_edit=services.can_edit(dataset, current_user),
        previous_tables=[t.name for t in dataset.latest_version.tables] if dataset.latest_version else [],
    )


@admin_bp.get("/admin/datasets/<int:dataset_id>")
@login_required
def dataset(dataset_id: int):
    """A dataset: its description, versions, the draft's state and the upload form."""
    return _dataset_page(_viewable(dataset_id))


@admin_bp.post("/admin/datasets/<int:dataset_id>/upload")
@login_required
def upload(dataset_id: int):
    """Add (or replace) a table in the draft version; a refused file stores nothing."""
    dataset = _editable(dataset_id)
    state, checked = forms.parse_upload(request.form, request.files)
    file = request.files.get("file")
    filename = forms.safe_filename(file.filename if file else "")
    if file is None or not filename:
        state.error("file", "file_required")
    if checked is None or state.errors:
        db.session.rollback()
        return _dataset_page(dataset, state, 400)
    path: Path | None = None
    try:
        path = _receive(file.stream)
        request_ = services.UploadRequest(
            path=path,
            filename=filename,
            name=checked.name,
            title=checked.title,
            schema_mode=checked.schema_mode,
            schema=checked.schema,
            sheet=checked.sheet,
        )
        table = services.upload_table(current_user, dataset, request_)
        number = table.version.number
        name, valid, confirmed = table.name, table.is_valid, table.schema_confirmed
        db.session.commit()
    except services.DatasetError as exc:
        db.session.rollback()
        state.errors.setdefault("file", messages.refusal_message(exc))
        return _dataset_page(_load(dataset_id), state, exc.status)
    finally:
        if path is not None:
            path.unlink(missing_ok=True)
    if not valid:
        flash(
            _(
                "Table “%(name)s” was uploaded, but it has errors: see them below, "
                "fix the file and upload it again.",
                name=name,
            )
        )
    elif not confirmed:
        flash(
            _("Table “%(name)s” was uploaded. Check the schema inferred for it, then confirm it.", name=name)
        )
    else:
        flash(_("Table “%(name)s” was uploaded and is valid.", name=name))
    return redirect(
        url_for("dataset_admin.version", dataset_id=dataset_id, number=number, _anchor=f"table-{name}"), 303
    )


# --- a version: tables, errors, schema editor, publishing ----------------------------------------------


def _version_page(dataset: Dataset, version: DatasetVersion, status: int = 200, problem: str | None = None,
                  schema_forms: dict | None = None, notes: forms.FormState | None = None):  # fmt: skip
    editable = not version.is_published and services.can_edit(dataset, current_user)
    states = {t.id: forms.schema_state(t) for t in version.tables}
    states.update(schema_forms or {})
    return _page(
        "dataset_admin/version.html",
        status,
        dataset=dataset,
        version=version,
        problem=problem,
        editable=editable,
        schema_forms=states,
        notes=notes or forms.notes_state(version.notes),
        max_errors=tables.MAX_ERRORS_KEPT,
    )


@admin_bp.get("/admin/datasets/<int:dataset_id>/v<int:number>")
@login_required
def version(dataset_id: int, number: int):
    """A version: each table's rows, validity and errors; for a draft, the schema editor and actions."""
    dataset = _viewable(dataset_id)
    version = _version(dataset, number)
    if not version.is_published and not services.can_edit(dataset, current_user):
        abort(403)  # a draft is its editors' business until it is published
    return _version_page(dataset, version)


def _draft_action(dataset_id: int, number: int) -> tuple[Dataset, DatasetVersion]:
    dataset = _editable(dataset_id)
    version = _version(dataset, number)
    return dataset, version


def _refused(dataset_id: int, number: int, exc: Exception, **kwargs):
    db.session.rollback()
    dataset = _load(dataset_id)
    version = _version(dataset, number)
    if isinstance(exc, services.DatasetError):
        return _version_page(dataset, version, exc.status, messages.refusal_message(exc), **kwargs)
    logger.warning("change to published dataset version refused: %s", exc)
    return _version_page(dataset, version, 409, messages.refusal("published_is_immutable"), **kwargs)


@admin_bp.post("/admin/datasets/<int:dataset_id>/v<int:number>/tables/<int:table_id>/schema")
@login_required
def confirm_schema(dataset_id: int, number: int, table_id: int):
    """Save the officer's schema for a draft table and validate the table again."""
    dataset, version = _draft_action(dataset_id, number)
    table = _table(version, table_id)
    if version.is_published:
        return _refused(dataset_id, number, services.DatasetError("published_is_immutable", 409))
    state, schema, chart = forms.parse_schema(request.form, table)
    if schema is None:
        db.session.rollback()
        return _version_page(
            dataset, version, 400, messages.refusal("bad_schema"), schema_forms={table_id: state}
        )
    try:
        services.confirm_schema(current_user, table, schema, chart)
        name, valid = table.name, table.is_valid
        db.session.commit()
    except (services.DatasetError, PublishedVersionIsImmutable) as exc:
        return _refused(dataset_id, number, exc, schema_forms={table_id: state})
    if valid:
        flash(_("The schema of “%(name)s” is confirmed and the table is valid.", name=name))
    else:
        flash(
            _(
                "The schema of “%(name)s” is confirmed, but the table has errors against it: see them below.",
                name=name,
            )
        )
    return redirect(
        url_for("dataset_admin.version", dataset_id=dataset_id, number=number, _anchor=f"table-{name}"), 303
    )


@admin_bp.post("/admin/datasets/<int:dataset_id>/v<int:number>/tables/<int:table_id>/remove")
@login_required
def remove_table(dataset_id: int, number: int, table_id: int):
    """Take a table out of the draft."""
    dataset, version = _draft_action(dataset_id, number)
    table = _table(version, table_id)
    name = table.name
    try:
        services.remove_table(current_user, table)
        db.session.commit()
    except (services.DatasetError, PublishedVersionIsImmutable) as exc:
        return _refused(dataset_id, number, exc)
    flash(_("Table “%(name)s” was removed from the draft.", name=name))
    return redirect(url_for("dataset_admin.version", dataset_id=dataset_id, number=number), 303)


@admin_bp.post("/admin/datasets/<int:dataset_id>/v<int:number>/notes")
@login_required
def notes(dataset_id: int, number: int):
    """Say what changed in the draft version."""
    dataset, version = _draft_action(dataset_id, number)
    state, values = forms.parse_notes(request.form)
    if values is None:
        db.session.rollback()
        return _version_page(dataset, version, 400, notes=state)
    try:
        services.set_version_notes(current_user, version, values)
        db.session.commit()
    except (services.DatasetError, PublishedVersionIsImmutable) as exc:
        return _refused(dataset_id, number, exc, notes=state)
    flash(_("The version notes were saved."))
    return redirect(url_for("dataset_admin.version", dataset_id=dataset_id, number=number), 303)


@admin_bp.route("/admin/datasets/<int:dataset_id>/v<int:number>/discard", methods=["GET", "POST"])
@login_required
def discard(dataset_id: int, number: int):
    """Ask, then delete the draft version and its files."""
    dataset, version = _draft_action(dataset_id, number)
    if version.is_published:
        return _refused(dataset_id, number, services.DatasetError("published_is_immutable", 409))
    if request.method == "GET":
        return _page("dataset_admin/discard.html", dataset=dataset, version=version)
    try:
        services.discard_draft(current_user, version)
        db.session.commit()
    except (services.DatasetError, PublishedVersionIsImmutable) as exc:
        return _refused(dataset_id, number, exc)
    flash(_("The draft version %(number)s was discarded.", number=number))
    return redirect(url_for("dataset_admin.dataset", dataset_id=dataset_id), 303)


@admin_bp.post("/admin/datasets/<int:dataset_id>/v<int:number>/publish")
@login_required
def publish(dataset_id: int, number: int):
    """Publish a ready draft (curators)."""
    dataset = _viewable(dataset_id)
    if not services.can_publish(current_user):
        abort(403)
    version = _version(dataset, number)
    try:
        services.publish_version(current_user, version)
        db.session.commit()
    except (services.DatasetError, PublishedVersionIsImmutable) as exc:
        return _refused(dataset_id, number, exc)
    flash(_("Version %(number)s of “%(title)s” is published.", number=number, title=_title(dataset)))
    return redirect(url_for("dataset_admin.version", dataset_id=dataset_id, number=number), 303)


# --- withdrawing ---------------------------------------------------------------------------------------


@admin_bp.post("/admin/datasets/<int:dataset_id>/withdraw")
@login_required
def withdraw(dataset_id: int):
    """Hide a dataset everywhere (curators)."""
    dataset = _viewable(dataset_id)
    if not services.can_publish(current_user):
        abort(403)
    services.withdraw_dataset(current_user, dataset)
    db.session.commit()
    flash(_("“%(title)s” is withdrawn: visitors no longer see it.", title=_title(dataset)))
    return redirect(url_for("dataset_admin.dataset", dataset_id=dataset_id), 303)


@admin_bp.post("/admin/datasets/<int:dataset_id>/reinstate")
@login_required
def reinstate(dataset_id: int):
    """Show a withdrawn dataset again (curators)."""
    dataset = _viewable(dataset_id)
    if not services.can_publish(current_user):
        abort(403)
    try:
        services.reinstate_dataset(current_user, dataset)
        db.session.commit()
    except services.DatasetError as exc:
        db.session.rollback()
        return _dataset_page(_load(dataset_id), status=exc.status, problem=messages.refusal_message(exc))
    flash(_("“%(title)s” is visible again.", title=_title(dataset)))
    return redirect(url_for("dataset_admin.dataset", dataset_id=dataset_id), 303)
