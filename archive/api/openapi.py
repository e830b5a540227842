"""The OpenAPI 3.1 description of the JSON API, built in code and served at ``/api/v1/openapi.json``.

tests/api/test_openapi.py keeps it true: every route of the ``api`` blueprint is described and every
described operation exists, and real answers validate against the schemas; schemathesis checks the
rest (tests/api/test_schemathesis.py). Change the two together.
"""

from __future__ import annotations

from typing import Any

from archive.records.models import ACCESS_LEVELS, STATUSES, TEXT_FIELDS
from archive.search.base import FACETS, SORTS
from archive.vocab.models import AGENT_KINDS, AGENT_ROLES
from metadata.categories import CATEGORIES

PREFIX = "/api/v1"
MAX_PER_PAGE = 100


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
URL = {"type": "string", "format": "uri"}
DATETIME = {"type": "string", "format": "date-time"}
LANG_VALUES = {"type": "array", "items": _ref("LangValue")}


def _object(properties: dict, required: list[str] | None = None, extra: bool = False) -> dict:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    schema["required"] = list(properties) if required is None else required
    if not extra:
        schema["additionalProperties"] = False
    return schema


def _page_of(item: str) -> dict:
    return _object(
        {
            "items": {"type": "array", "items": _ref(item)},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 1},
            "links": _ref("PageLinks"),
        }
    )


def _schemas() -> dict[str, Any]:
    lang_value = _object({"lang": STRING, "value": STRING})
    record_links = _object({"self": URL, "html": URL, "media": URL}, required=["self", "html"])
    record_summary_properties = {
        "id": STRING,
        "slug": STRING,
        "status": {"type": "string", "enum": list(STATUSES)},
        "category": {"type": "string", "enum": list(CATEGORIES)},
        "title": LANG_VALUES,
        "summary": LANG_VALUES,
        "ethnic_groups": {"type": "array", "items": STRING, "description": "Ethnic group slugs."},
        "places": {"type": "array", "items": STRING, "description": "Place codes."},
        "published_at": _nullable(DATETIME),
        "updated_at": DATETIME,
        "version": {"type": "integer", "description": "The record's version, as its ETag."},
        "links": record_links,
    }
    timing = _object(
        {
            "calendar": {"type": "string", "enum": ["lunar", "gregorian"]},
            "month": {"type": "integer", "minimum": 1, "maximum": 12},
            "day": _nullable({"type": "integer", "minimum": 1, "maximum": 31}),
            "leap": {"type": "boolean"},
            "duration_days": {"type": "integer", "minimum": 1, "maximum": 60},
            "note": LANG_VALUES,
        }
    )
    documented_date = _object(
        {
            "kind": {"type": "string", "enum": ["recorded", "held"]},
            "start": {"type": "string", "format": "date"},
            "end": _nullable({"type": "string", "format": "date"}),
        }
    )
    agent_role = _object(
        {
            "name": STRING,
            "role": {"type": "string", "enum": list(AGENT_ROLES)},
            "kind": {"type": "string", "enum": list(AGENT_KINDS)},
        }
    )
    record_detail = _object(
        {
            **record_summary_properties,
            "texts": _object({name: LANG_VALUES for name in TEXT_FIELDS}),
            "access_level": {"type": "string", "enum": list(ACCESS_LEVELS)},
            "collections": {"type": "array", "items": STRING},
            "subjects": {"type": "array", "items": LANG_VALUES},
            "agents": {"type": "array", "items": agent_role},
            "timings": {"type": "array", "items": timing},
            "dates": {"type": "array", "items": documented_date},
            "rights": _nullable(
                _object({"uri": STRING, "holder": _nullable(STRING), "consent_note": LANG_VALUES})
            ),
            "media": {"type": "array", "items": _ref("Media")},
            "jsonld": {
                "type": "object",
                "description": "The Dublin Core description as JSON-LD (dcterms and schema.org).",
                "required": ["@context", "@id", "@type"],
            },
        }
    )
    caption_link = _object(
        {
            "lang": STRING,
            "kind": {"type": "string", "enum": ["captions", "subtitles", "transcript"]},
            "label": STRING,
            "url": URL,
        }  # fmt: skip
    )
    media = _object(
        {
            "id": STRING,
            "record": STRING,
            "kind": {"type": "string", "enum": ["image", "audio", "video"]},
            "mime_type": STRING,
            "state": {"type": "string", "enum": ["pending", "processing", "ready", "failed"]},
            "width": _nullable(INTEGER),
            "height": _nullable(INTEGER),
            "duration_seconds": _nullable({"type": "number"}),
            "size_bytes": INTEGER,
            "caption": LANG_VALUES,
            "is_illustration": {"type": "boolean"},
            "created_at": DATETIME,
            "links": _object(
                {
                    "self": URL,
                    "record": URL,
                    "original": URL,
                    "renditions": {"type": "object", "additionalProperties": URL},
                    "iiif_image": {**URL, "description": "The IIIF Image API 3.0 info.json."},
                    "captions": {"type": "array", "items": caption_link},
                },
                required=["self", "record"],
            ),
        }
    )
    ethnic_group = _object(
        {
            "slug": STRING,
            "gso_code": STRING,
            "name": LANG_VALUES,
            "other_names": {"type": "array", "items": STRING},
            "subgroups": {"type": "array", "items": STRING},
            "language_family": STRING,
            "languages": {"type": "array"},
            "population_2019": _nullable(INTEGER),
            "description": LANG_VALUES,
            "links": _object({"html": URL}),
        }
    )
    place = _object(
        {
            "code": STRING,
            "system": {"type": "string", "enum": ["2025", "pre2025"]},
            "level": STRING,
            "name": STRING,
            "full_name": STRING,
            "label": STRING,
            "parent": _nullable(STRING),
            "current_province": _nullable(STRING),
            "latitude": _nullable({"type": "number"}),
            "longitude": _nullable({"type": "number"}),
        }
    )
    category = _object({"code": STRING, "label": LANG_VALUES, "dcmi_type": STRING})
    agent = _object(
        {
            "slug": STRING,
            "name": STRING,
            "kind": {"type": "string", "enum": list(AGENT_KINDS)},
            "other_names": {"type": "array", "items": STRING},
            "ethnic_group": _nullable(STRING),
            "is_expert": {"type": "boolean"},
        }
    )
    collection = _object(
        {
            "slug": STRING,
            "title": LANG_VALUES,
            "description": LANG_VALUES,
            "record_count": {"type": "integer", "minimum": 0},
            "links": _object({"self": URL, "records": URL, "html": URL}),
        }
    )
    exhibit_properties = {
        "slug": STRING,
        "title": LANG_VALUES,
        "introduction": LANG_VALUES,
        "featured": {"type": "boolean"},
        "cover": _nullable(_ref("Media")),
        "links": _object({"self": URL, "html": URL}),
    }
    exhibit_record = _object({**record_summary_properties, "note": LANG_VALUES})
    section = _object(
        {
            "kind": {"type": "string", "enum": ["narrative", "records", "image", "excerpt"]},
            "heading": LANG_VALUES,
            "body_markdown": LANG_VALUES,
            "caption": LANG_VALUES,
            "alt": LANG_VALUES,
            "region": _nullable(STRING),
            "start_seconds": _nullable({"type": "number"}),
            "end_seconds": _nullable({"type": "number"}),
            "records": {"type": "array", "items": exhibit_record},
            "media": _nullable(_ref("Media")),
        }
    )
    hit = _object(
        {
            "public_id": STRING,
            "url": _nullable(STRING),
            "title": STRING,
            "title_lang": _nullable(STRING),
            "category": STRING,
            "snippet_html": STRING,
            "ethnic_groups": {"type": "array", "items": STRING},
            "places": {"type": "array", "items": STRING},
            "media_types": {"type": "array", "items": STRING},
            "thumbnail_url": _nullable(STRING),
            "date": _nullable(STRING),
        }
    )
    facet = _object(
        {
            "name": {"type": "string", "enum": list(FACETS)},
            "label": STRING,
            "values": {
                "type": "array",
                "items": _object(
                    {"key": STRING, "label": STRING, "count": INTEGER, "selected": {"type": "boolean"}}
                ),
            },
        }
    )
    search_result = _object(
        {
            "query": STRING,
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "pages": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "sort": {"type": "string", "enum": list(SORTS)},
            "filters": {"type": "object", "additionalProperties": {"type": "array", "items": STRING}},
            "suggestion": _nullable(STRING),
            "hits": {"type": "array", "items": hit},
            "facets": {"type": "array", "items": facet},
            "type": {"type": "string", "enum": ["records", "datasets"]},
            "datasets": {
                "type": "array",
                "description": "Open datasets matching q (their own type; record filters do not apply).",
                "items": _object(
                    {
                        "slug": STRING,
                        "url": URL,
                        "title": STRING,
                        "description": STRING,
                        "tables": {"type": "integer", "minimum": 0},
                        "rows": {"type": "integer", "minimum": 0},
                        "origin": {"type": "string", "enum": ["compiled", "generated", "uploaded"]},
                    }
                ),
            },
        },
        # A search of datasets (type=datasets) answers query, type, total and datasets only.
        required=["query", "type", "total", "datasets"],
    )
    error = _object(
        {
            "error": _object(
                {
                    "code": STRING,
                    "message": {"type": "string", "description": "In the request's language."},
                    "fields": {
                        "type": "object",
                        "additionalProperties": STRING,
                        "description": "Per-field messages, by input path (texts/title/0/value).",
                    },
                },
                required=["code", "message"],
            )
        }
    )
    page_links = _object({"first": URL, "last": URL, "prev": URL, "next": URL}, required=["first", "last"])
    input_lang_values = {"type": "array", "items": lang_value, "maxItems": 100}
    record_input = _object(
        {
            "texts": {
                "type": "object",
                "properties": {name: input_lang_values for name in TEXT_FIELDS},
                "additionalProperties": False,
                "description": "Multilingual texts; a record needs at least one title.",
            },
            "category": {"type": "string", "enum": list(CATEGORIES)},
            "access_level": {"type": "string", "enum": list(ACCESS_LEVELS)},
            "community": _nullable({"type": "integer", "description": "Community group id."}),
            "ethnic_groups": {"type": "array", "items": STRING, "description": "Slugs or names."},
            "places": {"type": "array", "items": STRING, "description": "Place codes or names."},
            "collections": {"type": "array", "items": STRING, "description": "Collection slugs."},
            "subjects": input_lang_values,
            "agents": {"type": "array", "items": agent_role},
            "timings": {"type": "array", "items": timing},
            "dates": {"type": "array", "items": documented_date},
            "rights_uri": _nullable(URL),
            "rights_holder": _nullable(STRING),
            "consent_note": input_lang_values,
            "labels": {"type": "array", "items": STRING},
            "season": _nullable(
                _object(
                    {
                        "calendar": {"type": "string", "enum": ["lunar", "gregorian"]},
                        "start_month": INTEGER,
                        "start_day": INTEGER,
                        "end_month": INTEGER,
                        "end_day": INTEGER,
                    }
                )
            ),
        },
        required=[],
    )
    datasets = _dataset_schemas()
    return {
        **datasets,
        "LangValue": lang_value,
        "PageLinks": page_links,
        "Error": error,
        "RecordSummary": _object(record_summary_properties),
        "RecordDetail": record_detail,
        "Media": media,
        "EthnicGroup": ethnic_group,
        "Place": place,
        "Category": category,
        "Agent": agent,
        "Collection": collection,
        "ExhibitSummary": _object(exhibit_properties),
        "ExhibitDetail": _object({**exhibit_properties, "sections": {"type": "array", "items": section}}),
        "SearchResult": search_result,
        "RecordInput": record_input,
        "RecordPage": _page_of("RecordSummary"),
        "MediaPage": _page_of("Media"),
        "EthnicGroupPage": _page_of("EthnicGroup"),
        "PlacePage": _page_of("Place"),
        "CategoryPage": _page_of("Category"),
        "AgentPage": _page_of("Agent"),
        "CollectionPage": _page_of("Collection"),
        "ExhibitPage": _page_of("ExhibitSummary"),
    }


def _dataset_schemas() -> dict[str, Any]:
    """The open datasets' shapes (archive.api.dataset_views)."""
    date = {"type": "string", "format": "date"}
    downloads = _object({"csv": URL, "json": URL, "xlsx": URL})
    table_properties = {
        "name": STRING,
        "title": LANG_VALUES,
        "row_count": {"type": "integer", "minimum": 0},
        "byte_size": {"type": "integer", "minimum": 0},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "links": _object({"self": URL, "rows": URL, "html": URL, "downloads": downloads}),
    }
    version = _object(
        {
            "number": {"type": "integer", "minimum": 1},
            "published_at": _nullable(DATETIME),
            "notes": LANG_VALUES,
            "checksum": _nullable(STRING),
            "tables": {"type": "array", "items": _ref("DatasetTable")},
            "links": _object({"self": URL, "html": URL, "datapackage": URL}, required=["self", "html"]),
        }
    )
    summary_properties = {
        "slug": STRING,
        "title": LANG_VALUES,
        "description": LANG_VALUES,
        "publisher": LANG_VALUES,
        "origin": {"type": "string", "enum": ["compiled", "generated", "uploaded"]},
        "themes": {"type": "array", "items": STRING, "description": "EU data-theme codes."},
        "license": URL,
        "latest_version": {"type": "integer", "minimum": 1},
        "updated_at": _nullable(DATETIME),
        "links": _object({"self": URL, "html": URL}),
    }
    detail = _object(
        {
            **summary_properties,
            "publisher_uri": _nullable(STRING),
            "contact": _object({"name": STRING, "email": STRING}),
            "keywords": LANG_VALUES,
            "temporal": _object({"start": _nullable(date), "end": _nullable(date)}),
            "spatial": {"type": "array", "items": STRING, "description": "Place codes of provinces."},
            "ethnic_groups": {"type": "array", "items": STRING, "description": "Ethnic group slugs."},
            "accrual_periodicity": {"type": "string", "description": "EU frequency code."},
            "versions": {
                "type": "array",
                "items": _object(
                    {
                        "number": {"type": "integer", "minimum": 1},
                        "published_at": _nullable(DATETIME),
                        "checksum": _nullable(STRING),
                        "self": URL,
                    }
                ),
            },
            "latest": _ref("DatasetVersion"),
        }
    )
    table_detail = _object(
        {
            **table_properties,
            "schema": {
                "type": "object",
                "description": "The Frictionless Table Schema.",
                "required": ["fields"],
            },
            "chart": _nullable(_object({"label": STRING, "value": STRING})),
            "provenance": LANG_VALUES,
        }
    )
    rows = _object(
        {
            "fields": {"type": "array", "items": STRING},
            "items": {
                "type": "array",
                "items": {"type": "object"},
                "description": "Rows keyed by field name.",
            },
            "offset": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
            "total": {"type": "integer", "minimum": 0},
            "links": _object({"first": URL, "prev": URL, "next": URL}, required=["first"]),
        }
    )
    return {
        "DatasetSummary": _object(summary_properties),
        "DatasetDetail": detail,
        "DatasetVersion": version,
        "DatasetTable": _object(table_properties),
        "DatasetTableDetail": table_detail,
        "DatasetRows": rows,
        "DatasetPage": _page_of("DatasetSummary"),
    }


# --- operations -----------------------------------------------------------------------------------


def _json(schema_name: str, description: str, headers: dict | None = None) -> dict:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ref(schema_name)}},
    }
    if headers:
        response["headers"] = headers
    return response


def _error(description: str) -> dict:
    return _json("Error", description)


LINK_HEADER = {"Link": {"description": "first, prev, next and last pages (RFC 8288).", "schema": STRING}}
ETAG_HEADER = {"ETag": {"description": "The record's version, for If-Match.", "schema": STRING}}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait.", "schema": STRING}}
READ_ERRORS = {
    "400": _error("A parameter is not valid."),
    "401": _error("The API token given is unknown, expired or revoked."),
    "429": _json("Error", "Too many requests.", RETRY_AFTER),
}
WRITE_ERRORS = {
    "400": _error("The body is not a JSON object."),
    "401": _error("No token, or an unknown, expired or revoked one."),
    "403": _error("The token's owner may not do this."),
    "404": _error("No such record, or the caller may not see it."),
    "429": _json("Error", "Too many requests.", RETRY_AFTER),
}
PAGING = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}},
]
READ_SECURITY = [{}, {"bearerAuth": []}]
WRITE_SECURITY = [{"bearerAuth": []}]


def _path_param(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": STRING, "description": description}


def _read(summary: str, schema: str, parameters: list | None = None, *, paged: bool = False,
          not_found: bool = False, headers: dict | None = None, tag: str = "read") -> dict:  # fmt: skip
    responses = {
        "200": _json(schema, "OK", {**(LINK_HEADER if paged else {}), **(headers or {})}),
        **READ_ERRORS,
    }
    if not_found:
        responses["404"] = _error("Nothing here, or the caller may not see it.")
    return {
        "summary": summary,
        "tags": [tag],
        "security": READ_SECURITY,
        "parameters": (parameters or []) + (PAGING if paged else []),
        "responses": responses,
    }


def _paths() -> dict[str, Any]:
    record_id = _path_param("public_id", "The record's public identifier.")
    media_id = _path_param("public_id", "The media file's public identifier.")
    slug = _path_param("slug", "The slug.")
    facet_parameters = [
        {
            "name": name,
            "in": "query",
            "schema": {"type": "array", "items": {"type": "string", "maxLength": 100}, "maxItems": 30},
            "style": "form",
            "explode": True,
            "description": f"Filter by {name} (repeatable), as on the search page.",
        }
        for name in FACETS
    ]
    search = _read(
        "Search records, with the parameters of the search page",
        "SearchResult",
        [
            {"name": "q", "in": "query", "schema": STRING, "description": "Search text."},
            {
                "name": "type",
                "in": "query",
                "schema": {"type": "string", "enum": ["records", "datasets"]},
                "description": "records (default: records, plus the matching datasets) or datasets only.",
            },
            {"name": "sort", "in": "query", "schema": {"type": "string", "enum": list(SORTS)}},
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10_000}},
            *facet_parameters,
        ],
    )
    search["responses"]["503"] = _json("Error", "The index is being rebuilt.", RETRY_AFTER)
    places = _read(
        "Administrative units of both systems",
        "PlacePage",
        [
            {"name": "system", "in": "query", "schema": {"type": "string", "enum": ["2025", "pre2025"]}},
            {"name": "level", "in": "query", "schema": {"type": "string", "maxLength": 20}},
            {
                "name": "q",
                "in": "query",
                "schema": {"type": "string", "maxLength": 100},
                "description": "Part of the name, with or without diacritics.",
            },  # fmt: skip
        ],
        paged=True,
    )
    json_body = {
        "required": True,
        "content": {
            "application/json": {"schema": _ref("RecordInput")},
            "application/merge-patch+json": {"schema": _ref("RecordInput")},
        },
    }
    created = {
        "201": _json("RecordDetail", "Created (a draft).", {**ETAG_HEADER, "Location": {"schema": URL}}),
        **WRITE_ERRORS,
        "409": _error("The record could not be saved."),
        "415": _error("The body is not JSON."),
        "422": _error("Some values are not valid (see error.fields)."),
    }
    created.pop("404")
    updated = {
        "200": _json("RecordDetail", "Saved.", ETAG_HEADER),
        **WRITE_ERRORS,
        "409": _error("The record could not be saved."),
        "412": _error("If-Match does not name the record's current version."),
        "415": _error("The body is not JSON."),
        "422": _error("Some values are not valid (see error.fields)."),
        "428": _error("If-Match is missing."),
    }
    uploaded = {
        "201": _json(
            "Media", "Accepted; renditions are made in the background.", {"Location": {"schema": URL}}
        ),
        **WRITE_ERRORS,
        "409": _error("The same file is already in the archive."),
        "413": _error("The file is too large."),
        "415": _error("This kind of file is not accepted."),
        "422": _error("The file was refused (see error.message)."),
    }
    submitted = {
        "200": _json("RecordDetail", "Submitted for review.", ETAG_HEADER),
        **WRITE_ERRORS,
        "409": _error("The record is not in a state that can be submitted."),
        "415": _error("The body is not JSON."),
        "422": _error("The comment is not a text."),
    }
    return {
        f"{PREFIX}/records": {
            "get": _read(
                "Records the caller may see, newest publication first",
                "RecordPage",
                [
                    {
                        "name": "collection",
                        "in": "query",
                        "schema": STRING,
                        "description": "A collection slug.",
                    }
                ],
                paged=True,
                not_found=True,
            ),
            "post": {
                "summary": "Create a draft record",
                "tags": ["write"],
                "security": WRITE_SECURITY,
                "requestBody": json_body,
                "responses": created,
            },
        },
        f"{PREFIX}/records/{{public_id}}": {
            "get": _read(
                "One record, with its JSON-LD description",
                "RecordDetail",
                [record_id],
                not_found=True,
                headers=ETAG_HEADER,
            ),  # fmt: skip
            "patch": {
                "summary": "Change a draft or returned record (members given replace stored ones)",
                "tags": ["write"],
                "security": WRITE_SECURITY,
                "parameters": [
                    record_id,
                    {
                        "name": "If-Match",
                        "in": "header",
                        "required": True,
                        "schema": STRING,
                        "description": "The ETag read from GET (the record's version).",
                    },  # fmt: skip
                ],
                "requestBody": json_body,
                "responses": updated,
            },
        },
        f"{PREFIX}/records/{{public_id}}/media": {
            "get": _read(
                "The media files of a record the caller may see",
                "MediaPage",
                [record_id],
                paged=True,
                not_found=True,
            ),  # fmt: skip
            "post": {
                "summary": "Upload a file to a record",
                "tags": ["write"],
                "security": WRITE_SECURITY,
                "parameters": [record_id],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": _object(
                                {
                                    "file": {"type": "string", "format": "binary"},
                                    "caption_vi": {"type": "string", "maxLength": 2000},
                                    "caption_en": {"type": "string", "maxLength": 2000},
                                },
                                required=["file"],
                            )
                        }
                    },
                },
                "responses": uploaded,
            },
        },
        f"{PREFIX}/records/{{public_id}}/submit": {
            "post": {
                "summary": "Submit a draft or returned record for review",
                "tags": ["write"],
                "security": WRITE_SECURITY,
                "parameters": [record_id],
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": _object({"comment": {"type": "string", "maxLength": 5000}}, required=[])
                        }
                    },
                },
                "responses": submitted,
            }
        },
        f"{PREFIX}/media/{{public_id}}": {
            "get": _read(
                "One media file, with links to its original, renditions and IIIF service",
                "Media",
                [media_id],
                not_found=True,
            ),  # fmt: skip
        },
        f"{PREFIX}/search": {"get": search},
        f"{PREFIX}/vocabularies/ethnic-groups": {
            "get": _read("The 54 ethnic groups of Vietnam", "EthnicGroupPage", paged=True, tag="vocabularies")
        },
        f"{PREFIX}/vocabularies/places": {"get": {**places, "tags": ["vocabularies"]}},
        f"{PREFIX}/vocabularies/categories": {
            "get": _read("Categories of heritage", "CategoryPage", paged=True, tag="vocabularies")
        },
        f"{PREFIX}/vocabularies/agents": {
            "get": _read(
                "People and organisations named on records the caller may see",
                "AgentPage",
                paged=True,
                tag="vocabularies",
            )  # fmt: skip
        },
        f"{PREFIX}/collections": {
            "get": _read("Curated collections", "CollectionPage", paged=True),
        },
        f"{PREFIX}/collections/{{slug}}": {
            "get": _read("One collection", "Collection", [slug], not_found=True),
        },
        f"{PREFIX}/exhibits": {"get": _read("Published exhibits", "ExhibitPage", paged=True)},
        f"{PREFIX}/exhibits/{{slug}}": {
            "get": _read(
                "One exhibit with the sections the caller may see", "ExhibitDetail", [slug], not_found=True
            ),  # fmt: skip
        },
        **_dataset_paths(),
        f"{PREFIX}/openapi.json": {
            "get": {
                "summary": "This document",
                "tags": ["read"],
                "security": [{}],
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "429": _json("Error", "Too many requests.", RETRY_AFTER),
                },
            }
        },
    }


def _dataset_paths() -> dict[str, Any]:
    """The open datasets' operations (archive.api.dataset_views)."""
    slug = {
        "name": "slug",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{1,118}[a-z0-9]$"},
        "description": "The dataset's slug.",
    }
    number = {
        "name": "number",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
        "description": "The version number.",
    }
    name = {
        "name": "name",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,79}$"},
        "description": "The table's name.",
    }
    row_parameters = [
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 10_000_000}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
        {
            "name": "q",
            "in": "query",
            "schema": {"type": "string", "maxLength": 200},
            "description": "Words to find in any column (with or without diacritics).",
        },
        {"name": "sort", "in": "query", "schema": STRING, "description": "A field name to sort by."},
        {"name": "desc", "in": "query", "schema": {"type": "string", "enum": ["0", "1"]}},
    ]
    rows = _read(
        "A table's rows with typed values; f.<field>=value keeps rows whose cell is exactly value",
        "DatasetRows",
        [slug, number, name, *row_parameters],
        not_found=True,
        headers=LINK_HEADER,
        tag="datasets",
    )
    return {
        f"{PREFIX}/datasets": {
            "get": _read("Public open datasets", "DatasetPage", paged=True, tag="datasets")
        },
        f"{PREFIX}/datasets/{{slug}}": {
            "get": _read(
                "One dataset: description, versions, latest tables",
                "DatasetDetail",
                [slug],
                not_found=True,
                tag="datasets",
            ),  # fmt: skip
        },
        f"{PREFIX}/datasets/{{slug}}/versions/{{number}}": {
            "get": _read(
                "One published version and its tables",
                "DatasetVersion",
                [slug, number],
                not_found=True,
                tag="datasets",
            ),  # fmt: skip
        },
        f"{PREFIX}/datasets/{{slug}}/versions/{{number}}/tables/{{name}}": {
            "get": _read(
                "One table's Table Schema and links",
                "DatasetTableDetail",
                [slug, number, name],
                not_found=True,
                tag="datasets",
            ),  # fmt: skip
        },
        f"{PREFIX}/datasets/{{slug}}/versions/{{number}}/tables/{{name}}/rows": {"get": rows},
    }


def build_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Heritage archive API",
            "version": "1.0.0",
            "description": (
                "Read the archive's records, media, search, vocabularies, collections and exhibits; "
                "contributors create and edit drafts, upload media and submit records for review with a "
                "personal token (made on the page /account/tokens). Reads are anonymous unless a Bearer "
                "token is sent; then they follow the token owner's access. Errors are "
                '{"error": {"code", "message"}} in the language of Accept-Language.'
            ),
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "tags": [
            {"name": "read", "description": "Anonymous, or as the token's owner; CORS open."},
            {"name": "vocabularies", "description": "Reference vocabularies."},
            {"name": "datasets", "description": "Open datasets: published versions only; CORS open."},
            {"name": "write", "description": "Contributors' tokens; no CORS."},
        ],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token (ha_...), made on /account/tokens.",
                }
            },
        },
    }
