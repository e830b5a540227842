"""Metadata downloads beyond the record page's own: citations of one record (BibTeX, CSL-JSON) and
exports of a whole search result in five formats.

Per record (same access rule and caching as the record's other downloads in
:mod:`archive.records.views`)::

    /records/<id>/citation.bib    BibTeX @misc entry            application/x-bibtex
    /records/<id>/citation.json   CSL-JSON (array of one item)  application/vnd.citationstyles.csl+json

Per search: ``/search/export.<fmt>`` takes the parameters of the search page (``q``, the facets,
``sort``; ``page`` is checked but the export always starts at the first result) and answers with at
most ``EXPORT_LIMIT`` records the caller may see, in search order:

``xml``
    Simple Dublin Core. The wrapper is an element ``records`` in no namespace, with the attributes
    ``total`` (matches of the search), ``count`` (records in the file), ``limit`` and ``truncated``
    (``true``/``false``); it holds one ``oai_dc:dc`` element per record, each valid against
    oai_dc.xsd, like ``/records/<id>/dc.xml``.
``jsonld``
    One JSON-LD document with a shared ``@context`` and a ``@graph`` of the records' nodes.
``csv``
    The archive's CSV import format, one row per record.
``bib``
    BibTeX entries; a leading ``@comment`` says when the list was cut.
``csl.json``
    A CSL-JSON array.

Every search export carries ``X-Total-Count`` (matches of the search, the number the search page
shows), ``X-Export-Count`` and ``X-Export-Truncated``. The rules end in a file extension, so they are
language neutral; the citation's title is chosen in the request's language (``?lang=``, cookie,
Accept-Language).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Response, abort, current_app, render_template
from flask_babel import gettext as _
from flask_login import current_user
from lxml import etree
from sqlalchemy import select
from werkzeug.exceptions import BadRequest

from archive.core.access import can_view_record, search_viewer, today_in_vietnam
from archive.core.extensions import db
from archive.core.i18n import current_language, language_neutral
from archive.records import services
from archive.records.csv_import import export_csv
from archive.records.models import HeritageRecord
from archive.records.views import _download, _load
from archive.search import service as search_service
from archive.search.views import (
    RETRY_AFTER_SECONDS,
    InvalidSearch,
    SearchParams,
    _parse_params,
    _refusal,
    _unavailable_message,
)
from metadata.citation import (
    CSL_JSON_MIMETYPE,
    bibtex_document,
    csl_json_document,
    to_bibtex,
    to_csl_json,
)
from metadata.dublin_core import JSONLD_CONTEXT, to_jsonld, to_oai_dc
from metadata.model import RecordDescription

logger = logging.getLogger(__name__)

bp = Blueprint("exports", __name__)

#: Most records in one search export when the configuration does not say (``EXPORT_LIMIT``).
DEFAULT_EXPORT_LIMIT = 1000
BIBTEX_MIMETYPE = "application/x-bibtex; charset=utf-8"


def _issued(record: HeritageRecord) -> dt.date | None:
    """When the archive published the record (as the "Cite this record" text says): the citation year."""
    when = record.published_at or record.created_at
    return when.date() if when else None


def _cite(build: Callable, record: HeritageRecord):
    """*build* (to_bibtex or to_csl_json) for *record*, accessed today, in the reader's language."""
    return build(
        services.describe(record),
        issued=_issued(record),
        accessed=today_in_vietnam(),
        lang=current_language(),
    )


def _by_language(response: Response) -> Response:
    """A citation's title follows the reader's language, which ?lang=, the cookie or the browser give."""
    response.vary.update(("Accept-Language", "Cookie"))
    return response


@bp.get("/records/<public_id>/citation.bib")
def record_bibtex(public_id: str):
    """The record's citation as a BibTeX entry."""
    record = _load(public_id)
    entry = _cite(to_bibtex, record)
    return _by_language(_download(entry.encode("utf-8"), BIBTEX_MIMETYPE, f"{record.public_id}.bib", record))


@bp.get("/records/<public_id>/citation.json")
def record_csl_json(public_id: str):
    """The record's citation as CSL-JSON (an array of one item, as reference managers import it)."""
    record = _load(public_id)
    item = _cite(to_csl_json, record)
    return _by_language(
        _download(csl_json_document([item]), CSL_JSON_MIMETYPE, f"{record.public_id}-citation.json", record)
    )


# --- exports of a search result ------------------------------------------------------------------


@dataclass(frozen=True)
class ExportedSearch:
    """The records of one search export, in search order, and how many the search matched."""

    records: list[HeritageRecord]
    total: int
    limit: int

    @property
    def truncated(self) -> bool:
        """True when the limit left matches out."""
        return self.total > self.limit


@dataclass(frozen=True)
class ExportFormat:
    """One file format of the search export: its media type, file extension and writer."""

    mimetype: str
    extension: str
    write: Callable[[ExportedSearch], bytes]


def _descriptions(export: ExportedSearch) -> list[RecordDescription]:
    return [services.describe(record) for record in export.records]


def _write_xml(export: ExportedSearch) -> bytes:
    root = etree.Element("records")
    root.set("total", str(export.total))
    root.set("count", str(len(export.records)))
    root.set("limit", str(export.limit))
    root.set("truncated", "true" if export.truncated else "false")
    for description in _descriptions(export):
        root.append(to_oai_dc(description))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _write_jsonld(export: ExportedSearch) -> bytes:
    graph = []
    for description in _descriptions(export):
        node = to_jsonld(description)
        node.pop("@context", None)
        graph.append(node)
    return json.dumps({"@context": JSONLD_CONTEXT, "@graph": graph}, ensure_ascii=False, indent=2).encode(
        "utf-8"
    )


def _write_csv(export: ExportedSearch) -> bytes:
    return export_csv(export.records).encode("utf-8")


def _write_bibtex(export: ExportedSearch) -> bytes:
    entries = [_cite(to_bibtex, record) for record in export.records]
    comment = ""
    if export.truncated:
        comment = (
            f"The search matched {export.total} records; this file holds the first {len(export.records)} "
            f"(export limit {export.limit})."
        )
    return bibtex_document(entries, comment)


def _write_csl_json(export: ExportedSearch) -> bytes:
    return csl_json_document(_cite(to_csl_json, record) for record in export.records)


#: The formats of ``/search/export.<fmt>``.
FORMATS: dict[str, ExportFormat] = {
    "xml": ExportFormat("application/xml", "xml", _write_xml),
    "jsonld": ExportFormat("application/ld+json", "jsonld", _write_jsonld),
    "csv": ExportFormat("text/csv; charset=utf-8", "csv", _write_csv),
    "bib": ExportFormat(BIBTEX_MIMETYPE, "bib", _write_bibtex),
    "csl.json": ExportFormat(CSL_JSON_MIMETYPE, "csl.json", _write_csl_json),
}


def export_limit() -> int:
    """Most records in one search export (``EXPORT_LIMIT``, default 1000)."""
    return int(current_app.config.get("EXPORT_LIMIT", DEFAULT_EXPORT_LIMIT))


def _refused(message: str) -> BadRequest:
    error = BadRequest(message)
    error.translated = True  # type: ignore[attr-defined]  # archive.core.errors shows the message
    return error


class SearchUnavailable(Exception):
    """The search index is being rebuilt: no export can be made right now."""


def exported_search(params: SearchParams, limit: int) -> ExportedSearch:
    """The first *limit* records of the search that the current person may see, in search order.

    Raises InvalidSearch for a search the service refuses, SearchUnavailable while the index is
    rebuilt."""
    try:
        result = search_service.search_records(
            params.q, filters=params.filters, sort=params.sort, page=1, per_page=limit, viewer=search_viewer()
        )
    except search_service.IndexUnavailable:
        raise SearchUnavailable from None
    except ValueError as exc:
        raise _refusal(exc, params) from None
    if result.unavailable:
        raise SearchUnavailable
    wanted = [hit.public_id for hit in result.hits]
    loaded = {
        r.public_id: r
        for r in db.session.scalars(
            services._eager(select(HeritageRecord).where(HeritageRecord.public_id.in_(wanted)))
        )
    }
    # The index decides what matches; the one access policy decides, once more, what is shown.
    records = [loaded[p] for p in wanted if p in loaded and can_view_record(loaded[p])]
    return ExportedSearch(records=records, total=result.total, limit=limit)


@bp.get("/search/export.<fmt>")
@language_neutral
def search_export(fmt: str):
    """The records of a search (the search page's parameters) as a file in one of :data:`FORMATS`."""
    chosen = FORMATS.get(fmt)
    if chosen is None:
        abort(404)
    try:
        params = _parse_params()
        export = exported_search(params, export_limit())
    except InvalidSearch as problem:
        raise _refused(problem.message) from None
    except SearchUnavailable:
        return _unavailable()
    response = Response(chosen.write(export), mimetype=chosen.mimetype)
    filename = f"search-{today_in_vietnam().isoformat()}.{chosen.extension}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Total-Count"] = str(export.total)
    response.headers["X-Export-Count"] = str(len(export.records))
    response.headers["X-Export-Truncated"] = "true" if export.truncated else "false"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "X-Total-Count, X-Export-Count, X-Export-Truncated"
    if current_user.is_authenticated:
        response.headers["Cache-Control"] = "private"
    return _by_language(response)


def _unavailable() -> Response:
    """503 with the search page's message while the index is rebuilt; the client may retry."""
    body = render_template(
        "errors/error.html", code=503, title=_("Something went wrong"), message=_unavailable_message()
    )
    response = Response(body, status=503, mimetype="text/html")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response
