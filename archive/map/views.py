"""The festival map: visible records by province on an offline SVG map of Viet Nam (no tile server, no
JavaScript needed), with the same figures as a table.

Parameters: ``system`` (``2025``, the default, or ``pre2025``), ``category`` (a code of
:data:`metadata.categories.CATEGORIES`) and ``group`` (an ethnic group's slug); an empty value means
"all", an unknown one is refused with a 400 and a translated message.
"""

from __future__ import annotations

from flask import Blueprint, current_app, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from archive.core.extensions import db
from archive.core.i18n import current_language
from archive.map import services
from archive.records.models import record_ethnic_group
from archive.records.services import public_records
from archive.vocab.models import EthnicGroup
from metadata.categories import CATEGORIES
from metadata.text import fold

bp = Blueprint("map", __name__)

#: Seconds a shared cache may keep the page of an anonymous visitor (it shows only public records).
PUBLIC_MAX_AGE = 300


def _problem(error: services.MapFilterError) -> str:
    messages = {
        "unknown_system": _(
            "“%(value)s” is not a map of provinces the archive knows: choose the provinces since "
            "1 July 2025 or those before.",
            value=error.value,
        ),
        "unknown_category": _("“%(value)s” is not a category of the archive.", value=error.value),
        "unknown_group": _("“%(value)s” is not an ethnic group of the archive.", value=error.value),
    }
    return messages.get(error.code, _("This map filter is not known."))


def province_link(code: str, filters: services.MapFilters) -> str:
    """Where a province's marker leads: its province page when there is one and no filter narrows the
    records, otherwise the search page filtered the same way as the map."""
    if not filters.narrowed and "browse.place" in current_app.view_functions:
        return url_for("browse.place", code=code)
    args: dict[str, str] = {"province": code}
    if filters.category:
        args["category"] = filters.category
    if filters.group is not None:
        args["ethnic_group"] = filters.group.slug
    return url_for("search.page", **args)


def _groups_with_records() -> list[EthnicGroup]:
    """Ethnic groups that at least one visible record is about, for the filter menu."""
    visible = public_records().subquery()
    ids = select(record_ethnic_group.c.ethnic_group_id).where(
        record_ethnic_group.c.record_id.in_(select(visible.c.id))
    )
    return list(db.session.scalars(select(EthnicGroup).where(EthnicGroup.id.in_(ids))))


@bp.get("/map")
def index():
    """The map page: a marker per province with visible records, and the same data as a table."""
    try:
        filters = services.parse_filters(
            request.args.get("system"), request.args.get("category"), request.args.get("group")
        )
    except services.MapFilterError as error:
        body = render_template("map/invalid.html", message=_problem(error))
        response = make_response(body, 400)
        response.headers["Cache-Control"] = "no-store"
        return response
    lang = current_language()
    data = services.province_counts(filters)
    archipelagos = services.archipelago_drawings(lang)
    east_sea = services.east_sea_label(lang)
    groups = _groups_with_records()
    if filters.group is not None and filters.group not in groups:
        groups.append(filters.group)
    groups.sort(key=lambda g: fold(g.name_en if lang == "en" else g.name_vi))
    body = render_template(
        "map/index.html",
        data=data,
        filters=filters,
        base=services.base_map(),
        frame=services.FRAME,
        markers=services.layout_markers(
            data.provinces, obstacles=services.name_boxes(archipelagos, east_sea)
        ),
        archipelagos=archipelagos,
        east_sea=east_sea,
        province_link=province_link,
        categories=CATEGORIES,
        groups=groups,
        filter_args=filters.query_args(),
    )
    response = make_response(body)
    if current_user.is_authenticated:
        response.headers["Cache-Control"] = "private, no-cache"
    else:
        response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    return response
