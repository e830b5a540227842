"""The Frictionless Data Package (v1) descriptor, ``datapackage.json``, of one published dataset version.

Framework-free: plain values in, a JSON-ready dict out. Each table is a resource whose ``path`` is the
absolute URL of its CSV, with its size, SHA-256 and Table Schema, so that any Frictionless tool can
fetch and check the version as published.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from metadata.dcat import LICENCES, MEDIA_TYPES
from metadata.languages import LangString, pick_value
from metadata.tables import public_schema

#: Licence URI -> SPDX identifier (the "name" Data Package licences use).
SPDX_LICENCES = {
    "http://creativecommons.org/licenses/by/4.0/": "CC-BY-4.0",
    "http://creativecommons.org/licenses/by-sa/4.0/": "CC-BY-SA-4.0",
    "http://creativecommons.org/publicdomain/zero/1.0/": "CC0-1.0",
}

#: Where a dataset's figures come from (Dataset.origin), in Vietnamese and English.
ORIGIN_NOTES = {
    "compiled": (
        "Tổng hợp từ các báo cáo và bài viết đã công bố của Chương trình",
        "Compiled from the programme's published reporting",
    ),
    "generated": (
        "Tạo tự động từ các hồ sơ của kho lưu trữ, cập nhật theo lịch",
        "Generated from the archive's own records, refreshed on a schedule",
    ),
    "uploaded": ("Do cán bộ của Chương trình tải lên", "Uploaded by a programme officer"),
}


@dataclass(frozen=True)
class PackageTable:
    """One table of the version: its name, titles, CSV URL, size, checksum, schema and provenance."""

    name: str
    title: list[LangString]
    path: str
    byte_size: int
    sha256: str
    schema: dict
    provenance: list[LangString] = field(default_factory=list)


@dataclass(frozen=True)
class PackageDescription:
    """What datapackage.json says about one version of a dataset."""

    name: str
    number: int
    title: list[LangString]
    description: list[LangString]
    license_uri: str
    published: dt.datetime
    homepage: str
    id: str
    tables: list[PackageTable]
    publisher: list[LangString] = field(default_factory=list)
    publisher_uri: str | None = None
    contact_name: str = ""
    contact_email: str = ""
    keywords: list[LangString] = field(default_factory=list)
    notes: list[LangString] = field(default_factory=list)
    origin: str = "uploaded"
    origin_url: str | None = None
    checksum: str | None = None
    temporal_start: dt.date | None = None
    temporal_end: dt.date | None = None
    spatial: list[str] = field(default_factory=list)


def _text(values: list[LangString], lang: str = "vi") -> str:
    return pick_value(values, lang)


def _by_language(values: list[LangString]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        out.setdefault(value.lang, value.value)
    return out


def _timestamp(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _resource(table: PackageTable) -> dict:
    resource: dict = {
        "name": table.name,
        "path": table.path,
        "profile": "tabular-data-resource",
        "title": _text(table.title) or table.name,
        "format": "csv",
        "mediatype": MEDIA_TYPES["csv"][0],
        "encoding": "utf-8",
        "bytes": table.byte_size,
        "hash": f"sha256:{table.sha256}",
        "dialect": {"delimiter": ",", "header": True},
        "schema": public_schema(table.schema),
    }
    if len(table.title) > 1:
        resource["titles"] = _by_language(table.title)
    if table.provenance:
        resource["description"] = _text(table.provenance)
        resource["sources"] = [{"title": value.value, "lang": value.lang} for value in table.provenance]
    return resource


def build_datapackage(package: PackageDescription) -> dict:
    """The datapackage.json descriptor (Frictionless Data Package v1, tabular profile)."""
    short, _vi, en = LICENCES.get(package.license_uri, (package.license_uri, "", package.license_uri))
    descriptor: dict = {
        "profile": "tabular-data-package",
        "id": package.id,
        "name": package.name,
        "title": _text(package.title),
        "version": str(package.number),
        "created": _timestamp(package.published),
        "homepage": package.homepage,
        "licenses": [
            {
                "name": SPDX_LICENCES.get(package.license_uri, short),
                "path": package.license_uri,
                "title": f"{short} ({en})" if en and en != short else short,
            }
        ],
    }
    if package.description:
        descriptor["description"] = _text(package.description)
    if len(package.title) > 1:
        descriptor["titles"] = _by_language(package.title)
    if len(package.description) > 1:
        descriptor["descriptions"] = _by_language(package.description)
    contributors = []
    if package.publisher:
        publisher: dict = {"title": _text(package.publisher), "role": "publisher"}
        if package.publisher_uri:
            publisher["path"] = package.publisher_uri
        contributors.append(publisher)
    if package.contact_name or package.contact_email:
        contact: dict = {"title": package.contact_name or package.contact_email, "role": "maintainer"}
        if package.contact_email:
            contact["email"] = package.contact_email
        contributors.append(contact)
    if contributors:
        descriptor["contributors"] = contributors
    keywords = list(dict.fromkeys(k.value for k in package.keywords if k.value.strip()))
    if keywords:
        descriptor["keywords"] = keywords
    vi, en_note = ORIGIN_NOTES.get(package.origin, ORIGIN_NOTES["uploaded"])
    source: dict = {"title": vi, "titles": {"vi": vi, "en": en_note}}
    if package.origin_url:
        source["path"] = package.origin_url
    descriptor["sources"] = [source]
    if package.notes:
        descriptor["versionNotes"] = _by_language(package.notes)
    if package.checksum:
        descriptor["checksum"] = f"sha256:{package.checksum}"
    if package.temporal_start or package.temporal_end:
        period = {"start": package.temporal_start, "end": package.temporal_end}
        descriptor["temporal"] = {key: day.isoformat() for key, day in period.items() if day}
    if package.spatial:
        descriptor["spatial"] = list(package.spatial)
    descriptor["resources"] = [_resource(table) for table in package.tables]
    return descriptor
