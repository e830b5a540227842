"""Search for visitors: the search page (works without JavaScript, every filter lives in the URL so a
search can be shared), the JSON search endpoint with the same parameters, and autocomplete.

Parameters of ``/search`` and ``/search.json``: ``q``; one repeatable parameter per facet, named as in
:data:`archive.search.base.FACETS`; ``sort`` (one of :data:`archive.search.base.SORTS`); ``page``;
``type`` (``records``, the default, or ``datasets``: the open datasets matching ``q``).
Anything else (except ``lang`` and ``utm_*`` tracking parameters) is refused with a 400 and a
translated message, so that a misspelt filter never silently widens a search.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urljoin

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from archive.core.access import search_viewer
from archive.core.i18n import localized_text
from archive.datasets.search import search_datasets
from archive.search import service
from archive.search.base import FACETS, SORTS, IndexUnavailable
from metadata.categories import CATEGORIES

bp = Blueprint("search", __name__)

#: Longest query accepted by the search page and the JSON endpoint, in characters (what the service reads).
MAX_QUERY_CHARS = service.MAX_QUERY_LENGTH
#: Highest page number the service answers.
MAX_PAGE = 10_000
#: Autocomplete answers from this many characters, and refuses prefixes longer than the maximum.
MIN_PREFIX_CHARS = 2
MAX_PREFIX_CHARS = 100
#: Most values of one facet in a request, and longest value key.
MAX_FILTER_VALUES = 30
MAX_FILTER_KEY_CHARS = 100
#: Seconds a client should wait before asking again while the index is rebuilt.
RETRY_AFTER_SECONDS = 30
#: What a search looks for: heritage records (the default) or the open datasets.
TYPES = ("records", "datasets")
#: Parameters that are not search parameters but are accepted and ignored.
IGNORED_PARAMETERS = frozenset({"lang"})

SORT_LABELS = {
    "relevance": _l("Relevance"),
    "date_desc": _l("Date, newest first"),
    "date_asc": _l("Date, oldest first"),
    "title": _l("Title, A to Z"),
}
#: Media type labels, the same as the service's facet values.
MEDIA_LABELS = service.MEDIA_TYPE_LABELS
KIND_LABELS = {
    "title": _l("Record"),
    "ethnic_group": _l("Ethnic group"),
    "place": _l("Place"),
}


class InvalidSearch(Exception):
    """A search request the archive cannot answer: a code for programs and a translated message."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SearchParams:
    """The validated parameters of one search request."""

    q: str
    filters: dict[str, list[str]]
    sort: str
    page: int
    type: str = "records"

    @property
    def is_browse(self) -> bool:
        return not self.q and not self.filters


def _parse_params() -> SearchParams:
    """Read and check the search parameters of the current request; raises InvalidSearch."""
    args = request.args
    q = " ".join((args.get("q") or "").split())
    if len(q) > MAX_QUERY_CHARS:
        raise InvalidSearch("query_too_long", _query_message(MAX_QUERY_CHARS))
    sort = args.get("sort") or "relevance"
    if sort not in SORTS:
        raise InvalidSearch("unknown_sort", _sort_message(sort))
    page_text = (args.get("page") or "1").strip()
    if not page_text.isdigit() or not 1 <= int(page_text[:9]) <= MAX_PAGE:
        raise InvalidSearch("bad_page", _page_message())
    kind = args.get("type") or "records"
    if kind not in TYPES:
        raise InvalidSearch(
            "unknown_type",
            _("“%(type)s” is not something this search looks for. Use one of: %(choices)s.", type=kind[:50],
              choices=", ".join(TYPES)),
        )  # fmt: skip
    filters: dict[str, list[str]] = {}
    for name in args:
        if name in ("q", "sort", "page", "type") or name in IGNORED_PARAMETERS or name.startswith("utm_"):
            continue
        if name not in FACETS:
            raise InvalidSearch("unknown_facet", _filter_message(name))
        values: list[str] = []
        for value in args.getlist(name):
            value = value.strip()
            if value and value not in values:
                values.append(value)
        if len(values) > MAX_FILTER_VALUES or any(len(v) > MAX_FILTER_KEY_CHARS for v in values):
            raise InvalidSearch(
                "too_many_filters", _("The filter “%(name)s” has too many or too long values.", name=name)
            )
        if values:
            filters[name] = values
    return SearchParams(q=q, filters=filters, sort=sort, page=int(page_text), type=kind)


def _search(params: SearchParams) -> service.SearchPage:
    """Ask the service; a refusal of the service becomes InvalidSearch with a translated message."""
    try:
        result = service.search_records(
            params.q,
            filters=params.filters,
            sort=params.sort,
            page=params.page,
            per_page=current_app.config["PAGE_SIZE"],
            viewer=search_viewer(),
        )
        if not result.unavailable and result.page > result.pages:  # a page beyond an empty result
            raise service.SearchError("page_out_of_range", pages=result.pages)
        return result
    except IndexUnavailable:
        return service.SearchPage(
            query=service.parse_query(params.q),
            text=params.q,
            filters={},
            sort=params.sort,
            page=params.page,
            per_page=current_app.config["PAGE_SIZE"],
            unavailable=True,
        )
    except ValueError as exc:
        raise _refusal(exc, params) from None


def _refusal(exc: ValueError, params: SearchParams) -> InvalidSearch:
    """The translated message for a request the service refused (service.SearchError codes)."""
    code = getattr(exc, "code", "invalid_search")
    details = getattr(exc, "params", {})
    if code == "page_out_of_range":
        pages = details.get("pages", 1)
        message = ngettext(
            "This search has %(num)s page of results; there is no page %(page)s.",
            "This search has %(num)s pages of results; there is no page %(page)s.",
            pages,
            page=params.page,
        )
    elif code == "bad_page":
        message = _page_message()
    elif code == "unknown_sort":
        message = _sort_message(details.get("sort", params.sort))
    elif code == "unknown_facet":
        message = _filter_message(details.get("facet", ""))
    elif code == "too_many_filters":
        message = _("This search has too many filters; remove some of them.")
    elif code == "query_too_long":
        message = _query_message(MAX_QUERY_CHARS)
    else:
        message = _("The search could not be done with these settings.")
    return InvalidSearch(code, message)


def _page_message() -> str:
    return _("The page number must be a whole number from 1 to %(max)s.", max=MAX_PAGE)


def _sort_message(sort: str) -> str:
    return _(
        "“%(sort)s” is not a sort order of this search. Use one of: %(choices)s.",
        sort=sort[:50],
        choices=", ".join(SORTS),
    )


def _filter_message(name: str) -> str:
    return _(
        "“%(name)s” is not a filter of this search. Filters: %(choices)s.",
        name=name[:50],
        choices=", ".join(FACETS),
    )


def _query_message(limit: int) -> str:
    return _("The search text is too long: use at most %(limit)s characters.", limit=limit)


class Links:
    """URLs of the current search with one thing changed; every other parameter is kept."""

    def __init__(self, params: SearchParams):
        self.params = params

    def build(self, *, q=None, filters=None, sort=None, page=1, endpoint="search.page", **extra) -> str:
        q = self.params.q if q is None else q
        filters = self.params.filters if filters is None else filters
        sort = self.params.sort if sort is None else sort
        args: dict = {}
        if q:
            args["q"] = q
        for name in FACETS:
            if filters.get(name):
                args[name] = list(filters[name])
        if sort != "relevance":
            args["sort"] = sort
        if page > 1:
            args["page"] = page
        kind = extra.pop("type", self.params.type)
        if kind != "records":
            args["type"] = kind
        return url_for(endpoint, **args, **extra)

    def toggle(self, name: str, key: str) -> str:
        """The search with this filter value added, or removed when it is selected; back to page 1."""
        values = list(self.params.filters.get(name, []))
        values = [v for v in values if v != key] if key in values else values + [key]
        return self.build(filters={**self.params.filters, name: values})

    def without_filters(self) -> str:
        return self.build(filters={})

    def with_query(self, text: str) -> str:
        return self.build(q=text)

    def page(self, number: int) -> str:
        return self.build(page=number)

    def of_type(self, kind: str) -> str:
        """The same text searched for records or for datasets (filters only apply to records)."""
        return self.build(filters={} if kind == "datasets" else None, sort="relevance", type=kind)


@dataclass(frozen=True)
class ActiveFilter:
    """One selected filter value, with its labels and the URL of the search without it."""

    facet: str
    facet_label: str
    key: str
    label: str
    remove_url: str


def _active_filters(params: SearchParams, result: service.SearchPage, links: Links) -> list[ActiveFilter]:
    facets = {facet.name: facet for facet in result.facets}
    active = []
    for name in FACETS:
        for key in params.filters.get(name, []):
            facet = facets.get(name)
            label = next((v.label for v in facet.values if v.key == key), key) if facet else key
            facet_label = facet.label if facet else name
            active.append(ActiveFilter(name, facet_label, key, label, links.toggle(name, key)))
    return active


def _category_label(value: str) -> str:
    """A category label in the interface language (the service may give a code or a label)."""
    category = CATEGORIES.get(value)
    return localized_text(category.label_values) if category else value


def _date_label(value: str | None) -> str:
    if not value:
        return ""
    try:
        return format_date(dt.date.fromisoformat(value[:10]), "medium")
    except ValueError:
        return value


def _absolute(url: str | None) -> str | None:
    if not url:
        return url
    return urljoin(current_app.config["BASE_URL"] + "/", url)


def _private(response):
    """Answers that depend on who is signed in must not be kept by shared caches."""
    if current_user.is_authenticated:
        response.headers["Cache-Control"] = "private"
    return response


def _json(body: dict, status: int = 200):
    response = current_app.json.response(body)
    response.status_code = status
    response.headers["Access-Control-Allow-Origin"] = "*"
    return _private(response)


def _json_error(code: str, message: str, status: int):
    response = _json({"error": {"code": code, "message": message}}, status)
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _unavailable_message() -> str:
    return _(
        "The search index is being rebuilt; try again in a minute. Meanwhile you can browse the list of "
        "records."
    )


def _template_context(params: SearchParams) -> dict:
    return dict(
        params=params,
        sorts=[(code, SORT_LABELS[code]) for code in SORTS],
        facet_names=FACETS,
        max_query_chars=MAX_QUERY_CHARS,
    )


@bp.get("/search")
def page():
    """The search page: results with facets, sorting and pages; helpful pages for empty searches."""
    try:
        params = _parse_params()
    except InvalidSearch as problem:
        return _invalid_page(problem, None)
    if params.type == "datasets":
        return _datasets_page(params)
    try:
        result = _search(params)
    except InvalidSearch as problem:
        return _invalid_page(problem, params)
    if result.unavailable:
        response = _private(
            current_app.make_response(
                (
                    render_template(
                        "search/unavailable.html", message=_unavailable_message(), **_template_context(params)
                    ),
                    503,
                )
            )
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    links = Links(params)
    html = render_template(
        "search/results.html",
        result=result,
        links=links,
        active=_active_filters(params, result, links),
        media_labels=MEDIA_LABELS,
        category_label=_category_label,
        date_label=_date_label,
        first_number=(result.page - 1) * result.per_page + 1,
        dataset_hits=search_datasets(params.q) if params.q and not params.filters else [],
        **_template_context(params),
    )
    return _private(current_app.make_response(html))


def _datasets_page(params: SearchParams):
    """The open datasets matching the search text (record filters, sort and pages do not apply)."""
    hits = search_datasets(params.q)
    html = render_template(
        "search/datasets.html", hits=hits, links=Links(params), **_template_context(params)
    )
    return _private(current_app.make_response(html))


def _dataset_json(hit) -> dict:
    return {
        "slug": hit.slug,
        "url": _absolute(url_for("datasets.dataset", slug=hit.slug)),
        "title": hit.title,
        "description": hit.description,
        "tables": hit.table_count,
        "rows": hit.row_count,
        "origin": hit.origin,
    }


def _invalid_page(problem: InvalidSearch, params: SearchParams | None):
    if params is not None and problem.code == "page_out_of_range":
        retry_url, retry_label = Links(params).build(), _("Go to the first page of this search")
    else:
        q = params.q if params else " ".join((request.args.get("q") or "").split())[:MAX_QUERY_CHARS]
        params = SearchParams(q=q, filters={}, sort="relevance", page=1)
        retry_url, retry_label = Links(params).build(), _("Search again without these settings")
    html = render_template(
        "search/invalid.html",
        message=problem.message,
        retry_url=retry_url,
        retry_label=retry_label,
        **_template_context(params),
    )
    return _private(current_app.make_response((html, 400)))


@bp.get("/search.json")
def page_json():
    """The search as JSON, with the parameters and checks of the search page."""
    try:
        params = _parse_params()
        if params.type == "datasets":
            hits = search_datasets(params.q)
            return _json(
                {
                    "query": params.q,
                    "type": "datasets",
                    "total": len(hits),
                    "datasets": [_dataset_json(h) for h in hits],
                }
            )
        result = _search(params)
    except InvalidSearch as problem:
        return _json_error(problem.code, problem.message, 400)
    if result.unavailable:
        return _json_error("unavailable", _unavailable_message(), 503)
    datasets = search_datasets(params.q) if params.q and not params.filters else []
    return _json(
        {
            "query": result.text,
            "type": "records",
            "datasets": [_dataset_json(hit) for hit in datasets],
            "total": result.total,
            "page": result.page,
            "pages": result.pages,
            "per_page": result.per_page,
            "sort": result.sort,
            "filters": {name: list(values) for name, values in result.filters.items() if values},
            "suggestion": result.suggestion,
            "hits": [
                {
                    "public_id": hit.public_id,
                    "url": _absolute(hit.url),
                    "title": hit.title,
                    "title_lang": hit.title_lang,
                    "category": hit.category,
                    "snippet_html": hit.snippet_html,
                    "ethnic_groups": list(hit.ethnic_groups),
                    "places": list(hit.places),
                    "media_types": list(hit.media_types),
                    "thumbnail_url": _absolute(hit.thumbnail_url),
                    "date": hit.date,
                }
                for hit in result.hits
            ],
            "facets": [
                {
                    "name": facet.name,
                    "label": facet.label,
                    "values": [
                        {"key": v.key, "label": v.label, "count": v.count, "selected": v.selected}
                        for v in facet.values
                    ],
                }
                for facet in result.facets
            ],
        }
    )


@bp.get("/search/autocomplete.json")
def autocomplete():
    """Titles, ethnic groups and places completing ``q`` that lead to records the visitor may see."""
    q = " ".join((request.args.get("q") or "").split())
    if len(q) > MAX_PREFIX_CHARS:
        return _json_error(
            "query_too_long",
            _("The search text is too long: use at most %(limit)s characters.", limit=MAX_PREFIX_CHARS),
            400,
        )
    completions: list[service.Completion] = []
    if len(q) >= MIN_PREFIX_CHARS:
        try:
            completions = service.autocomplete(q, search_viewer())
        except IndexUnavailable:
            return _json_error("unavailable", _unavailable_message(), 503)
    return _json(
        {
            "q": q,
            "results": [
                {"kind": c.kind, "label": c.label, "url": c.url, "count": c.count} for c in completions
            ],
        }
    )


@bp.app_context_processor
def _search_box():
    """What the header search box needs on every page: labels for the autocomplete script."""
    return {
        "search_strings": {
            "kinds": {kind: str(label) for kind, label in KIND_LABELS.items()},
            "none": _("No suggestions."),
            "one": _("1 suggestion. Use the up and down arrow keys to choose, Enter to open."),
            # Left unformatted: the script puts the number in.
            "many": _("%(num)s suggestions. Use the up and down arrow keys to choose, Enter to open."),
            "minChars": MIN_PREFIX_CHARS,
        }
    }
