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


def can_view_record(record: HeritageRecord, user: User | None = None) -> bool:
    """May this person see the record's page and metadata?"""
    user = _user(user)
    if record.status != "published":
        if record.status == "withdrawn":
            return False
        return user is not None and (user.is_curator or record.created_by_id == user.id)
    return _level_allows(record.access_level, user, record.created_by_id)


def can_view_media(media: MediaFile, user: User | None = None) -> bool:
    """May this person see or hear this media file (and its renditions, tiles and captions)?"""
    user = _user(user)
    return can_view_record(media.record, user) and _level_allows(
        media.access_level, user, media.created_by_id
    )


def can_add_media(record: HeritageRecord, user: User | None = None) -> bool:
    """May this person upload media to the record?"""
    user = _user(user)
    return user is not None and user.can_contribute and (user.is_curator or record.created_by_id == user.id)


def denial_status(user: User | None = None) -> int:
    """401 for an anonymous visitor (logging in may help), 403 for a signed-in person."""
    return 401 if _user(user) is None else 403
