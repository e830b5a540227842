"""What the browse pages list and count: the records a person may see, by ethnic group, province,
category and collection.

Every list and count starts from :func:`visible_records`, which applies the one access policy
(archive.core.access) in SQL where the columns decide, and record by record for the few records whose
community protocols (consents, seasonal labels) make the answer depend on the day.

Where a record lies (the rule the province pages state):

- a province of today (since 1 July 2025) holds every record catalogued under a unit that lies in it
  today: itself, its communes, the old provinces that went into it and their old districts and communes;
- an old province (before 1 July 2025) holds every record catalogued under itself, its old districts and
  communes, and the new communes formed (wholly or partly) from its old communes. A record catalogued
  only under a whole province of today is not counted for each old province that went into it (it may
  be about any part of it); the old province's page links to today's province for those.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import Select, and_, func, or_, select, union_all
from sqlalchemy.orm import aliased, selectinload

from archive.accounts.models import User
from archive.communities.models import ConsentRecord, CulturalLabel
from archive.core import access
from archive.core.extensions import db
from archive.records.models import (
    HeritageRecord,
    record_collection,
    record_ethnic_group,
    record_place,
)
from archive.records.services import public_records
from archive.vocab.models import Collection, EthnicGroup, Place, PlaceSuccession
from metadata.categories import CATEGORIES
from metadata.text import name_key

SYSTEMS = ("2025", "pre2025")


class PageOutOfRange(Exception):
    """A page number past the last page of a list."""


@dataclass(frozen=True)
class RecordPage:
    """One page of a list of records, with the total and the number of pages."""

    records: list[HeritageRecord]
    total: int
    page: int
    pages: int


# --- who sees what --------------------------------------------------------------------------------


def _with_protocols() -> Select:
    """Ids of records whose visibility depends on the day (consents or seasonal labels)."""
    return select(ConsentRecord.record_id).union(
        select(CulturalLabel.record_id).where(CulturalLabel.kind == "seasonal")
    )


def visible_records(user: User | None = None) -> Select:
    """Records this person (the signed-in one by default) may see, by archive.core.access.

    A visitor sees the public records (archive.records.services.public_records); staff every record but
    withdrawn ones; others the published records at a level they hold and their own records, with the
    records under community protocols decided one by one by access.can_view_record.
    """
    reader = access.reader_for(user)
    if reader.user_id is None:
        return public_records()
    if reader.is_staff:
        return select(HeritageRecord).where(HeritageRecord.status != "withdrawn")
    levels = [access.PUBLIC] + ([access.RESEARCHERS] if reader.holds(access.RESEARCHERS) else [])
    level_rule = HeritageRecord.access_level.in_(levels)
    if reader.communities:
        level_rule = or_(
            level_rule,
            and_(
                HeritageRecord.access_level == "community",
                HeritageRecord.community_id.in_(sorted(reader.communities)),
            ),
        )
    by_columns = and_(
        HeritageRecord.status != "withdrawn",
        or_(
            HeritageRecord.created_by_id == reader.user_id,
            and_(HeritageRecord.status == "published", level_rule),
        ),
    )
    protocol_records = db.session.scalars(
        select(HeritageRecord)
        .where(
            HeritageRecord.id.in_(_with_protocols()),
            HeritageRecord.status != "withdrawn",
        )  # fmt: skip
        .options(selectinload(HeritageRecord.consents), selectinload(HeritageRecord.labels))
    )
    allowed = sorted(r.id for r in protocol_records if access.can_view_record(r, user))
    rule = and_(by_columns, HeritageRecord.id.not_in(_with_protocols()))
    if allowed:
        rule = or_(rule, HeritageRecord.id.in_(allowed))
    return select(HeritageRecord).where(rule)


def _ids(visible: Select) -> Select:
    """The ids of a select of records (for IN clauses and counts)."""
    return visible.with_only_columns(HeritageRecord.id)


def count(visible: Select) -> int:
    """How many records a select of records gives."""
    return db.session.scalar(select(func.count()).select_from(_ids(visible).subquery())) or 0


def page_of(stmt: Select, page: int, per_page: int) -> RecordPage:
    """One page of records (newest publication first); raises PageOutOfRange past the last page."""
    total = count(stmt)
    pages = max(1, math.ceil(total / per_page))
    if page > pages:
        raise PageOutOfRange(page)
    rows = db.session.scalars(
        stmt.options(selectinload(HeritageRecord.texts), selectinload(HeritageRecord.ethnic_groups))
        .order_by(HeritageRecord.published_at.desc().nulls_last(), HeritageRecord.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return RecordPage(list(rows), total, page, pages)


# --- ethnic groups --------------------------------------------------------------------------------


def ethnic_groups(lang: str) -> list[EthnicGroup]:
    """The 54 groups, by name in *lang* (diacritics folded, as readers sort)."""
    groups = db.session.scalars(select(EthnicGroup))
    return sorted(groups, key=lambda g: name_key(g.name_vi if lang == "vi" else g.name_en))


def get_ethnic_group(slug: str) -> EthnicGroup | None:
    """A group by its slug."""
    return db.session.scalar(select(EthnicGroup).where(EthnicGroup.slug == slug))


def counts_by_ethnic_group(visible: Select) -> dict[int, int]:
    """Visible records per ethnic group id."""
    rows = db.session.execute(
        select(record_ethnic_group.c.ethnic_group_id, func.count(record_ethnic_group.c.record_id))
        .where(record_ethnic_group.c.record_id.in_(_ids(visible)))
        .group_by(record_ethnic_group.c.ethnic_group_id)
    )
    return {group_id: n for group_id, n in rows}


def records_about_group(visible: Select, group: EthnicGroup) -> Select:
    """The visible records about one ethnic group."""
    return visible.where(
        HeritageRecord.id.in_(
            select(record_ethnic_group.c.record_id).where(record_ethnic_group.c.ethnic_group_id == group.id)
        )
    )


# --- places ---------------------------------------------------------------------------------------


def provinces(system: str) -> list[Place]:
    """The provinces of one system ('2025' or 'pre2025'), by name."""
    rows = db.session.scalars(
        select(Place)
        .where(Place.system == system, Place.level == "province")
        .options(selectinload(Place.current_province))
    )
    return sorted(rows, key=lambda p: name_key(p.name))


def get_province(code: str) -> Place | None:
    """A province of either system by its code (districts and communes have no page: None)."""
    return db.session.scalar(select(Place).where(Place.code == code, Place.level == "province"))


def predecessors(province: Place) -> list[Place]:
    """The old provinces that went into a province of today."""
    old = aliased(Place)
    rows = db.session.scalars(
        select(old)
        .join(PlaceSuccession, PlaceSuccession.old_id == old.id)
        .where(PlaceSuccession.new_id == province.id, old.level == "province")
    )
    return sorted(rows, key=lambda p: name_key(p.name))


def _old_province_of_places() -> Select:
    """(place_id, old_province_id) for every unit that lies in an old province (see the module rule)."""
    district, commune, old_commune = aliased(Place), aliased(Place), aliased(Place)
    return union_all(
        select(Place.id.label("place_id"), Place.id.label("province_id")).where(
            Place.system == "pre2025", Place.level == "province"
        ),
        select(Place.id, Place.parent_id).where(Place.system == "pre2025", Place.level == "district"),
        select(commune.id, district.parent_id)
        .join(district, commune.parent_id == district.id)
        .where(commune.system == "pre2025", commune.level == "commune"),
        select(PlaceSuccession.new_id, district.parent_id)
        .join(old_commune, PlaceSuccession.old_id == old_commune.id)
        .join(district, old_commune.parent_id == district.id)
        .where(old_commune.level == "commune"),
    )


def counts_by_province(visible: Select, system: str) -> dict[int, int]:
    """Visible records per province id of one system (see the module rule)."""
    ids = _ids(visible)
    if system == "2025":
        stmt = (
            select(Place.current_province_id, func.count(func.distinct(record_place.c.record_id)))
            .join(Place, Place.id == record_place.c.place_id)
            .where(record_place.c.record_id.in_(ids))
            .group_by(Place.current_province_id)
        )
    else:
        located = _old_province_of_places().subquery()
        stmt = (
            select(located.c.province_id, func.count(func.distinct(record_place.c.record_id)))
            .join(located, located.c.place_id == record_place.c.place_id)
            .where(record_place.c.record_id.in_(ids))
            .group_by(located.c.province_id)
        )
    return {province_id: n for province_id, n in db.session.execute(stmt) if province_id is not None}


def records_in_province(visible: Select, province: Place) -> Select:
    """The visible records that lie in a province of either system (see the module rule)."""
    if province.system == "2025":
        places = select(Place.id).where(Place.current_province_id == province.id)
    else:
        located = _old_province_of_places().subquery()
        places = select(located.c.place_id).where(located.c.province_id == province.id)
    return visible.where(
        HeritageRecord.id.in_(select(record_place.c.record_id).where(record_place.c.place_id.in_(places)))
    )


def ethnic_groups_of_provinces(old_provinces: list[Place]) -> list[EthnicGroup]:
    """The groups the vocabulary places in any of these (old) provinces."""
    if not old_provinces:
        return []
    ids = [p.id for p in old_provinces]
    rows = db.session.scalars(
        select(EthnicGroup).where(EthnicGroup.provinces.any(Place.id.in_(ids))).order_by(EthnicGroup.gso_code)
    )
    return list(rows)


# --- categories and collections -------------------------------------------------------------------


def counts_by_category(visible: Select) -> dict[str, int]:
    """Visible records per category code."""
    rows = db.session.execute(
        select(HeritageRecord.category, func.count())
        .where(HeritageRecord.id.in_(_ids(visible)))
        .group_by(HeritageRecord.category)
    )
    return {code: n for code, n in rows if code in CATEGORIES}


def records_in_category(visible: Select, code: str) -> Select:
    """The visible records of one category."""
    return visible.where(HeritageRecord.category == code)


def collections() -> list[Collection]:
    """Every collection, by slug."""
    return list(db.session.scalars(select(Collection).order_by(Collection.slug)))


def get_collection(slug: str) -> Collection | None:
    """A collection by its slug."""
    return db.session.scalar(select(Collection).where(Collection.slug == slug))


def counts_by_collection(visible: Select) -> dict[int, int]:
    """Visible records per collection id."""
    rows = db.session.execute(
        select(record_collection.c.collection_id, func.count(record_collection.c.record_id))
        .where(record_collection.c.record_id.in_(_ids(visible)))
        .group_by(record_collection.c.collection_id)
    )
    return {collection_id: n for collection_id, n in rows}


def records_in_collection(visible: Select, collection: Collection) -> Select:
    """The visible records of one collection."""
    return visible.where(
        HeritageRecord.id.in_(
            select(record_collection.c.record_id).where(record_collection.c.collection_id == collection.id)
        )
    )
