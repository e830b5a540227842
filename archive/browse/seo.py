"""sitemap.xml and robots.txt: what search engines may crawl, and every public page in each language.

The sitemap lists each page once per interface language, with ``xhtml:link rel="alternate"`` to every
language and to ``x-default`` (the unprefixed address, which sends each reader to their language).
Records appear only when a visitor who is not signed in may see them (archive.core.access). Past
SITEMAP_PAGE_SIZE records, /sitemap.xml becomes a sitemap index: /sitemap-1.xml holds the site's pages
and /sitemap-2.xml onwards the records, SITEMAP_PAGE_SIZE records each (two URLs per record with two
languages, well under the protocol's 50,000 URLs and 50 MB per file).
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flask import Blueprint, Response, abort, current_app, url_for
from lxml import etree
from sqlalchemy import select

from archive.core.extensions import db
from archive.records.models import HeritageRecord
from archive.records.services import public_records
from archive.vocab.models import Collection, EthnicGroup, Place
from metadata.categories import CATEGORIES

logger = logging.getLogger(__name__)

bp_seo = Blueprint("seo", __name__)

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"
DEFAULT_PAGE_SIZE = 10_000
#: Seconds shared caches may keep the sitemap and robots.txt (they only ever hold public pages).
CACHE_SECONDS = 3600

#: Paths crawlers are asked to leave alone (accounts, administration, editing, uploads, the display
#: preference links), each also under every language prefix.
DISALLOWED = (
    "/admin",
    "/account",
    "/login",
    "/logout",
    "/invite/",
    "/password/",
    "/my/",
    "/review",
    "/import",
    "/notifications",
    "/pickers/",
    "/records/new",
    "/records/*/edit",
    "/records/*/history",
    "/records/*/consent",
    "/records/*/media",
    "/records/*/workflow/",
    "/uploads/",
    "/display",
)
#: Optional sections of the site, each listed under the first of its endpoints that exists.
OPTIONAL_SECTIONS = (
    ("calendar.index", "calendar.page"),
    ("map.index", "map.page"),
    ("exhibits.index",),
    ("datasets.index",),
)


@dataclass(frozen=True)
class Page:
    """One page of the site for the sitemap: an endpoint, its arguments and when it last changed."""

    endpoint: str
    values: tuple[tuple[str, str], ...] = ()
    lastmod: dt.datetime | None = None


def _page_size() -> int:
    return max(1, int(current_app.config.get("SITEMAP_PAGE_SIZE", DEFAULT_PAGE_SIZE)))


def _has_endpoint(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def site_pages() -> list[Page]:
    """Every page of the site that is not a record: home, browse pages, groups, provinces, categories,
    collections, and the calendar, map and exhibits when the application has them."""
    pages = [Page("records.home"), Page("records.index")]
    pages += [Page(f"browse.{name}") for name in ("index", "groups", "places", "categories", "collections")]
    pages.append(Page("browse.groups", (("order", "name"),)))
    pages.append(Page("browse.places", (("system", "pre2025"),)))
    for endpoints in OPTIONAL_SECTIONS:
        present = [endpoint for endpoint in endpoints if _has_endpoint(endpoint)]
        if present:
            pages.append(Page(present[0]))
    for slug in db.session.scalars(select(EthnicGroup.slug).order_by(EthnicGroup.gso_code)):
        pages.append(Page("browse.group", (("slug", slug),)))
    for code in db.session.scalars(select(Place.code).where(Place.level == "province").order_by(Place.code)):
        pages.append(Page("browse.place", (("code", code),)))
    pages += [Page("browse.category", (("code", code),)) for code in CATEGORIES]
    for slug in db.session.scalars(select(Collection.slug).order_by(Collection.slug)):
        pages.append(Page("browse.collection", (("slug", slug),)))
    pages += list(_exhibit_pages())
    pages += list(_dataset_pages())
    return [page for page in pages if _has_endpoint(page.endpoint)]


def _exhibit_pages() -> Iterator[Page]:
    """Each published exhibit, when the exhibits module exists and offers them (it is optional)."""
    if not _has_endpoint("exhibits.detail"):
        return
    try:
        services = importlib.import_module("archive.exhibits.services")
    except ImportError:
        return
    lister = getattr(services, "published_exhibits", None)
    if lister is None:
        logger.info("archive.exhibits.services has no published_exhibits(): exhibits left out of the sitemap")
        return
    for exhibit in lister():
        yield Page(
            "exhibits.detail", (("slug", exhibit.slug),), getattr(exhibit, "updated_at", None)
        )  # fmt: skip


def _dataset_pages() -> Iterator[Page]:
    """Each public dataset and the tables of its latest version (drafts and withdrawn ones never)."""
    from archive.datasets.services import public_datasets

    for dataset in public_datasets():
        version = dataset.latest_version
        yield Page("datasets.dataset", (("slug", dataset.slug),), version.published_at)
        for table in version.tables:
            values = (("slug", dataset.slug), ("number", str(version.number)), ("name", table.name))
            yield Page("datasets.table", values, version.published_at)


def _public_records_ordered():
    return public_records().order_by(HeritageRecord.id)


def record_count() -> int:
    """How many records a visitor may see (the sitemap lists them all)."""
    from archive.browse.services import count

    return count(public_records())


def record_pages(number: int | None = None) -> Iterator[Page]:
    """The pages of the records any visitor may see; one chunk of SITEMAP_PAGE_SIZE when *number* is given
    (1 is the first chunk of records)."""
    stmt = _public_records_ordered().with_only_columns(
        HeritageRecord.public_id, HeritageRecord.slug, HeritageRecord.updated_at
    )
    if number is not None:
        size = _page_size()
        stmt = stmt.limit(size).offset((number - 1) * size)
    for public_id, slug, updated in db.session.execute(stmt):
        yield Page("records.detail", (("public_id", public_id), ("slug", slug)), updated)


def _absolute(path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path


def _alternates(page: Page) -> tuple[dict[str, str], str]:
    """The absolute URL of a page in each language, and its language-free (x-default) URL."""
    languages = current_app.config["LANGUAGES"]
    values = dict(page.values)
    urls = {lang: url_for(page.endpoint, _lang=lang, **values) for lang in languages}
    first = languages[0]
    prefix = f"/{first}"
    path = urls[first]
    default = path[len(prefix) :] if path.startswith(prefix + "/") or path == prefix else path
    return {lang: _absolute(url) for lang, url in urls.items()}, _absolute(default or "/")


def _lastmod(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def urlset(pages: Iterable[Page]) -> bytes:
    """A sitemaps.org 0.9 <urlset>: each page once per language, each with its alternates."""
    nsmap = {None: SITEMAP_NS, "xhtml": XHTML_NS}
    root = etree.Element(f"{{{SITEMAP_NS}}}urlset", nsmap=nsmap)
    for page in pages:
        urls, default = _alternates(page)
        lastmod = _lastmod(page.lastmod)
        for lang in urls:
            entry = etree.SubElement(root, f"{{{SITEMAP_NS}}}url")
            etree.SubElement(entry, f"{{{SITEMAP_NS}}}loc").text = urls[lang]
            if lastmod:
                etree.SubElement(entry, f"{{{SITEMAP_NS}}}lastmod").text = lastmod
            for other, href in [*urls.items(), ("x-default", default)]:
                etree.SubElement(entry, f"{{{XHTML_NS}}}link", rel="alternate", hreflang=other, href=href)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def sitemap_index(parts: int) -> bytes:
    """A sitemaps.org 0.9 <sitemapindex> of /sitemap-1.xml … /sitemap-<parts>.xml."""
    root = etree.Element(f"{{{SITEMAP_NS}}}sitemapindex", nsmap={None: SITEMAP_NS})
    for number in range(1, parts + 1):
        entry = etree.SubElement(root, f"{{{SITEMAP_NS}}}sitemap")
        loc = _absolute(url_for("seo.sitemap_part", number=number))
        etree.SubElement(entry, f"{{{SITEMAP_NS}}}loc").text = loc
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _xml(body: bytes) -> Response:
    response = Response(body, mimetype="application/xml")
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response


def _record_parts() -> int:
    """How many record chunks the index form has (0 when the single-file form is used)."""
    total = record_count()
    size = _page_size()
    return 0 if total <= size else math.ceil(total / size)


@bp_seo.get("/sitemap.xml")
def sitemap():
    """The sitemap: every public page in every language, or the index of its parts when records are many."""
    parts = _record_parts()
    if parts:
        return _xml(sitemap_index(1 + parts))
    return _xml(urlset([*site_pages(), *record_pages()]))


@bp_seo.get("/sitemap-<int:number>.xml")
def sitemap_part(number: int):
    """One part of a sitemap index: 1 is the site's pages, 2 onwards the records."""
    parts = _record_parts()
    if not parts or number < 1 or number > 1 + parts:
        abort(404)
    if number == 1:
        return _xml(urlset(site_pages()))
    return _xml(urlset(record_pages(number - 1)))


@bp_seo.get("/robots.txt")
def robots():
    """What crawlers may visit: the public site, not the account, administration or editing pages."""
    prefixes = ["", *(f"/{lang}" for lang in current_app.config["LANGUAGES"])]
    lines = ["User-agent: *", "Allow: /"]
    lines += [f"Disallow: {prefix}{path}" for path in DISALLOWED for prefix in prefixes]
    lines += ["", f"Sitemap: {_absolute(url_for('seo.sitemap'))}", ""]
    response = Response("\n".join(lines), mimetype="text/plain")
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response
