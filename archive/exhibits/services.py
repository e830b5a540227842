"""The exhibits' operations: reading them for visitors (with the access rule applied to every record and
media file they show) and the curators' changes, each checked, flushed and written to the audit log.

Services flush but never commit: the request commits. Every change raises the exhibit's version counter
(SQLAlchemy's ``version_id_col``), so a form opened before someone else's change is refused (409).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from archive.accounts.models import User
from archive.audit import record as audit_record
from archive.core.access import can_view_media, can_view_record
from archive.core.extensions import db
from archive.core.types import from_langstrings, utcnow
from archive.exhibits.models import SECTION_KINDS, Exhibit, ExhibitItem, ExhibitSection
from archive.media.models import MediaFile
from archive.records.models import HeritageRecord
from metadata.languages import LangString

logger = logging.getLogger(__name__)

_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: Most records one "records" section may feature.
MAX_ITEMS = 24


class ExhibitError(Exception):
    """A change refused: ``code`` names the message (see the views), ``status`` the HTTP status."""

    def __init__(self, code: str, status: int = 400, **params) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.params = params


class StaleExhibit(ExhibitError):
    """The form was opened before another change to the exhibit (409)."""

    def __init__(self) -> None:
        super().__init__("stale", 409)


# --- who may do what ---------------------------------------------------------------------------------


def is_curator(user: User | None) -> bool:
    """Curators and administrators build exhibits and preview drafts."""
    return user is not None and getattr(user, "is_authenticated", False) and bool(user.is_curator)


def _require_curator(user: User | None) -> None:
    if not is_curator(user):
        raise ExhibitError("not_allowed", 403)


def can_view_exhibit(exhibit: Exhibit, user: User | None) -> bool:
    """Published exhibits are for everyone; drafts only for curators (previewing)."""
    return exhibit.status == "published" or is_curator(user)


# --- reading -----------------------------------------------------------------------------------------


def _eager(stmt):
    return stmt.options(
        selectinload(Exhibit.cover).selectinload(MediaFile.record),
        selectinload(Exhibit.sections).selectinload(ExhibitSection.media).selectinload(MediaFile.captions),
        selectinload(Exhibit.sections).selectinload(ExhibitSection.media).selectinload(MediaFile.derivatives),
        selectinload(Exhibit.sections).selectinload(ExhibitSection.items).selectinload(ExhibitItem.record),
    )


def published_exhibits() -> list[Exhibit]:
    """Published exhibits in their curated order."""
    stmt = select(Exhibit).where(Exhibit.status == "published").order_by(Exhibit.position, Exhibit.id)
    return list(db.session.scalars(_eager(stmt)))


def featured_exhibits(limit: int = 3) -> list[Exhibit]:
    """Published exhibits marked for the home page, in their curated order."""
    stmt = (
        select(Exhibit)
        .where(Exhibit.status == "published", Exhibit.featured.is_(True))
        .order_by(Exhibit.position, Exhibit.id)
        .limit(limit)
    )
    return list(db.session.scalars(_eager(stmt)))


def all_exhibits(user: User | None) -> list[Exhibit]:
    """Every exhibit, drafts too, for the curators' list."""
    _require_curator(user)
    return list(db.session.scalars(select(Exhibit).order_by(Exhibit.position, Exhibit.id)))


def get_by_slug(slug: str) -> Exhibit | None:
    """An exhibit by slug with its sections (check :func:`can_view_exhibit` before showing it)."""
    return db.session.scalar(_eager(select(Exhibit).where(Exhibit.slug == slug)))


def get_by_id(exhibit_id: int) -> Exhibit | None:
    """An exhibit by id with its sections."""
    return db.session.scalar(_eager(select(Exhibit).where(Exhibit.id == exhibit_id)))


def visible_cover(exhibit: Exhibit, user: User | None = None) -> MediaFile | None:
    """The cover image, when it is ready and this person may see it."""
    media = exhibit.cover
    if media is None or media.kind != "image" or media.state != "ready" or not can_view_media(media, user):
        return None
    return media


@dataclass
class ShownItem:
    """A featured record this person may see, with the picture shown beside it (if any)."""

    item: ExhibitItem
    record: HeritageRecord
    thumbnail: MediaFile | None = None


@dataclass
class ShownSection:
    """A section as shown to one person: only what they may see."""

    section: ExhibitSection
    items: list[ShownItem] = field(default_factory=list)
    media: MediaFile | None = None


def shown_sections(exhibit: Exhibit, user: User | None = None) -> list[ShownSection]:
    """The sections this person may see, in order. A featured record or media file they may not see is
    left out without a trace; a section left with nothing to show is left out whole (its heading too,
    since a curator's heading may name what is hidden)."""
    shown = []
    for section in exhibit.sections:
        if section.kind == "narrative":
            if section.body_values:
                shown.append(ShownSection(section))
        elif section.kind == "records":
            items = []
            for item in section.items:
                if can_view_record(item.record, user):
                    thumb = next(
                        (m for m in item.record.media
                         if m.kind == "image" and m.state == "ready" and can_view_media(m, user)),
                        None,
                    )  # fmt: skip
                    items.append(ShownItem(item, item.record, thumb))
            if items:
                shown.append(ShownSection(section, items=items))
        else:
            media = section.media
            if media is not None and media.state == "ready" and can_view_media(media, user):
                shown.append(ShownSection(section, media=media))
    return shown


# --- validation helpers (plain values) --------------------------------------------------------------


def valid_slug(slug: str) -> bool:
    """Lowercase ASCII words joined by single hyphens, at most 120 characters."""
    return bool(slug) and len(slug) <= 120 and bool(_SLUG_RE.match(slug))


def parse_region(text: str, width: int | None, height: int | None) -> tuple[int, int, int, int]:
    """An IIIF pixel region ``x,y,w,h`` inside the image; raises ValueError when it is not one."""
    parts = text.split(",")
    if len(parts) != 4 or not all(p.strip().isdigit() for p in parts):
        raise ValueError("format")
    x, y, w, h = (int(p) for p in parts)
    if w <= 0 or h <= 0:
        raise ValueError("empty")
    if width and height and (x >= width or y >= height or x + w > width or y + h > height):
        raise ValueError("outside")
    return x, y, w, h


def parse_seconds(text: str) -> float:
    """Seconds from ``"65"``, ``"65.5"``, ``"1:05"`` or ``"1:01:05"``; raises ValueError otherwise."""
    text = text.strip().replace(",", ".")
    if not text:
        raise ValueError("empty")
    parts = text.split(":")
    if len(parts) > 3 or any(not p or not p.replace(".", "", 1).isdigit() for p in parts):
        raise ValueError("format")
    if any("." in p for p in parts[:-1]):
        raise ValueError("format")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    if len(parts) > 1 and float(parts[-1]) >= 60:
        raise ValueError("format")
    return seconds


def format_time(seconds: float) -> str:
    """``65`` -> ``"1:05"``, ``3725`` -> ``"1:02:05"`` (fractions of a second are dropped)."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


# --- changes -----------------------------------------------------------------------------------------


@dataclass
class ExhibitData:
    """The fields of an exhibit, already checked by the form."""

    slug: str
    title: list[LangString]
    introduction: list[LangString]
    status: str = "draft"
    featured: bool = False
    position: int = 0
    cover: MediaFile | None = None


def _snapshot(exhibit: Exhibit) -> dict:
    return {
        "slug": exhibit.slug,
        "title": exhibit.title,
        "introduction": exhibit.introduction,
        "status": exhibit.status,
        "featured": exhibit.featured,
        "position": exhibit.position,
        "cover": exhibit.cover.public_id if exhibit.cover else None,
    }


def _section_snapshot(section: ExhibitSection) -> dict:
    return {
        "kind": section.kind,
        "position": section.position,
        "heading": section.heading,
        "body": section.body,
        "media": section.media.public_id if section.media else None,
        "region": section.region,
        "caption": section.caption,
        "alt": section.alt,
        "start": section.start_seconds,
        "end": section.end_seconds,
        "records": [i.record.public_id for i in section.items],
    }


def _check_version(exhibit: Exhibit, version: int | None, required: bool = False) -> None:
    """Refuse a change made from a form opened on another version (or, when ``required``, from no form:
    deleting needs to know what the curator saw). The exhibit's row is locked until the transaction ends
    (PostgreSQL), so a concurrent change of the same version waits for this one and is then refused."""
    if version is None and required:
        raise StaleExhibit()
    if version is not None and exhibit.id is not None:
        current = db.session.scalar(
            select(Exhibit.version_id).where(Exhibit.id == exhibit.id).with_for_update()
        )
        if version != current:
            raise StaleExhibit()


def _touch(exhibit: Exhibit) -> None:
    """Raise the exhibit's version: its sections changed."""
    exhibit.updated_at = utcnow()


def _slug_taken(slug: str, exhibit: Exhibit | None) -> bool:
    other = db.session.scalar(select(Exhibit.id).where(Exhibit.slug == slug))
    return other is not None and (exhibit is None or other != exhibit.id)


def create_exhibit(user: User, data: ExhibitData) -> Exhibit:
    """Create an exhibit (curators)."""
    _require_curator(user)
    if _slug_taken(data.slug, None):
        raise ExhibitError("slug_taken", 400)
    exhibit = Exhibit(created_by_id=user.id)
    _apply(exhibit, data)
    db.session.add(exhibit)
    db.session.flush()
    audit_record("exhibit_created", "exhibit", exhibit.id, f"{exhibit.slug} ({exhibit.status})",
                 after=_snapshot(exhibit), actor=user)  # fmt: skip
    return exhibit


def update_exhibit(user: User, exhibit: Exhibit, data: ExhibitData, version: int | None) -> Exhibit:
    """Change an exhibit's own fields (curators); 409 when *version* is not the current one."""
    _require_curator(user)
    _check_version(exhibit, version)
    if _slug_taken(data.slug, exhibit):
        raise ExhibitError("slug_taken", 400)
    before = _snapshot(exhibit)
    _apply(exhibit, data)
    db.session.flush()
    audit_record("exhibit_updated", "exhibit", exhibit.id, f"{exhibit.slug} ({exhibit.status})",
                 before=before, after=_snapshot(exhibit), actor=user)  # fmt: skip
    return exhibit


def _apply(exhibit: Exhibit, data: ExhibitData) -> None:
    exhibit.slug = data.slug
    exhibit.title = from_langstrings(data.title)
    exhibit.introduction = from_langstrings(data.introduction)
    exhibit.status = data.status
    exhibit.featured = data.featured
    exhibit.position = data.position
    exhibit.cover = data.cover


def delete_exhibit(user: User, exhibit: Exhibit, version: int | None) -> None:
    """Delete an exhibit and its sections (curators); the records and media stay as they are."""
    _require_curator(user)
    _check_version(exhibit, version, required=True)
    before = _snapshot(exhibit)
    exhibit_id, slug = exhibit.id, exhibit.slug
    db.session.delete(exhibit)
    db.session.flush()
    audit_record("exhibit_deleted", "exhibit", exhibit_id, slug, before=before, actor=user)


@dataclass
class SectionData:
    """The fields of a section, already checked by the form."""

    kind: str
    heading: list[LangString] = field(default_factory=list)
    body: list[LangString] = field(default_factory=list)
    media: MediaFile | None = None
    region: str | None = None
    caption: list[LangString] = field(default_factory=list)
    alt: list[LangString] = field(default_factory=list)
    start_seconds: float | None = None
    end_seconds: float | None = None
    #: Records section: (record, note) pairs in order.
    items: list[tuple[HeritageRecord, list[LangString]]] = field(default_factory=list)


def add_section(user: User, exhibit: Exhibit, data: SectionData, version: int | None) -> ExhibitSection:
    """Append a section to an exhibit (curators)."""
    _require_curator(user)
    _check_version(exhibit, version)
    if data.kind not in SECTION_KINDS:
        raise ExhibitError("bad_kind", 400)
    position = max((s.position for s in exhibit.sections), default=-1) + 1
    section = ExhibitSection(kind=data.kind, position=position)
    _apply_section(section, data)
    exhibit.sections.append(section)
    _touch(exhibit)
    db.session.flush()
    summary = f"{exhibit.slug} · {data.kind} #{section.id}"
    audit_record("exhibit_section_added", "exhibit", exhibit.id, summary,
                 after=_section_snapshot(section), actor=user)  # fmt: skip
    return section


def update_section(
    user: User, exhibit: Exhibit, section: ExhibitSection, data: SectionData, version: int | None
) -> ExhibitSection:
    """Change a section (its kind stays); 409 when *version* is not the exhibit's current one."""
    _require_curator(user)
    _check_version(exhibit, version)
    before = _section_snapshot(section)
    _apply_section(section, data)
    _touch(exhibit)
    db.session.flush()
    audit_record("exhibit_section_updated", "exhibit", exhibit.id,
                 f"{exhibit.slug} · {section.kind} #{section.id}", before=before,
                 after=_section_snapshot(section), actor=user)  # fmt: skip
    return section


def _apply_section(section: ExhibitSection, data: SectionData) -> None:
    section.heading = from_langstrings(data.heading)
    section.body = from_langstrings(data.body) if section.kind == "narrative" else []
    media_kind = section.kind in ("image", "excerpt")
    section.media = data.media if media_kind else None
    section.caption = from_langstrings(data.caption) if media_kind else []
    section.region = data.region if section.kind == "image" else None
    section.alt = from_langstrings(data.alt) if section.kind == "image" else []
    section.start_seconds = data.start_seconds if section.kind == "excerpt" else None
    section.end_seconds = data.end_seconds if section.kind == "excerpt" else None
    if section.kind == "records":
        section.items.clear()
        for position, (record, note) in enumerate(data.items[:MAX_ITEMS]):
            section.items.append(ExhibitItem(record=record, position=position, note=from_langstrings(note)))


def delete_section(user: User, exhibit: Exhibit, section: ExhibitSection, version: int | None) -> None:
    """Remove a section from an exhibit (curators)."""
    _require_curator(user)
    _check_version(exhibit, version, required=True)
    before = _section_snapshot(section)
    section_id = section.id
    exhibit.sections.remove(section)
    _renumber(exhibit)
    _touch(exhibit)
    db.session.flush()
    summary = f"{exhibit.slug} · {before['kind']} #{section_id}"
    audit_record("exhibit_section_deleted", "exhibit", exhibit.id, summary,
                 before=before, actor=user)  # fmt: skip


def move_section(
    user: User, exhibit: Exhibit, section: ExhibitSection, direction: str, version: int | None
) -> bool:
    """Move a section one place up or down; False when it is already first (or last)."""
    _require_curator(user)
    _check_version(exhibit, version)
    if direction not in ("up", "down"):
        raise ExhibitError("bad_direction", 400)
    order = list(exhibit.sections)
    index = order.index(section)
    other = index - 1 if direction == "up" else index + 1
    if other < 0 or other >= len(order):
        return False
    order[index], order[other] = order[other], order[index]
    for position, item in enumerate(order):
        item.position = position
    _touch(exhibit)
    db.session.flush()
    db.session.expire(exhibit, ["sections"])
    audit_record("exhibit_section_moved", "exhibit", exhibit.id,
                 f"{exhibit.slug} · {section.kind} #{section.id} {direction} to {other + 1}",
                 actor=user)  # fmt: skip
    return True


def _renumber(exhibit: Exhibit) -> None:
    for position, section in enumerate(exhibit.sections):
        section.position = position


# --- look-ups for the forms --------------------------------------------------------------------------


def find_record(public_id: str) -> HeritageRecord | None:
    """A record that may be featured, by public id (withdrawn records may not)."""
    record = db.session.scalar(select(HeritageRecord).where(HeritageRecord.public_id == public_id.strip()))
    return None if record is None or record.status == "withdrawn" else record


def find_media(public_id: str) -> MediaFile | None:
    """A media file by public id (of a record that is not withdrawn)."""
    media = db.session.scalar(select(MediaFile).where(MediaFile.public_id == public_id.strip()))
    return None if media is None or media.record.status == "withdrawn" else media


def record_choices() -> list[HeritageRecord]:
    """Records a curator may feature, for the picker's suggestions (published first, newest first)."""
    stmt = (
        select(HeritageRecord)
        .where(HeritageRecord.status != "withdrawn")
        .options(selectinload(HeritageRecord.texts))
        .order_by((HeritageRecord.status == "published").desc(), HeritageRecord.id.desc())
        .limit(500)
    )
    return list(db.session.scalars(stmt))


def media_choices(kinds: tuple[str, ...]) -> list[MediaFile]:
    """Ready media files of the given kinds, for the picker's suggestions."""
    stmt = (
        select(MediaFile)
        .join(HeritageRecord, MediaFile.record_id == HeritageRecord.id)
        .where(MediaFile.kind.in_(kinds), MediaFile.state == "ready", HeritageRecord.status != "withdrawn")
        .options(selectinload(MediaFile.record).selectinload(HeritageRecord.texts))
        .order_by(MediaFile.id.desc())
        .limit(500)
    )
    return list(db.session.scalars(stmt))
