"""Loading and looking up the controlled vocabularies."""

from __future__ import annotations

import logging

from sqlalchemy import func, insert, or_, select

from archive.core.extensions import db
from archive.vocab.models import (
    Agent,
    Collection,
    EthnicGroup,
    Place,
    PlaceSuccession,
    Subject,
)
from metadata.languages import LangString, nfc
from metadata.text import name_key, slugify
from metadata.vocabularies import gazetteer
from metadata.vocabularies.ethnic_groups import load_ethnic_groups

logger = logging.getLogger(__name__)


def load_places(include_communes: bool = True) -> int:
    """Load the gazetteer (both systems and the old -> new mapping) into an empty place table."""
    if db.session.scalar(select(func.count()).select_from(Place)):
        logger.info("places already loaded")
        return 0
    entries = list(gazetteer.iter_places(include_communes=include_communes))
    successions = list(gazetteer.iter_successions(entries))
    successor_of = {s.old_code: s.new_code for s in successions if s.old_code.startswith("pre2025-p")}
    ids: dict[str, int] = {}
    current: dict[str, int] = {}

    def insert_batch(batch: list[gazetteer.PlaceEntry]) -> None:
        rows = []
        for e in batch:
            if e.system == gazetteer.POST_2025 and e.level == gazetteer.PROVINCE:
                cur = None
            elif e.level == gazetteer.PROVINCE:
                cur = ids[successor_of[e.code]]
            else:
                cur = current[e.parent_code]
            rows.append(
                {
                    "code": e.code,
                    "system": e.system,
                    "level": e.level,
                    "name": e.name,
                    "full_name": e.full_name,
                    "name_key": name_key(e.name),
                    "parent_id": ids.get(e.parent_code) if e.parent_code else None,
                    "current_province_id": cur,
                    "latitude": e.latitude,
                    "longitude": e.longitude,
                }
            )
        if rows:
            db.session.execute(insert(Place), rows)
        codes = [e.code for e in batch]
        for start in range(0, len(codes), 500):
            chunk = codes[start : start + 500]
            for pid, code, cur in db.session.execute(
                select(Place.id, Place.code, Place.current_province_id).where(Place.code.in_(chunk))
            ):
                ids[code] = pid
                current[code] = cur if cur is not None else pid

    def level(system: str, lvl: str) -> list[gazetteer.PlaceEntry]:
        return [e for e in entries if e.system == system and e.level == lvl]

    insert_batch(level(gazetteer.POST_2025, gazetteer.PROVINCE))
    db.session.execute(
        Place.__table__.update()
        .where(Place.current_province_id.is_(None))
        .values(current_province_id=Place.id)
    )
    insert_batch(level(gazetteer.PRE_2025, gazetteer.PROVINCE))
    insert_batch(level(gazetteer.PRE_2025, gazetteer.DISTRICT))
    insert_batch(level(gazetteer.PRE_2025, gazetteer.COMMUNE))
    insert_batch(level(gazetteer.POST_2025, gazetteer.COMMUNE))
    rows = [
        {"old_id": ids[s.old_code], "new_id": ids[s.new_code], "is_default": s.is_default}
        for s in successions
        if s.old_code in ids and s.new_code in ids
    ]
    if rows:
        db.session.execute(insert(PlaceSuccession), rows)
    db.session.flush()
    logger.info("loaded %d places and %d successions", len(ids), len(rows))
    return len(ids)


def load_ethnic_group_vocabulary() -> int:
    """Insert or update the 54 ethnic groups from the vocabulary file; link their main provinces."""
    provinces = {
        p.name: p
        for p in db.session.scalars(
            select(Place).where(Place.system == gazetteer.PRE_2025, Place.level == gazetteer.PROVINCE)
        )
    }
    existing = {g.slug: g for g in db.session.scalars(select(EthnicGroup))}
    for entry in load_ethnic_groups():
        group = existing.get(entry.id) or EthnicGroup(slug=entry.id)
        group.gso_code = entry.gso_code
        group.name_vi, group.name_en = entry.name_vi, entry.name_en
        group.other_names, group.subgroups = entry.other_names, entry.subgroups
        group.language_family, group.language_branch = entry.language_family, entry.language_branch
        group.languages, group.population_2019 = entry.languages, entry.population_2019
        group.description = entry.description
        group.provinces = [provinces[name] for name in entry.provinces if name in provinces]
        db.session.add(group)
    db.session.flush()
    return len(existing) or 54


def vocabularies_loaded() -> bool:
    """True when both the gazetteer and the ethnic groups are in the database."""
    return bool(db.session.scalar(select(func.count()).select_from(EthnicGroup))) and bool(
        db.session.scalar(select(func.count()).select_from(Place))
    )


def load_vocabularies(include_communes: bool = True) -> None:
    """Load every shipped vocabulary (idempotent)."""
    load_places(include_communes=include_communes)
    load_ethnic_group_vocabulary()


class LookupError_(Exception):
    """A reference that matches nothing, or more than one thing."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


def find_ethnic_group(ref: str) -> EthnicGroup:
    """Resolve an ethnic group by id, GSO code, official name, English name, other name or sub-group."""
    ref = nfc(ref.strip())
    group = db.session.scalar(
        select(EthnicGroup).where(or_(EthnicGroup.slug == ref, EthnicGroup.gso_code == ref))
    )
    if group:
        return group
    key = name_key(ref)
    groups = list(db.session.scalars(select(EthnicGroup)))
    for attrs in (("name_vi", "name_en"), ("other_names", "subgroups")):
        matches = []
        for g in groups:
            names = []
            for attr in attrs:
                value = getattr(g, attr)
                names += value if isinstance(value, list) else [value]
            if key in {name_key(n) for n in names}:
                matches.append(g)
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise LookupError_(
                "ambiguous_ethnic_group", value=ref, candidates=", ".join(sorted(g.slug for g in matches))
            )
    raise LookupError_("unknown_ethnic_group", value=ref)


def find_place(ref: str) -> Place:
    """Resolve a place by code ('pre2025-d058') or by a name path ('Chợ Đồn, Bắc Kạn').

    A name path lists the unit first and its province last. When a name exists in both systems
    (e.g. the province Lào Cai before and after 2025), the unit in force today is chosen; write the
    code to pick the historical one.
    """
    ref = nfc(ref.strip())
    place = db.session.scalar(select(Place).where(Place.code == ref))
    if place:
        return place
    parts = [name_key(p) for p in ref.split(",") if p.strip()]
    if not parts:
        raise LookupError_("unknown_place", value=ref)
    candidates = list(db.session.scalars(select(Place).where(Place.name_key == parts[0])))
    if len(parts) == 1:
        for lvl in ("province", "district", "commune"):
            at_level = [p for p in candidates if p.level == lvl]
            if at_level:
                candidates = at_level
                break
    else:

        def chain(p: Place) -> list[str]:
            keys, q = [], p.parent
            while q is not None:
                keys.append(q.name_key)
                q = q.parent
            return keys

        candidates = [p for p in candidates if all(k in chain(p) for k in parts[1:])]
    if len(candidates) > 1:
        current = [p for p in candidates if p.system == gazetteer.POST_2025]
        if len(current) == 1:
            return current[0]
        raise LookupError_(
            "ambiguous_place",
            value=ref,
            candidates=", ".join(f"{p.code} ({p.label()})" for p in candidates[:6]),
        )
    if not candidates:
        raise LookupError_("unknown_place", value=ref)
    return candidates[0]


def places_within_current_province(province: Place) -> list[int]:
    """Ids of every unit, old or new, that lies in a post-2025 province today."""
    return list(db.session.scalars(select(Place.id).where(Place.current_province_id == province.id)))


def find_collection(ref: str) -> Collection:
    """Resolve a collection by slug."""
    collection = db.session.scalar(select(Collection).where(Collection.slug == ref.strip()))
    if collection is None:
        raise LookupError_("unknown_collection", value=ref)
    return collection


def get_or_create_subject(labels: list[LangString]) -> Subject:
    """Find a subject by any of its labels (diacritics optional), or create it with these labels."""
    keys = {name_key(v.value) for v in labels}
    for subject in db.session.scalars(select(Subject)):
        if keys & {name_key(v.value) for v in subject.label_values} or subject.key in {
            slugify(v.value) for v in labels
        }:
            known = {v.lang for v in subject.label_values}
            extra = [v.to_dict() for v in labels if v.lang not in known]
            if extra:
                subject.labels = [*subject.labels, *extra]
            return subject
    first = next((v for v in labels if v.lang == "vi"), labels[0])
    key, n = slugify(first.value), 2
    while db.session.scalar(select(Subject.id).where(Subject.key == key)):
        key, n = f"{slugify(first.value)}-{n}", n + 1
    subject = Subject(key=key, labels=[v.to_dict() for v in labels])
    db.session.add(subject)
    db.session.flush()
    return subject


def get_or_create_agent(name: str, kind: str = "person") -> Agent:
    """Find an agent by exact name, or create one."""
    name = nfc(name.strip())
    agent = db.session.scalar(select(Agent).where(Agent.name == name))
    if agent:
        return agent
    base, slug, n = slugify(name), slugify(name), 2
    while db.session.scalar(select(Agent.id).where(Agent.slug == slug)):
        slug, n = f"{base}-{n}", n + 1
    agent = Agent(name=name, slug=slug, kind=kind)
    db.session.add(agent)
    db.session.flush()
    return agent
