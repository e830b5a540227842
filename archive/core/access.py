"""Who may see what: the one policy every path to records and media asks (pages, search, facets, IIIF,
renditions, originals, downloads, exports, feeds, API).

The rule has two halves:

1. **The effective access key** of a record or media file, on a given day (Vietnam time):
   ``"public"``, ``"researchers"``, ``"community:<id>"`` or ``"private"``. It starts from the stored
   access level and is narrowed by the community protocols:

   - a withdrawn consent, or consents that have all lapsed, make the material ``"private"`` at once;
   - a record with a "seasonal" label is, outside its season (lunar or Gregorian), shown only to its
     community (``"community:<id>"``), or to nobody beyond the staff when it has none;
   - a "community" level names the community group that holds the protocol; a media file with the
     "community" level but no group of its own takes its record's.

2. **Who holds which keys.** Everyone holds ``"public"``; registered researchers and contributors hold
   ``"researchers"``; members of a community group hold ``"community:<id>"``; nobody holds
   ``"private"``. Curators and administrators see everything except withdrawn records, and so does the
   contributor who created a record or file. Unpublished records (drafts, in review, returned) are seen
   only by their creator and the curators; withdrawn records by nobody (their page answers 410).

A media file is visible when its record is visible and the file's own key is allowed.

The search index stores each record's effective key (:func:`record_key`); the viewer's keys
(:func:`search_viewer`) filter hits, totals and facet counts, so search obeys the same rule. Keys change
with the date only for seasonal labels and lapsing consents: a periodic job re-indexes those records
when the day changes in Vietnam.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from flask import g, has_request_context
from flask_login import current_user
from sqlalchemy import exists, select

from archive.accounts.models import User
from archive.communities.models import CommunityMembership, ConsentRecord, CulturalLabel
from archive.core.extensions import db
from archive.media.models import MediaFile
from archive.records.models import HeritageRecord
from metadata.seasons import Season

VIETNAM = dt.timezone(dt.timedelta(hours=7))
PUBLIC, RESEARCHERS, PRIVATE = "public", "researchers", "private"
STAFF_ROLES = ("curator", "administrator")


def today_in_vietnam() -> dt.date:
    """The date in Vietnam (UTC+7), the day on which seasons and consents are judged."""
    return dt.datetime.now(VIETNAM).date()


# --- who is asking --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reader:
    """The person asking, reduced to what the rule needs."""

    user_id: int | None = None
    role: str | None = None  # None for a visitor
    communities: frozenset[int] = frozenset()

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def holds(self, key: str) -> bool:
        """Whether this person holds an access key (staff and owners are decided before this)."""
        if key == PUBLIC:
            return True
        if key == RESEARCHERS:
            return self.role in ("researcher", "contributor")
        if key.startswith("community:"):
            return int(key.split(":", 1)[1]) in self.communities
        return False


VISITOR = Reader()


def _user(user: User | None) -> User | None:
    if user is None:
        user = current_user._get_current_object() if current_user else None
    return user if user is not None and getattr(user, "is_authenticated", False) and user.is_active else None


def community_ids(user_id: int) -> frozenset[int]:
    """The community groups a user belongs to."""
    rows = db.session.scalars(
        select(CommunityMembership.community_id).where(CommunityMembership.user_id == user_id)
    )
    return frozenset(rows)


def reader_for(user: User | None = None) -> Reader:
    """The Reader for *user* (the signed-in person by default); memberships are read once per request."""
    user = _user(user)
    if user is None:
        return VISITOR
    if has_request_context():
        cache = g.setdefault("_access_readers", {})
        if user.id not in cache:
            cache[user.id] = Reader(user.id, user.role, community_ids(user.id))
        return cache[user.id]
    return Reader(user.id, user.role, community_ids(user.id))


def forget_reader_cache() -> None:
    """Drop the per-request memberships cache (after a membership changes within a request)."""
    if has_request_context():
        g.pop("_access_readers", None)


# --- effective keys -------------------------------------------------------------------------------


def consent_withholds(consents: Iterable[ConsentRecord], today: dt.date) -> bool:
    """True when a consent was withdrawn, or when consents exist and none is in force on *today*."""
    consents = list(consents)
    if not consents:
        return False
    if any(c.withdrawn_at is not None for c in consents):
        return True
    return not any(c.in_force(today) for c in consents)


def season_of(label: CulturalLabel) -> Season:
    """The season of a seasonal label."""
    return Season(label.season_calendar, label.start_month, label.start_day, label.end_month, label.end_day)


def out_of_season(labels: Iterable[CulturalLabel], today: dt.date) -> bool:
    """True when the record has seasonal labels and *today* is in none of their seasons."""
    seasons = [season_of(label) for label in labels if label.kind == "seasonal"]
    return bool(seasons) and not any(s.contains(today) for s in seasons)


def _level_key(level: str, community_id: int | None) -> str:
    if level == "community":
        return f"community:{community_id}" if community_id is not None else PRIVATE
    return level


def record_key(record: HeritageRecord, today: dt.date | None = None) -> str:
    """The record's effective access key on *today* (see the module docstring)."""
    today = today or today_in_vietnam()
    if consent_withholds((c for c in record.consents if c.media_id is None), today):
        return PRIVATE
    key = _level_key(record.access_level, record.community_id)
    if key in (PUBLIC, RESEARCHERS) and out_of_season(record.labels, today):
        key = _level_key("community", record.community_id)
    return key


def media_key(media: MediaFile, today: dt.date | None = None) -> str:
    """The media file's own effective access key on *today* (its record is judged separately)."""
    today = today or today_in_vietnam()
    record = media.record
    if consent_withholds((c for c in record.consents if c.media_id == media.id), today):
        return PRIVATE
    return _level_key(media.access_level, media.community_id or record.community_id)


# --- decisions ------------------------------------------------------------------------------------


def _record_allows(record: HeritageRecord, reader: Reader, today: dt.date) -> bool:
    if record.status == "withdrawn":
        return False
    if reader.is_staff or (reader.user_id is not None and record.created_by_id == reader.user_id):
        return True
    return record.status == "published" and reader.holds(record_key(record, today))


def can_view_record(record: HeritageRecord, user: User | None = None, today: dt.date | None = None) -> bool:
    """May this person see the record's page, metadata and exports?"""
    return _record_allows(record, reader_for(user), today or today_in_vietnam())


def can_view_media(media: MediaFile, user: User | None = None, today: dt.date | None = None) -> bool:
    """May this person see or hear this media file (and its renditions, tiles and captions)?"""
    reader = reader_for(user)
    today = today or today_in_vietnam()
    if not _record_allows(media.record, reader, today):
        return False
    owners = (media.created_by_id, media.record.created_by_id)
    if reader.is_staff or (reader.user_id is not None and reader.user_id in owners):
        return True
    return reader.holds(media_key(media, today))


def is_cacheable_publicly(media: MediaFile, today: dt.date | None = None) -> bool:
    """Whether shared caches may keep the file: public for everyone, and not about to change by date."""
    record = media.record
    if record.status != "published" or any(label.kind == "seasonal" for label in record.labels):
        return False
    if any(c.valid_until is not None for c in record.consents):
        return False
    return record_key(record, today) == PUBLIC and media_key(media, today) == PUBLIC


@dataclass(frozen=True)
class MediaAccessFacts:
    """The columns the rule needs for hot paths (IIIF tiles), read without loading ORM objects.

    ``protocols`` is True when the record or file has consent records or seasonal labels: then the
    caller must decide on the loaded objects (:func:`can_view_media`), since the answer depends on them.
    """

    access_level: str
    owner_id: int | None
    community_id: int | None
    record_status: str
    record_access_level: str
    record_owner_id: int | None
    record_community_id: int | None
    protocols: bool

    @property
    def simply_public(self) -> bool:
        """Public for everyone, by columns alone."""
        return (
            not self.protocols
            and self.record_status == "published"
            and self.access_level == PUBLIC
            and self.record_access_level == PUBLIC
        )


def media_fact_columns() -> tuple:
    """The select() columns that make a MediaAccessFacts (join MediaFile to HeritageRecord)."""
    protocols = exists().where(ConsentRecord.record_id == HeritageRecord.id) | exists().where(
        CulturalLabel.record_id == HeritageRecord.id, CulturalLabel.kind == "seasonal"
    )
    return (
        MediaFile.access_level,
        MediaFile.created_by_id,
        MediaFile.community_id,
        HeritageRecord.status,
        HeritageRecord.access_level,
        HeritageRecord.created_by_id,
        HeritageRecord.community_id,
        protocols,
    )


def can_view_media_facts(facts: MediaAccessFacts, load_media, user: User | None = None) -> bool:
    """The media rule from columns; *load_media()* gives the MediaFile when protocols must be read."""
    if facts.protocols:
        return can_view_media(load_media(), user)
    reader = reader_for(user)
    if facts.record_status == "withdrawn":
        return False
    owners = (facts.owner_id, facts.record_owner_id)
    if reader.is_staff or (reader.user_id is not None and reader.user_id in owners):
        return True
    return (
        facts.record_status == "published"
        and reader.holds(_level_key(facts.record_access_level, facts.record_community_id))
        and reader.holds(_level_key(facts.access_level, facts.community_id or facts.record_community_id))
    )


def can_add_media(record: HeritageRecord, user: User | None = None) -> bool:
    """May this person upload media to the record (or change its files)? Never on a withdrawn record."""
    user = _user(user)
    if user is None or not user.can_contribute or record.status == "withdrawn":
        return False
    return user.is_curator or record.created_by_id == user.id


def can_edit_record(record: HeritageRecord, user: User | None = None) -> bool:
    """May this person edit the record's description? Curators always (except withdrawn records); its
    contributor while it is a draft or has been returned."""
    user = _user(user)
    if user is None or not user.can_contribute or record.status == "withdrawn":
        return False
    return user.is_curator or (record.created_by_id == user.id and record.status in ("draft", "returned"))


def denial_status(user: User | None = None) -> int:
    """401 for an anonymous visitor (logging in may help), 403 for a signed-in person."""
    return 401 if _user(user) is None else 403


def restriction_notice(record: HeritageRecord, today: dt.date | None = None) -> str | None:
    """Why a published record is withheld from someone who may not see it, when the community wants that
    said: "community" (its protocol notice is shown) or "seasonal"; None when it must look absent."""
    today = today or today_in_vietnam()
    if record.status != "published":
        return None
    if consent_withholds((c for c in record.consents if c.media_id is None), today):
        return None
    if out_of_season(record.labels, today) and record.access_level in (PUBLIC, RESEARCHERS):
        return "seasonal"
    if record.access_level == "community" and record.community is not None:
        return "community"
    return None


def search_viewer(user: User | None = None):
    """The rule above, reduced for the search backends (archive.search.base.Viewer)."""
    from archive.search.base import ANONYMOUS, Viewer

    reader = reader_for(user)
    if reader.user_id is None:
        return ANONYMOUS
    if reader.is_staff:
        return Viewer(levels=frozenset({PUBLIC, RESEARCHERS, PRIVATE}), user_id=reader.user_id,
                      sees_unpublished=True)  # fmt: skip
    levels = {PUBLIC}
    if reader.holds(RESEARCHERS):
        levels.add(RESEARCHERS)
    levels.update(f"community:{cid}" for cid in reader.communities)
    return Viewer(levels=frozenset(levels), user_id=reader.user_id)


def withheld_from_visitors(today: dt.date | None = None) -> set[int]:
    """Ids of published, public-level records that the protocols hide from visitors on *today* (withdrawn
    or lapsed consent, out of season). Only records with consents or seasonal labels are read."""
    from sqlalchemy.orm import selectinload

    today = today or today_in_vietnam()
    with_protocols = select(ConsentRecord.record_id).union(
        select(CulturalLabel.record_id).where(CulturalLabel.kind == "seasonal")
    )
    records = db.session.scalars(
        select(HeritageRecord)
        .where(
            HeritageRecord.id.in_(with_protocols),
            HeritageRecord.status == "published",
            HeritageRecord.access_level == PUBLIC,
        )  # fmt: skip
        .options(selectinload(HeritageRecord.consents), selectinload(HeritageRecord.labels))
    )
    return {r.id for r in records if record_key(r, today) != PUBLIC}


def media_notice(media: MediaFile, user: User | None = None):
    """The community whose protocol notice replaces a media file this person may not see (None when the
    file must simply be left out)."""
    if can_view_media(media, user) or not can_view_record(media.record, user):
        return None
    if media_key(media).startswith("community:"):
        return media.community or media.record.community
    return None
