"""Operations on heritage records. They flush but never commit: the request, CLI command or job does."""

from __future__ import annotations

import datetime as dt
import logging

from flask import current_app
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from archive.accounts.models import User
from archive.core import access
from archive.core.extensions import db
from archive.core.identifiers import mint_identifier, register_identifier
from archive.core.types import from_langstrings, utcnow
from archive.records.models import (
    DocumentedDate,
    FestivalTiming,
    HeritageRecord,
    RecordAgent,
    RecordText,
    Rights,
    record_place,
)
from archive.vocab import services as vocab
from archive.vocab.models import Place
from metadata.csv_records import RecordInput
from metadata.languages import LangString
from metadata.model import (
    AgentRole,
    DocDate,
    MediaDescription,
    PlaceTerm,
    RecordDescription,
    Term,
    Timing,
)
from metadata.text import slugify

logger = logging.getLogger(__name__)

DEFAULT_LICENCE = "https://creativecommons.org/licenses/by-nc-sa/4.0/"


class RecordError(Exception):
    """A user-caused problem with a record: carries a message code and parameters for translation."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


def _eager(stmt: Select) -> Select:
    return stmt.options(
        selectinload(HeritageRecord.texts),
        selectinload(HeritageRecord.ethnic_groups),
        selectinload(HeritageRecord.places).selectinload(Place.parent),
        selectinload(HeritageRecord.subjects),
        selectinload(HeritageRecord.collections),
        selectinload(HeritageRecord.agents).selectinload(RecordAgent.agent),
        selectinload(HeritageRecord.timings),
        selectinload(HeritageRecord.dates),
        selectinload(HeritageRecord.rights),
        selectinload(HeritageRecord.media),
        selectinload(HeritageRecord.consents),
        selectinload(HeritageRecord.labels),
        selectinload(HeritageRecord.community),
    )


def public_records() -> Select:
    """Records any visitor may see today: published, public, and not withheld by a community protocol
    (withdrawn consent, out of season); see archive.core.access."""
    stmt = select(HeritageRecord).where(
        HeritageRecord.status == "published", HeritageRecord.access_level == "public"
    )
    withheld = access.withheld_from_visitors()
    return stmt.where(HeritageRecord.id.not_in(withheld)) if withheld else stmt


def list_public_records(
    page: int, per_page: int, visible: Select | None = None
) -> tuple[list[HeritageRecord], int]:
    """One page of public records, newest first by publication, and the total count.

    ``visible`` is :func:`public_records` when the caller has already built it for this request."""
    if visible is None:
        visible = public_records()  # built once: it reads which records the protocols withhold today
    total = db.session.scalar(select(func.count()).select_from(visible.subquery()))
    stmt = _eager(visible).order_by(HeritageRecord.published_at.desc(), HeritageRecord.id.desc())
    rows = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total or 0


def get_record(public_id: str) -> HeritageRecord | None:
    """Any record by public identifier, with everything a page shows (check access before showing it)."""
    return db.session.scalar(_eager(select(HeritageRecord).where(HeritageRecord.public_id == public_id)))


def public_records_in_current_province(province: Place) -> list[HeritageRecord]:
    """Public records catalogued under any unit, old or new, that lies in a post-2025 province."""
    ids = vocab.places_within_current_province(province)
    stmt = (
        public_records()
        .join(record_place, record_place.c.record_id == HeritageRecord.id)
        .where(record_place.c.place_id.in_(ids))
        .distinct()
    )
    return list(db.session.scalars(stmt))


def all_records_for_export() -> list[HeritageRecord]:
    """Every record, ordered by slug, for a full CSV export (CLI; staff only)."""
    return list(db.session.scalars(_eager(select(HeritageRecord)).order_by(HeritageRecord.slug)))


def record_url(record: HeritageRecord) -> str:
    """The absolute, stable URL of a record's page."""
    base = current_app.config["BASE_URL"]
    return f"{base}/records/{record.public_id}"


def describe(record: HeritageRecord) -> RecordDescription:
    """A framework-free description of a record for the metadata standards."""
    base = current_app.config["BASE_URL"]
    record_key = access.record_key(record)
    texts: dict[str, list] = {}
    for t in record.texts:
        texts.setdefault(t.field, []).append(LangString(t.value, t.lang))
    places = []
    for p in record.places:
        current = p.current_province.name if p.current_province is not None else None
        places.append(
            PlaceTerm(
                code=p.code,
                label=p.label(),
                system=p.system,
                latitude=p.latitude,
                longitude=p.longitude,
                current_province=current,
                uri=f"{base}/places/{p.code}",
            )
        )
    return RecordDescription(
        identifier=record.public_id,
        slug=record.slug,
        url=record_url(record),
        category=record.category,
        status=record.status,
        access_level=record.access_level,
        texts=texts,
        ethnic_groups=[
            Term(g.slug, g.labels, f"{base}/ethnic-groups/{g.slug}") for g in record.ethnic_groups
        ],
        places=places,
        subjects=[Term(s.key, s.label_values, s.uri) for s in record.subjects],
        agents=[AgentRole(a.agent.name, a.role, a.agent.kind) for a in record.agents],
        collections=[
            Term(c.slug, c.title_values, f"{base}/collections/{c.slug}") for c in record.collections
        ],
        timings=[
            Timing(t.calendar, t.month, t.day, t.leap, t.duration_days, t.note_values) for t in record.timings
        ],
        dates=[DocDate(d.kind, d.start, d.end) for d in record.dates],
        media=[
            MediaDescription(
                m.public_id,
                m.kind,
                m.mime_type,
                m.caption_values,
                url=f"{base}/media/{m.public_id}/file" if access.media_key(m) == "public" else None,
                duration_seconds=m.duration_seconds,
                width=m.width,
                height=m.height,
                is_illustration=m.is_illustration,
            )
            for m in record.media
            if access.media_key(m) in ("public", record_key)
        ],
        rights_uri=record.rights.uri if record.rights else None,
        rights_holder=record.rights.holder if record.rights else None,
        consent_note=record.rights.consent_values if record.rights else [],
        publisher=current_app.config["PUBLISHER"],
        created=record.created_at,
        modified=record.updated_at,
    )


def create_record(data: RecordInput, actor: User | None, revision_reason: str = "created") -> HeritageRecord:
    """Create a record from resolved input, with its first revision; raises RecordError (nothing added)
    or vocab.LookupError_."""
    resolved = resolve_references(data)
    if data.identifier:
        if not register_identifier(data.identifier, "record"):
            raise RecordError("identifier_taken", value=data.identifier)
        public_id = data.identifier
    else:
        public_id = mint_identifier("record")
    title = data.texts["title"][0].value
    slug = data.slug or _unique_slug(slugify(title))
    if db.session.scalar(select(HeritageRecord.id).where(HeritageRecord.slug == slug)):
        raise RecordError("slug_taken", value=slug)
    now = utcnow()
    record = HeritageRecord(
        public_id=public_id,
        slug=slug,
        category=data.category,
        status=data.status,
        access_level=data.access_level,
        created_by=actor,
        updated_by=actor,
        created_at=now,
        updated_at=now,
        published_at=now if data.status == "published" else None,
    )
    _apply_fields(record, data, resolved)
    db.session.add(record)
    db.session.flush()
    _set_positions(record)
    from archive.workflow.services import capture_revision  # the workflow builds on this module

    capture_revision(record, actor, revision_reason)
    logger.info("record %s created by %s", record.public_id, actor.email if actor else "system")
    return record


def _apply_fields(
    record: HeritageRecord, data: RecordInput, resolved: dict[str, list], keep_rights: bool = False
) -> None:
    """Set every descriptive field of *record* from *data* (its vocabulary references resolved)."""
    for name, values in data.texts.items():
        for position, value in enumerate(values):
            record.texts.append(RecordText(field=name, lang=value.lang, value=value.value, position=position))
    record.ethnic_groups = resolved["ethnic_groups"]
    record.places = resolved["places"]
    record.collections = resolved["collections"]
    record.subjects = [vocab.get_or_create_subject(labels) for labels in data.subjects]
    for position, (name, role, kind) in enumerate(data.agents):
        record.agents.append(
            RecordAgent(agent=vocab.get_or_create_agent(name, kind), role=role, position=position)
        )
    for position, t in enumerate(data.timings):
        record.timings.append(
            FestivalTiming(
                calendar=t.calendar,
                month=t.month,
                day=t.day,
                leap=t.leap,
                duration_days=t.duration_days,
                note=from_langstrings(t.note),
                position=position,
            )
        )
    for d in data.dates:
        record.dates.append(DocumentedDate(kind=d.kind, start=d.start, end=d.end))
    if not keep_rights and (data.rights_uri or data.rights_holder or data.consent_note):
        record.rights = Rights(
            uri=data.rights_uri or DEFAULT_LICENCE,
            holder=data.rights_holder,
            consent_note=from_langstrings(data.consent_note),
        )


def update_record(record: HeritageRecord, data: RecordInput, actor: User | None) -> HeritageRecord:
    """Replace the description of *record* with *data* (status, identifier and slug are kept; the access
    level too unless *data* names one). Raises RecordError or vocab.LookupError_; nothing is changed
    then, since references are resolved before anything is touched."""
    resolved = resolve_references(data)
    record.category = data.category
    record.access_level = data.access_level or record.access_level
    record.texts.clear()
    record.agents.clear()
    record.timings.clear()
    record.dates.clear()
    db.session.flush()
    if record.rights is not None and not (data.rights_uri or data.rights_holder or data.consent_note):
        record.rights = None
    elif record.rights is not None:
        record.rights.uri = data.rights_uri or DEFAULT_LICENCE
        record.rights.holder = data.rights_holder
        record.rights.consent_note = from_langstrings(data.consent_note)
    _apply_fields(record, data, resolved, keep_rights=record.rights is not None)
    record.updated_by = actor
    record.updated_at = utcnow()
    db.session.flush()
    _set_positions(record)
    logger.info("record %s updated by %s", record.public_id, actor.email if actor else "system")
    return record


def resolve_references(data: RecordInput) -> dict[str, list]:
    """Resolve vocabulary references of an input; raises vocab.LookupError_ with the column name set."""
    out: dict[str, list] = {"ethnic_groups": [], "places": [], "collections": []}
    finders = {
        "ethnic_groups": vocab.find_ethnic_group,
        "places": vocab.find_place,
        "collections": vocab.find_collection,
    }
    for column, finder in finders.items():
        for ref in getattr(data, column):
            try:
                found = finder(ref)
            except vocab.LookupError_ as exc:
                exc.params["column"] = column
                raise
            if found not in out[column]:
                out[column].append(found)
    return out


def _set_positions(record: HeritageRecord) -> None:
    """Store the order of many-to-many links as entered."""
    from archive.records.models import record_collection, record_ethnic_group, record_subject

    for table, column, items in (
        (record_ethnic_group, "ethnic_group_id", record.ethnic_groups),
        (record_place, "place_id", record.places),
        (record_subject, "subject_id", record.subjects),
        (record_collection, "collection_id", record.collections),
    ):
        for position, item in enumerate(items):
            db.session.execute(
                table.update()
                .where(table.c.record_id == record.id, table.c[column] == item.id)
                .values(position=position)
            )


def _unique_slug(base: str) -> str:
    slug, n = base, 2
    while db.session.scalar(select(HeritageRecord.id).where(HeritageRecord.slug == slug)):
        slug, n = f"{base}-{n}", n + 1
    return slug


def upcoming_festivals(
    today: dt.date, limit: int = 6, visible: Select | None = None
) -> list[tuple[dt.date, dt.date, HeritageRecord]]:
    """Public records with a recurrence, by their next occurrence on or after *today*."""
    stmt = _eager((public_records() if visible is None else visible).join(FestivalTiming)).distinct()
    out = []
    for record in db.session.scalars(stmt):
        for timing in record.timings:
            recurrence = timing.recurrence()
            if recurrence is not None:
                first, last = recurrence.next_occurrence(today)
            else:
                coming = [
                    r
                    for year in (today.year, today.year + 1)
                    for r in timing.dates_in_year(year)
                    if r[1] >= today
                ]
                if not coming:  # e.g. 29 February with no leap year in the next two
                    continue
                first, last = min(coming, key=lambda r: r[0])
            out.append((first, last, record))
    out.sort(key=lambda item: (item[0], item[2].slug))
    return out[:limit]
