"""Links from record and ethnic-group pages to the open datasets that concern them.

For a record: the rows of the generated datasets for its ethnic groups, provinces (both systems) and
category, each linking to the table page filtered to that row; and the compiled or uploaded datasets
whose spatial coverage includes its provinces or that concern its groups (services.concerning). For an
ethnic group: its row in the by-group dataset and the datasets that concern it.

Templates call the Jinja global ``dataset_links(record=..., group=...)`` (registered by :func:`init_app`)
and include ``dataset_links/_list.html``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from archive.browse import services as browse
from archive.core.extensions import db
from archive.core.i18n import current_language, localized_text
from archive.datasets import services
from archive.datasets.models import Dataset
from archive.records.models import HeritageRecord, record_place
from archive.vocab.models import EthnicGroup, Place
from metadata.categories import CATEGORIES


@dataclass(frozen=True)
class DatasetLink:
    """One link of the list: its text and address."""

    text: str
    href: str


def _public() -> list[Dataset]:
    """The public datasets with their versions and tables, read once per request (a few queries)."""
    if "_dataset_links_public" not in g:
        g._dataset_links_public = services.public_datasets()
    return g._dataset_links_public


def _concerning(groups: set[str], codes: set[str] = frozenset()) -> list[Dataset]:
    """Public compiled or uploaded datasets about these groups or provinces."""
    return [d for d in services.concerning(groups, codes, among=_public()) if d.origin != "generated"]


def _row_link(generator: str, table_name: str, field: str, value: str, label: str) -> DatasetLink | None:
    """A link to the table page of a generated dataset filtered to the row where *field* is *value*."""
    dataset = next((d for d in _public() if d.generator == generator), None)
    if dataset is None:
        return None
    version = dataset.latest_version
    table = version.table(table_name)
    if table is None:
        return None
    content = services.table_content(table)
    if field not in content.names:
        return None
    column = content.names.index(field)
    if not any(row[column] == value for row in content.raw):
        return None
    href = url_for(
        "datasets.table", slug=dataset.slug, number=version.number, name=table.name, **{f"f.{field}": value}
    )
    text = _("%(row)s — %(dataset)s", row=label, dataset=localized_text(dataset.title_values))
    return DatasetLink(text, href)


def _dataset_link(dataset: Dataset) -> DatasetLink:
    return DatasetLink(localized_text(dataset.title_values), url_for("datasets.dataset", slug=dataset.slug))


def _group_label(group: EthnicGroup) -> str:
    return group.name_vi if current_language() == "vi" else group.name_en


def _record_provinces(record: HeritageRecord) -> tuple[list[Place], list[Place]]:
    """The provinces a record lies in: today's and the old ones, by the browse pages' rule."""
    today = {
        p.current_province.id: p.current_province for p in record.places if p.current_province is not None
    }
    located = browse._old_province_of_places().subquery()
    old = db.session.scalars(
        select(Place)
        .join(located, located.c.province_id == Place.id)
        .join(record_place, record_place.c.place_id == located.c.place_id)
        .where(record_place.c.record_id == record.id)
        .distinct()
    ).all()
    return sorted(today.values(), key=lambda p: p.code), sorted(old, key=lambda p: p.code)


def _available() -> bool:
    views = current_app.view_functions
    return "datasets.table" in views and "datasets.dataset" in views


def links_for_record(record: HeritageRecord) -> list[DatasetLink]:
    """The dataset rows and datasets that concern a record."""
    if not _available():
        return []
    links: list[DatasetLink | None] = []
    for group in record.ethnic_groups:
        links.append(
            _row_link(
                "records-by-ethnic-group", "by-ethnic-group", "group_slug", group.slug, _group_label(group)
            )
        )
    today, old = _record_provinces(record)
    for province in today:
        label = _("%(province)s (since 2025)", province=province.name)
        links.append(
            _row_link("records-by-province", "provinces-2025", "province_code", province.code, label)
        )
    for province in old:
        label = _("%(province)s (before 2025)", province=province.name)
        links.append(
            _row_link("records-by-province", "provinces-pre2025", "province_code", province.code, label)
        )
    category = CATEGORIES.get(record.category)
    if category is not None:
        label = localized_text(category.label_values)
        links.append(_row_link("records-by-category", "by-category", "category", category.code, label))
    codes = {p.code for p in today} | {p.code for p in old}
    groups = {g.slug for g in record.ethnic_groups}
    links += [_dataset_link(dataset) for dataset in _concerning(groups, codes)]
    return [link for link in links if link is not None]


def links_for_group(group: EthnicGroup) -> list[DatasetLink]:
    """The dataset row and datasets that concern an ethnic group."""
    if not _available():
        return []
    links = [
        _row_link("records-by-ethnic-group", "by-ethnic-group", "group_slug", group.slug, _group_label(group))
    ]
    links += [_dataset_link(d) for d in _concerning({group.slug})]
    return [link for link in links if link is not None]


def dataset_links(
    record: HeritageRecord | None = None, group: EthnicGroup | None = None
) -> list[DatasetLink]:
    """The Jinja global: links for a record page or an ethnic-group page."""
    if record is not None:
        return links_for_record(record)
    if group is not None:
        return links_for_group(group)
    return []


def init_app(app: Flask) -> None:
    """Offer ``dataset_links`` to every template."""
    app.jinja_env.globals["dataset_links"] = dataset_links
