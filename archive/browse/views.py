"""Browse pages: by ethnic group, by province (today's and the old ones), by category, by collection.

Each view loads the vocabulary entry, asks services for the records this person may see, and renders.
Pages for visitors who are not signed in are the same for everyone and may be kept by shared caches for
a short while (BROWSE_CACHE_SECONDS); for signed-in people they are private.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import BadRequest

from archive.browse import services
from archive.core.extensions import db
from archive.core.i18n import LANG_COOKIE, current_language
from archive.vocab.models import Place
from metadata.categories import CATEGORIES, UNESCO_DOMAINS
from metadata.languages import from_mapping
from metadata.vocabularies.ethnic_groups import LANGUAGE_FAMILIES

bp = Blueprint("browse", __name__)

#: Seconds a shared cache may keep a browse page served to a visitor who is not signed in. Short, since
#: seasonal protocols and lapsing consents change what visitors may see from one day to the next.
DEFAULT_CACHE_SECONDS = 300

GROUP_ORDERS = ("family", "name")


@bp.context_processor
def _helpers() -> dict:
    return {
        "format_decimal": format_decimal,
        "family_values": lambda code: from_mapping(LANGUAGE_FAMILIES.get(code, {"en": code})),
        "domain_values": lambda code: from_mapping(UNESCO_DOMAINS.get(code, {"en": code})),
    }


@bp.after_request
def _cache_rule(response: Response) -> Response:
    """Visitors' pages may be cached publicly for a short time; anything personal stays private.

    A page is the same for every visitor who is not signed in and sends no cookie but the language one:
    a session (flashed messages) or display preferences change what base.html renders.
    """
    if response.status_code != 200 or "Cache-Control" in response.headers:
        return response
    response.vary.add("Cookie")
    personal = (
        current_user.is_authenticated
        or bool(set(request.cookies) - {LANG_COOKIE})
        or session.modified
        or "lang" in request.args
    )
    if personal:
        response.headers["Cache-Control"] = "private, no-cache"
    else:
        seconds = current_app.config.get("BROWSE_CACHE_SECONDS", DEFAULT_CACHE_SECONDS)
        response.headers["Cache-Control"] = f"public, max-age={seconds}"
    return response


def _bad_request(message: str) -> BadRequest:
    """A 400 whose translated message the error page shows."""
    error = BadRequest(message)
    error.translated = True  # type: ignore[attr-defined]
    return error


def _page_number() -> int:
    """The ?page= argument: 1 by default, 400 when it is not a positive whole number."""
    raw = request.args.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise _bad_request(_("The page number must be a whole number from 1."))
    return int(raw)


def _records_page(stmt) -> services.RecordPage:
    """The requested page of a list of records; 404 past the last page."""
    page = _page_number()
    try:
        return services.page_of(stmt, page, current_app.config["PAGE_SIZE"])
    except services.PageOutOfRange:
        abort(404)


@bp.get("/browse")
def index():
    """The ways of browsing the archive, with how many entries each has."""
    visible = services.visible_records()
    counts = {
        "records": services.count(visible),
        "groups": len(services.ethnic_groups(current_language())),
        "provinces": len(services.provinces("2025")),
        "old_provinces": len(services.provinces("pre2025")),
        "categories": len(CATEGORIES),
        "collections": len(services.collections()),
    }
    return render_template("browse/index.html", counts=counts)


@bp.get("/groups")
def groups():
    """The 54 ethnic groups with their language family, population and number of records."""
    order = request.args.get("order", "family")
    if order not in GROUP_ORDERS:
        raise _bad_request(_("Groups can be ordered by language family or by name only."))
    all_groups = services.ethnic_groups(current_language())
    counts = services.counts_by_ethnic_group(services.visible_records())
    families = [
        (code, [g for g in all_groups if g.language_family == code])
        for code in LANGUAGE_FAMILIES
        if any(g.language_family == code for g in all_groups)
    ]
    return render_template(
        "browse/groups.html", groups=all_groups, families=families, counts=counts, order=order
    )


@bp.get("/groups/<slug>")
def group(slug: str):
    """One ethnic group: its names, languages, provinces, description and the records about it."""
    found = services.get_ethnic_group(slug)
    if found is None:
        abort(404)
    page = _records_page(services.records_about_group(services.visible_records(), found))
    return render_template(
        "browse/group.html",
        group=found,
        description=from_mapping(found.description or {}),
        branch=from_mapping(found.language_branch or {}),
        result=page,
    )


@bp.get("/ethnic-groups/<slug>")
def group_alias(slug: str):
    """The address exported metadata gives an ethnic group: sends the reader to its page."""
    if services.get_ethnic_group(slug) is None:
        abort(404)
    return redirect(url_for("browse.group", slug=slug), 301)


@bp.get("/places")
def places():
    """The provinces of today (default) or those before 1 July 2025, with their numbers of records."""
    system = request.args.get("system", "2025")
    if system not in services.SYSTEMS:
        raise _bad_request(_("The province system must be 2025 or pre2025."))
    return render_template(
        "browse/places.html",
        system=system,
        provinces=services.provinces(system),
        counts=services.counts_by_province(services.visible_records(), system),
    )


@bp.get("/places/<code>")
def place(code: str):
    """A province page: what it was or became in 2025, its ethnic groups and the records that lie in it."""
    province = services.get_province(code)
    if province is None:
        # Exported metadata names places at every level (/places/<commune code>): such a link leads
        # to the page of the province the unit belongs to in its own system.
        unit = db.session.scalar(select(Place).where(Place.code == code))
        if unit is None:
            abort(404)
        return redirect(url_for("browse.place", code=unit.province.code), 301)
    if province.system == "2025":
        before = services.predecessors(province)
        groups_here = services.ethnic_groups_of_provinces(before)
    else:
        before = []
        groups_here = services.ethnic_groups_of_provinces([province])
    page = _records_page(services.records_in_province(services.visible_records(), province))
    return render_template(
        "browse/place.html", province=province, before=before, groups_here=groups_here, result=page
    )


@bp.get("/categories")
def categories():
    """The record categories under their UNESCO intangible-heritage domains, with numbers of records."""
    counts = services.counts_by_category(services.visible_records())
    domains = [
        (domain, [c for c in CATEGORIES.values() if c.domain == domain])
        for domain in UNESCO_DOMAINS
        if any(c.domain == domain for c in CATEGORIES.values())
    ]
    return render_template("browse/categories.html", domains=domains, counts=counts)


@bp.get("/categories/<code>")
def category(code: str):
    """One category: its UNESCO domain and its records."""
    found = CATEGORIES.get(code)
    if found is None:
        abort(404)
    page = _records_page(services.records_in_category(services.visible_records(), code))
    return render_template("browse/category.html", category=found, result=page)


@bp.get("/collections")
def collections():
    """The curated collections with their numbers of records."""
    counts = services.counts_by_collection(services.visible_records())
    return render_template("browse/collections.html", collections=services.collections(), counts=counts)


@bp.get("/collections/<slug>")
def collection(slug: str):
    """One collection: its title, description and records."""
    found = services.get_collection(slug)
    if found is None:
        abort(404)
    page = _records_page(services.records_in_collection(services.visible_records(), found))
    return render_template("browse/collection.html", collection=found, result=page)
