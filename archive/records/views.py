"""Public pages: home, the paginated list of records, a record page and its metadata downloads."""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.exceptions import BadRequest

from archive.communities.labels import describe_season
from archive.communities.services import list_communities
from archive.core.access import (
    can_add_media,
    can_view_media,
    can_view_record,
    record_key,
    restriction_notice,
    season_of,
    today_in_vietnam,
)
from archive.core.extensions import db
from archive.core.i18n import current_language, localized_text
from archive.records import page, services
from archive.records.csv_import import export_csv
from archive.records.models import ACCESS_LEVELS, HeritageRecord
from archive.vocab.models import EthnicGroup
from archive.workflow.services import STATUS_LABELS
from metadata.categories import CATEGORIES
from metadata.dublin_core import to_jsonld_bytes, to_oai_dc_bytes

#: What each access level means, for the forms that set one.
ACCESS_LABELS = {
    "public": _l("Everyone"),
    "researchers": _l("Registered researchers"),
    "community": _l("Members of the community group only"),
    "private": _l("Archive staff only"),
}

bp = Blueprint("records", __name__)


@bp.get("/")
def home():
    """Home page: search, featured exhibits, the next festivals, ways to browse, the latest records."""
    visible = services.public_records()  # built once per request: it reads what the protocols withhold today
    records, total = services.list_public_records(1, 6, visible=visible)
    groups = db.session.scalar(select(func.count()).select_from(EthnicGroup))
    return render_template(
        "records/home.html",
        records=records,
        total=total,
        groups=groups,
        upcoming=services.upcoming_festivals(today_in_vietnam(), visible=visible),
        categories=CATEGORIES,
        exhibits=_featured_exhibits(),
        entry_points=_entry_points(),
    )


#: Ways into the archive on the home page: (endpoint, label, hint), shown when the endpoint exists.
ENTRY_POINTS = (
    ("browse.groups", _l("Ethnic groups"), _l("The 54 peoples of Vietnam, their names and regions")),
    ("browse.places", _l("Provinces"), _l("By province, before and after the 2025 reorganisation")),
    ("calendar.index", _l("Festival calendar"), _l("Lunar and solar dates for this year and next")),
    ("map.index", _l("Map"), _l("Festivals and customs by place")),
    ("browse.collections", _l("Collections"), _l("Recordings grouped by project and donor")),
    ("exhibits.index", _l("Exhibits"), _l("Curated stories with images, songs and films")),
)


def _entry_points() -> list[tuple[str, str, str]]:
    endpoints = current_app.view_functions
    return [(e, str(label), str(hint)) for e, label, hint in ENTRY_POINTS if e in endpoints]


def _featured_exhibits() -> list:
    """Featured published exhibits, when the exhibits module is installed."""
    if "exhibits.index" not in current_app.view_functions:
        return []
    from archive.exhibits.services import featured_exhibits

    return featured_exhibits(limit=3)


@bp.get("/records")
def index():
    """Paginated list of public records."""
    page = request.args.get("page", "1")
    if not page.isdigit() or int(page) < 1:
        abort(400)
    page_number = int(page)
    per_page = current_app.config["PAGE_SIZE"]
    records, total = services.list_public_records(page_number, per_page)
    pages = max(1, -(-total // per_page))
    if page_number > pages:
        abort(404)
    return render_template("records/list.html", records=records, total=total, page=page_number, pages=pages)


def _load(public_id: str) -> HeritageRecord:
    """The record if this person may see it (archive.core.access decides). Otherwise: 410 with a short
    notice for a withdrawn record; 403 with the community's protocol notice, or the season in which it is
    shown, when the community wants that said; 404 for anything else, so that nobody learns that a hidden
    record exists."""
    record = services.get_record(public_id)
    if record is None:
        abort(404)
    if can_view_record(record):
        return record
    if record.status == "withdrawn":
        abort(_withheld(record, "withdrawn", 410))
    reason = restriction_notice(record)
    if reason is None:
        abort(404)
    abort(_withheld(record, reason, 403))


def _withheld(record: HeritageRecord, reason: str, status: int) -> Response:
    headings = {
        "withdrawn": _("This record has been withdrawn"),
        "seasonal": _("Shown only in its season"),
        "community": _("Restricted by the community"),
    }
    seasons = [describe_season(season_of(label)) for label in record.labels if label.kind == "seasonal"]
    body = render_template(
        "records/withheld.html",
        heading=headings[reason],
        reason=reason,
        community=record.community,
        seasons=seasons,
    )
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/records/<public_id>")
@bp.get("/records/<public_id>/<slug>")
def detail(public_id: str, slug: str | None = None):
    """A record page: title, summary, media (the rendition the connection can bear, transcripts, deep
    zoom), description, every field, the citation, exports and related records; redirects to the
    canonical URL with the current slug."""
    record = _load(public_id)
    if slug != record.slug:
        return redirect(url_for("records.detail", public_id=public_id, slug=record.slug, **request.args), 301)
    try:
        choice = page.choose_quality(
            request.args.get("quality"), request.cookies.get(page.QUALITY_COOKIE), request.headers
        )
    except ValueError:
        error = BadRequest(_('Choose the quality "low" or "high".'))
        error.translated = True  # type: ignore[attr-defined]  # archive.core.errors shows the message
        raise error from None
    lang = current_language()
    description = services.describe(record)
    visible = [m for m in record.media if m.state == "ready" and can_view_media(m)]
    images = {m.id: page.image_sizes(m) for m in visible if m.kind == "image"}
    players = [m for m in visible if m.kind in ("audio", "video")]
    canonical = page.canonical_url(record)
    first_image = next((m for m in visible if m.kind == "image"), None)
    share_image = page.absolute(images[first_image.id].share) if first_image is not None else None
    title = localized_text(record.values("title"))
    body = render_template(
        "records/detail.html",
        record=record,
        description=description,
        categories=CATEGORIES,
        this_year=dt.date.today().year,
        status_labels=STATUS_LABELS,
        access_levels=ACCESS_LEVELS,
        access_labels=ACCESS_LABELS,
        communities=list_communities() if can_add_media(record) else [],
        quality=choice.quality,
        quality_source=choice.source,
        rendition_orders=page.RENDITION_ORDERS,
        sources={m.id: page.media_sources(m, choice.quality) for m in players},
        transcripts={m.id: page.transcripts(m, lang) for m in players},
        images=images,
        related=page.related_records(record),
        citation=page.record_citation(record, description, lang, today_in_vietnam()),
        jsonld=page.jsonld_script(page.page_jsonld(description, canonical, share_image)),
        og=page.open_graph(
            description,
            lang,
            canonical,
            share_image,
            page.caption_text(first_image.caption_values, lang, title) if first_image is not None else "",
        ),
        canonical=canonical,
    )
    response = Response(body, mimetype="text/html")
    response.headers["Accept-CH"] = ", ".join(page.CLIENT_HINTS)
    for hint in page.CLIENT_HINTS:
        response.vary.add(hint)
    if choice.source == "query":
        response.set_cookie(
            page.QUALITY_COOKIE,
            choice.quality,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=request.is_secure,
        )
        # An answer that sets a cookie is nobody else's to keep.
        response.headers["Cache-Control"] = "private, no-cache"
    return _cache_rule(response, record)


def _cache_rule(response: Response, record: HeritageRecord) -> Response:
    """Shared caches may keep only what everyone may see; anything else is private to its reader."""
    if record.status != "published" or record_key(record) != "public":
        response.headers["Cache-Control"] = "private, no-cache"
        response.vary.add("Cookie")
    return response


def _download(body: bytes, mimetype: str, filename: str, record: HeritageRecord) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Access-Control-Allow-Origin"] = "*"
    return _cache_rule(response, record)


@bp.get("/records/<public_id>/dc.xml")
def dublin_core_xml(public_id: str):
    """The record as simple Dublin Core (oai_dc XML)."""
    record = _load(public_id)
    return _download(
        to_oai_dc_bytes(services.describe(record)), "application/xml", f"{record.public_id}-dc.xml", record
    )


@bp.get("/records/<public_id>/record.jsonld")
def json_ld(public_id: str):
    """The record as JSON-LD (dcterms and schema.org)."""
    record = _load(public_id)
    return _download(
        to_jsonld_bytes(services.describe(record)),
        "application/ld+json",
        f"{record.public_id}.jsonld",
        record,
    )


@bp.get("/records/<public_id>/record.csv")
def csv_file(public_id: str):
    """The record as one CSV row in the archive's import format."""
    record = _load(public_id)
    return _download(
        export_csv([record]).encode("utf-8"), "text/csv; charset=utf-8", f"{record.public_id}.csv", record
    )
