"""The open datasets in the JSON API: the list, a dataset, a version, a table's schema and its rows.

Routes of the ``api`` blueprint (so the same token handling, CORS, rate limits and JSON errors apply).
Only public datasets and their published versions are answered; drafts and withdrawn datasets are 404
for every caller, as on the pages. Rows take the preview's arguments (``q``, ``f.<field>``, ``sort``,
``desc``) and are paged by ``offset`` and ``limit`` with ``next``/``prev`` links.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, request

from archive.api.serializers import _absolute, lang_values
from archive.api.views import ApiError, _int_arg, _listed, _not_found, _paging, bp
from archive.core.i18n import current_language, language_neutral
from archive.datasets import services
from archive.datasets import views as pages
from archive.datasets.models import Dataset, DatasetTable, DatasetVersion
from metadata import tables

#: Rows per answer unless ``limit`` says otherwise, and the most ``limit`` may ask for.
DEFAULT_ROW_LIMIT = 100
MAX_ROW_LIMIT = 1000
#: The largest ``offset`` accepted (tables hold at most DATASET_MAX_ROWS rows).
MAX_OFFSET = 10_000_000


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _downloads(dataset: Dataset, version: DatasetVersion, table: DatasetTable) -> dict[str, str]:
    return {
        fmt: _absolute(
            "datasets.download", slug=dataset.slug, number=version.number, name=table.name, fmt=fmt
        )
        for fmt in pages.FORMATS
    }


def table_summary(dataset: Dataset, version: DatasetVersion, table: DatasetTable) -> dict:
    """A table as listed in a version: name, title, size, checksum and links."""
    keys = {"slug": dataset.slug, "number": version.number, "name": table.name}
    return {
        "name": table.name,
        "title": lang_values(table.title_values),
        "row_count": table.row_count,
        "byte_size": table.byte_size,
        "sha256": table.sha256,
        "links": {
            "self": _absolute("api.dataset_table", **keys),
            "rows": _absolute("api.dataset_rows", **keys),
            "html": _absolute("datasets.table", **keys, _lang="vi"),
            "downloads": _downloads(dataset, version, table),
        },
    }


def version_detail(dataset: Dataset, version: DatasetVersion) -> dict:
    """A published version: number, date, notes, checksum and its tables."""
    links = {
        "self": _absolute("api.dataset_version", slug=dataset.slug, number=version.number),
        "html": _absolute("datasets.version", slug=dataset.slug, number=version.number, _lang="vi"),
    }
    if "dcat.datapackage" in current_app.view_functions:
        links["datapackage"] = _absolute("dcat.datapackage", slug=dataset.slug, number=version.number)
    return {
        "number": version.number,
        "published_at": _iso(version.published_at),
        "notes": lang_values(version.notes_values),
        "checksum": version.checksum,
        "tables": [table_summary(dataset, version, t) for t in version.tables],
        "links": links,
    }


def dataset_summary(dataset: Dataset) -> dict:
    """A dataset as listed: slug, titles, origin, themes, licence, latest version and links."""
    latest = dataset.latest_version
    return {
        "slug": dataset.slug,
        "title": lang_values(dataset.title_values),
        "description": lang_values(dataset.description_values),
        "publisher": lang_values(dataset.publisher_values),
        "origin": dataset.origin,
        "themes": list(dataset.themes or []),
        "license": dataset.license_uri,
        "latest_version": latest.number,
        "updated_at": _iso(latest.published_at),
        "links": {
            "self": _absolute("api.dataset", slug=dataset.slug),
            "html": _absolute("datasets.dataset", slug=dataset.slug, _lang="vi"),
        },
    }


def dataset_detail(dataset: Dataset) -> dict:
    """A dataset in full: its description, coverage, every published version and the latest one's tables."""
    body = dataset_summary(dataset)
    body.update(
        {
            "publisher_uri": dataset.publisher_uri,
            "contact": {"name": dataset.contact_name, "email": dataset.contact_email},
            "keywords": lang_values(dataset.keyword_values),
            "temporal": {"start": _iso(dataset.temporal_start), "end": _iso(dataset.temporal_end)},
            "spatial": list(dataset.spatial or []),
            "ethnic_groups": list(dataset.ethnic_groups or []),
            "accrual_periodicity": dataset.accrual_periodicity,
            "versions": [
                {
                    "number": v.number,
                    "published_at": _iso(v.published_at),
                    "checksum": v.checksum,
                    "self": _absolute("api.dataset_version", slug=dataset.slug, number=v.number),
                }
                for v in dataset.published_versions
            ],
            "latest": version_detail(dataset, dataset.latest_version),
        }
    )
    return body


# --- finding --------------------------------------------------------------------------------------


def _dataset(slug: str) -> Dataset:
    found = pages.public_dataset(slug)
    if found is None:
        raise _not_found()
    return found


def _version(slug: str, number: int) -> tuple[Dataset, DatasetVersion]:
    found = _dataset(slug)
    version = pages.published_version(found, number)
    if version is None:
        raise _not_found()
    return found, version


def _table(slug: str, number: int, name: str) -> tuple[Dataset, DatasetVersion, DatasetTable]:
    found, version = _version(slug, number)
    table = version.table(name)
    if table is None:
        raise _not_found()
    return found, version, table


# --- routes ---------------------------------------------------------------------------------------


@bp.get("/datasets")
@language_neutral
def datasets():
    """The public datasets, most recently published first."""
    page, per_page = _paging()
    return _listed(services.public_datasets(), dataset_summary, page, per_page)


@bp.get("/datasets/<slug>")
@language_neutral
def dataset(slug: str):
    """One dataset: its description, versions and the latest version's tables with download links."""
    return current_app.json.response(dataset_detail(_dataset(slug)))


@bp.get("/datasets/<slug>/versions/<int:number>")
@language_neutral
def dataset_version(slug: str, number: int):
    """One published version of a dataset, with its tables."""
    found, version = _version(slug, number)
    return current_app.json.response(version_detail(found, version))


@bp.get("/datasets/<slug>/versions/<int:number>/tables/<name>")
@language_neutral
def dataset_table(slug: str, number: int, name: str):
    """One table: its Table Schema (field titles in the request's language), chart setting and links."""
    found, version, table = _table(slug, number, name)
    body = table_summary(found, version, table)
    body["schema"] = tables.public_schema(table.table_schema, current_language().split("-")[0])
    body["chart"] = table.chart
    body["provenance"] = lang_values(table.provenance_values)
    return current_app.json.response(body)


def _rows_url(offset: int, limit: int) -> str:
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in ("offset", "limit")]
    return f"{request.base_url}?{urlencode([*args, ('offset', offset), ('limit', limit)])}"


@bp.get("/datasets/<slug>/versions/<int:number>/tables/<name>/rows")
@language_neutral
def dataset_rows(slug: str, number: int, name: str):
    """A table's rows as objects with typed values, filtered and sorted like the preview."""
    _found, _version_, table = _table(slug, number, name)
    offset = _int_arg("offset", 0, 0, MAX_OFFSET)
    limit = _int_arg("limit", DEFAULT_ROW_LIMIT, 1, MAX_ROW_LIMIT)
    content = services.table_content(table)
    try:
        wanted = pages.read_filter(request.args, content.names)
    except pages.PreviewArgumentError as exc:
        raise ApiError(400, exc.code, exc.message) from None
    indexes = tables.filter_rows(content.names, content.rows, content.raw, wanted)
    chosen = [content.rows[i] for i in indexes[offset : offset + limit]]
    links = {"first": _rows_url(0, limit)}
    if offset > 0:
        links["prev"] = _rows_url(max(0, offset - limit), limit)
    if offset + limit < len(indexes):
        links["next"] = _rows_url(offset + limit, limit)
    response = current_app.json.response(
        {
            "fields": content.names,
            "items": list(tables.keyed_rows(content.names, chosen)),
            "offset": offset,
            "limit": limit,
            "total": len(indexes),
            "links": links,
        }
    )
    response.headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items())
    return response
