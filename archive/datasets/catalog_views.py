"""The DCAT-AP catalogue (Turtle, JSON-LD) and the Frictionless datapackage.json of each version.

Open-data files for machines: language-neutral, public (only public datasets and their published
versions appear; drafts never do, not even for curators), cacheable for a few minutes, with an ETag
and ``Access-Control-Allow-Origin: *``. Identifiers are absolute URLs under ``BASE_URL``.
"""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, abort, current_app, redirect, request, url_for
from sqlalchemy import select

from archive.core.extensions import db
from archive.datasets import services
from archive.datasets.models import Dataset, DatasetVersion
from archive.vocab.models import Place
from metadata import datapackage, dcat
from metadata.languages import LangString

bp = Blueprint("dcat", __name__)

#: Shared caches and browsers may keep these files this long (a new version appears within minutes).
CACHE_CONTROL = "public, max-age=300"
TURTLE = "text/turtle; charset=utf-8"
JSONLD = "application/ld+json"
CATALOG_TITLE = [
    LangString("Danh mục dữ liệu mở của kho lưu trữ di sản lễ hội các dân tộc thiểu số", "vi"),
    LangString("Open data catalogue of the ethnic-minority festival heritage archive", "en"),
]
CATALOG_DESCRIPTION = [
    LangString(
        "Các bộ dữ liệu mở về việc thực hiện, theo dõi và đánh giá Chương trình: số liệu tổng hợp từ các"
        " báo cáo đã công bố và số liệu tạo từ các hồ sơ của kho lưu trữ, kèm lược đồ bảng và tổng kiểm.",
        "vi",
    ),
    LangString(
        "Open datasets about the programme's implementation, monitoring and evaluation: figures compiled from"
        " published reporting and figures generated from the archive's records, with table schemas and"
        " checksums.",
        "en",
    ),
]


# --- addresses ---------------------------------------------------------------------------------------


def _base() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def catalog_uri() -> str:
    """The catalogue's URI."""
    return f"{_base()}/catalog"


def dataset_uri(dataset: Dataset) -> str:
    """A dataset's stable URI (its page, without a language prefix)."""
    return f"{_base()}/datasets/{dataset.slug}"


def version_uri(dataset: Dataset, version: DatasetVersion) -> str:
    """A version's stable URI."""
    return f"{dataset_uri(dataset)}/v{version.number}"


def datapackage_url(dataset: Dataset, version: DatasetVersion) -> str:
    """The absolute URL of a version's datapackage.json."""
    return f"{version_uri(dataset, version)}/datapackage.json"


def download_url(dataset: Dataset, version: DatasetVersion, name: str, fmt: str) -> str:
    """The absolute URL of one table of a version in one format."""
    return f"{version_uri(dataset, version)}/{name}.{fmt}"


def _pages(path: str) -> dict[str, str]:
    return {lang: f"{_base()}/{lang}{path}" for lang in current_app.config["LANGUAGES"]}


def _publisher(dataset: Dataset) -> dcat.Agent:
    names = dataset.publisher_values
    if not names:
        return _archive_agent()
    if dataset.publisher_uri:
        return dcat.Agent(dataset.publisher_uri, names)
    main = next((v.value for v in names if v.lang == "vi"), names[0].value)
    if main == current_app.config["PUBLISHER"]:
        return dcat.Agent(_archive_agent().uri, names)
    digest = hashlib.sha256(main.strip().lower().encode("utf-8")).hexdigest()[:12]
    return dcat.Agent(f"{catalog_uri()}#publisher-{digest}", names)


def _archive_agent() -> dcat.Agent:
    return dcat.Agent(f"{catalog_uri()}#publisher", [LangString(current_app.config["PUBLISHER"], "vi")])


# --- describing ----------------------------------------------------------------------------------------


def _place_names(codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = db.session.execute(select(Place.code, Place.name).where(Place.code.in_(codes)))
    return {code: name for code, name in rows}


def _version(dataset: Dataset, version: DatasetVersion) -> dcat.VersionDescription:
    path = f"/datasets/{dataset.slug}/v{version.number}"
    return dcat.VersionDescription(
        uri=version_uri(dataset, version),
        number=version.number,
        issued=version.published_at,
        notes=version.notes_values,
        datapackage_url=datapackage_url(dataset, version),
        landing_pages=_pages(path),
        tables=[
            dcat.TableDistribution(
                name=table.name,
                title=table.title_values,
                downloads={
                    fmt: download_url(dataset, version, table.name, fmt) for fmt in dcat.DISTRIBUTION_FORMATS
                },
                byte_size=table.byte_size,
                sha256=table.sha256,
            )
            for table in version.tables
        ],
    )


def describe_dataset(dataset: Dataset, place_names: dict[str, str]) -> dcat.DatasetDescription:
    """The catalogue's description of one public dataset."""
    versions = dataset.published_versions
    latest = versions[-1]
    return dcat.DatasetDescription(
        uri=dataset_uri(dataset),
        title=dataset.title_values,
        description=dataset.description_values,
        publisher=_publisher(dataset),
        license_uri=dataset.license_uri,
        versions=[_version(dataset, v) for v in versions],
        modified=max(latest.published_at, dataset.updated_at or latest.published_at),
        contact_name=dataset.contact_name,
        contact_email=dataset.contact_email,
        themes=list(dataset.themes or ()),
        keywords=dataset.keyword_values,
        temporal_start=dataset.temporal_start,
        temporal_end=dataset.temporal_end,
        places=[(f"{_base()}/places/{code}", place_names.get(code, "")) for code in dataset.spatial or ()],
        frequency=dataset.accrual_periodicity,
        landing_pages=_pages(f"/datasets/{dataset.slug}"),
    )


def catalog_graph():
    """The DCAT-AP graph of every public dataset."""
    datasets = services.public_datasets()
    names = _place_names({code for d in datasets for code in d.spatial or ()})
    described = [describe_dataset(d, names) for d in datasets]
    return dcat.build_catalog(
        dcat.CatalogDescription(
            uri=catalog_uri(),
            title=CATALOG_TITLE,
            description=CATALOG_DESCRIPTION,
            publisher=_archive_agent(),
            homepage=f"{_base()}/datasets",
            datasets=described,
            modified=max((d.modified for d in described), default=None),
        )
    )


def describe_package(dataset: Dataset, version: DatasetVersion) -> datapackage.PackageDescription:
    """What datapackage.json says about one published version."""
    return datapackage.PackageDescription(
        name=dataset.slug,
        number=version.number,
        title=dataset.title_values,
        description=dataset.description_values,
        license_uri=dataset.license_uri,
        published=version.published_at,
        homepage=f"{_base()}/datasets/{dataset.slug}/v{version.number}",
        id=version_uri(dataset, version),
        publisher=_publisher(dataset).names,
        publisher_uri=dataset.publisher_uri,
        contact_name=dataset.contact_name,
        contact_email=dataset.contact_email,
        keywords=dataset.keyword_values,
        notes=version.notes_values,
        origin=dataset.origin,
        origin_url=f"{_base()}/" if dataset.origin == "generated" else None,
        checksum=version.checksum,
        temporal_start=dataset.temporal_start,
        temporal_end=dataset.temporal_end,
        spatial=[f"{_base()}/places/{code}" for code in dataset.spatial or ()],
        tables=[
            datapackage.PackageTable(
                name=table.name,
                title=table.title_values,
                path=download_url(dataset, version, table.name, "csv"),
                byte_size=table.byte_size,
                sha256=table.sha256,
                schema=table.table_schema,
                provenance=table.provenance_values,
            )
            for table in version.tables
        ],
    )


# --- serving -----------------------------------------------------------------------------------------


def _open_file(body: str, content_type: str) -> Response:
    data = body.encode("utf-8")
    response = Response(data, content_type=content_type)
    response.set_etag(hashlib.sha256(data).hexdigest()[:32])
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag"
    return response.make_conditional(request)


def _public(slug: str) -> Dataset:
    dataset = services.get_by_slug(slug)
    if dataset is None or not dataset.is_public:
        abort(404)
    return dataset


@bp.get("/catalog")
def catalog():
    """The catalogue's URI: 303 to its Turtle or JSON-LD file, as the client's Accept header prefers."""
    best = request.accept_mimetypes.best_match(["text/turtle", "application/ld+json", "application/json"])
    endpoint = (
        "dcat.catalog_jsonld"
        if best in ("application/ld+json", "application/json")
        else "dcat.catalog_turtle"
    )
    response = redirect(url_for(endpoint), 303)
    response.vary.add("Accept")
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/catalog.ttl")
def catalog_turtle():
    """The DCAT-AP 3.0 catalogue of the public datasets, in Turtle."""
    return _open_file(dcat.to_turtle(catalog_graph()), TURTLE)


@bp.get("/catalog.jsonld")
def catalog_jsonld():
    """The DCAT-AP 3.0 catalogue of the public datasets, in JSON-LD."""
    return _open_file(dcat.to_jsonld(catalog_graph()), JSONLD)


@bp.get("/datasets/<slug>/v<int:number>/datapackage.json", endpoint="datapackage")
def datapackage_json(slug: str, number: int):
    """The Frictionless Data Package descriptor of one published version."""
    dataset = _public(slug)
    version = services.version_of(dataset, number)
    if version is None or not version.is_published:
        abort(404)
    descriptor = datapackage.build_datapackage(describe_package(dataset, version))
    return _open_file(json.dumps(descriptor, ensure_ascii=False, indent=1), "application/json")


@bp.get("/datasets/<slug>/datapackage.json")
def datapackage_latest(slug: str):
    """The descriptor of the latest published version: a short-lived redirect to its versioned address."""
    dataset = _public(slug)
    response = redirect(
        url_for("dcat.datapackage", slug=dataset.slug, number=dataset.latest_version.number), 302
    )
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
