"""Who may see what. Every path to records and media (pages, downloads, IIIF, renditions) asks here.

The full community protocols (community groups, consent, seasonal labels) come with the access issue;
the rules below already hold on every path:
- public, published material: everyone;
- "researchers" material: registered researchers and staff;
- community-restricted and private material: curators and administrators, and the contributor who
  created it;
- drafts and records in review: their creator and curators.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_login import current_user

from archive.accounts.models import User
from archive.media.models import MediaFile
from archive.records.models import HeritageRecord


def _user(user: User | None) -> User | None:
    if user is None:
        user = current_user._get_current_object() if current_user else None
    return user if user is not None and getattr(user, "is_authenticated", False) and user.is_active else None


def _level_allows(level: str, user: User | None, owner_id: int | None) -> bool:
    if level == "public":
        return True
    if user is None:
        return False
    if user.is_curator or (owner_id is not None and owner_id == user.id):
        return True
    return level == "researchers" and user.role in ("researcher", "contributor")


def _record_allows(status: str, level: str, owner_id: int | None, user: User | None) -> bool:
    if status != "published":
        if status == "withdrawn":
            return False
        return user is not None and (user.is_curator or owner_id == user.id)
    return _level_allows(level, user, owner_id)


def can_view_record(record: HeritageRecord, user: User | None = None) -> bool:
    """May this person see the record's page and metadata?"""
    return _record_allows(record.status, record.access_level, record.created_by_id, _user(user))


@dataclass(frozen=True)
class MediaAccessFacts:
    """The columns the rule needs, for hot paths (IIIF tiles) that read them without loading objects."""

    access_level: str
    owner_id: int | None
    record_status: str
    record_access_level: str
    record_owner_id: int | None


def can_view_media_facts(facts: MediaAccessFacts, user: User | None = None) -> bool:
    """May this person see or hear a media file, given its and its record's access columns?"""
    user = _user(user)
    return _record_allows(facts.record_status, facts.record_access_level, facts.record_owner_id, user) and (
        _level_allows(facts.access_level, user, facts.owner_id)
    )


def can_view_media(media: MediaFile, user: User | None = None) -> bool:
    """May this person see or hear this media file (and its renditions, tiles and captions)?"""
    record = media.record
    facts = MediaAccessFacts(media.access_level, media.created_by_id, record.status, record.access_level,
                             record.created_by_id)  # fmt: skip
    return can_view_media_facts(facts, user)


def can_add_media(record: HeritageRecord, user: User | None = None) -> bool:
    """May this person upload media to the record?"""
    user = _user(user)
    return user is not None and user.can_contribute and (user.is_curator or record.created_by_id == user.id)


def denial_status(user: User | None = None) -> int:
    """401 for an anonymous visitor (logging in may help), 403 for a signed-in person."""
    return 401 if _user(user) is None else 403


def search_viewer(user: User | None = None):
    """The access rule above, reduced for the search backends (archive.search.base.Viewer)."""
    from archive.search.base import ANONYMOUS, Viewer

    user = _user(user)
    if user is None:
        return ANONYMOUS
    if user.is_curator:
        return Viewer(levels=frozenset({"public", "researchers", "community", "private"}), user_id=user.id,
                      sees_unpublished=True)  # fmt: skip
    levels = {"public", "researchers"} if user.role in ("researcher", "contributor") else {"public"}
    return Viewer(levels=frozenset(levels), user_id=user.id)
