"""The audit log page for administrators: /admin/audit."""

from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from archive.audit import services

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

#: Readable names of the logged tables; anything else is shown by its table name.
OBJECT_TYPES = {
    "heritage_record": _l("Record"),
    "record_text": _l("Record text"),
    "record_agent": _l("Person or organisation on a record"),
    "festival_timing": _l("Festival timing"),
    "documented_date": _l("Documented date"),
    "rights": _l("Rights"),
    "media_file": _l("Media file"),
    "media_caption": _l("Captions track"),
    "user_account": _l("User account"),
    "ethnic_group": _l("Ethnic group"),
    "place": _l("Place"),
    "place_succession": _l("Place succession"),
    "subject": _l("Subject"),
    "agent": _l("Person or organisation"),
    "collection": _l("Collection"),
}
ACTIONS = {"create": _l("Created"), "update": _l("Changed"), "delete": _l("Deleted")}


def shown_value(value) -> str:
    """A stored value as text: strings as they are, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _filters() -> services.AuditFilters:
    def arg(name: str, limit: int) -> str:
        return " ".join((request.args.get(name) or "").split())[:limit]

    return services.AuditFilters(
        object_type=arg("type", 60),
        object_id=arg("object", 64),
        actor=arg("actor", 254),
        action=arg("action", 40),
    )


@bp.get("")
@login_required
def index():
    """Every change and named event, newest first, with filters and pages."""
    page = request.args.get("page", "1")
    if not page.isdigit() or int(page) < 1:
        abort(400)
    page_number = int(page)
    per_page = current_app.config["PAGE_SIZE"]
    filters = _filters()
    try:
        events, total = services.list_events(current_user, filters, page_number, per_page)
        types, actions = services.known_values(current_user)
    except services.NotAllowed:
        abort(403)
    pages = max(1, -(-total // per_page))
    if page_number > pages:
        abort(404)
    args = {
        key: value
        for key, value in (
            ("type", filters.object_type),
            ("object", filters.object_id),
            ("actor", filters.actor),
            ("action", filters.action),
        )
        if value
    }
    return render_template(
        "audit/list.html",
        events=events,
        total=total,
        page=page_number,
        pages=pages,
        filters=filters,
        types=types,
        actions=actions,
        type_labels=OBJECT_TYPES,
        action_labels=ACTIONS,
        shown_value=shown_value,
        page_url=lambda number: url_for("audit.index", page=number, **args),
    )
