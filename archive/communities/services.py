"""Community groups and memberships, consent records and their withdrawal. Flush, never commit."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from archive.accounts.models import User
from archive.audit import record as audit_record
from archive.communities.models import (
    CONSENT_USES,
    MEMBER_ROLES,
    Community,
    CommunityMembership,
    ConsentRecord,
)
from archive.core.access import forget_reader_cache
from archive.core.extensions import db
from archive.core.types import from_langstrings, utcnow
from archive.media.models import MediaFile
from archive.records.models import HeritageRecord
from metadata.languages import LangString
from metadata.text import slugify

logger = logging.getLogger(__name__)


class CommunityError(Exception):
    """A user-caused problem: carries a message code (translated by the views) and an HTTP status."""

    def __init__(self, code: str, status: int = 400, **params):
        super().__init__(code)
        self.code = code
        self.status = status
        self.params = params


def _require_admin(actor: User) -> None:
    if not actor.is_administrator:
        raise CommunityError("not_allowed", 403)


def list_communities() -> list[Community]:
    """Every community group, by slug."""
    return list(db.session.scalars(select(Community).order_by(Community.slug)))


def get_community(slug: str) -> Community | None:
    """A community group by slug."""
    return db.session.scalar(select(Community).where(Community.slug == slug))


def save_community(
    actor: User,
    names: list[LangString],
    notice: list[LangString],
    community: Community | None = None,
) -> Community:
    """Create a community group, or change its names and protocol notice (administrators)."""
    _require_admin(actor)
    if not names:
        raise CommunityError("name_required")
    if community is None:
        base = slugify(names[0].value)[:70] or "community"
        slug, n = base, 2
        while get_community(slug) is not None:
            slug, n = f"{base}-{n}", n + 1
        community = Community(slug=slug)
        db.session.add(community)
    community.name = from_langstrings(names)
    community.protocol_notice = from_langstrings(notice)
    db.session.flush()
    return community


def add_member(actor: User, community: Community, email: str, role: str = "member") -> CommunityMembership:
    """Add a user (by e-mail) to a community group (administrators)."""
    _require_admin(actor)
    if role not in MEMBER_ROLES:
        raise CommunityError("bad_role")
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise CommunityError("unknown_user", 404, email=email)
    membership = db.session.get(CommunityMembership, (community.id, user.id))
    if membership is None:
        membership = CommunityMembership(community=community, user_id=user.id, added_by_id=actor.id)
        db.session.add(membership)
    membership.role = role
    db.session.flush()
    audit_record("member_added", "community", community.id, f"{user.email} → {community.slug} ({role})",
                 actor=actor)  # fmt: skip
    forget_reader_cache()
    return membership


def remove_member(actor: User, community: Community, user_id: int) -> None:
    """Remove a user from a community group (administrators)."""
    _require_admin(actor)
    membership = db.session.get(CommunityMembership, (community.id, user_id))
    if membership is None:
        raise CommunityError("not_a_member", 404)
    email = membership.user.email
    db.session.delete(membership)
    db.session.flush()
    audit_record("member_removed", "community", community.id, f"{email} ← {community.slug}", actor=actor)
    forget_reader_cache()


# --- consent --------------------------------------------------------------------------------------


def can_manage_consent(record: HeritageRecord, user: User | None) -> bool:
    """Curators manage consent on every record; a contributor on the records they created; nobody on a
    withdrawn record (its history stays as it was)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if record.status == "withdrawn":
        return False
    return user.is_curator or (user.can_contribute and record.created_by_id == user.id)


def add_consent(
    actor: User,
    record: HeritageRecord,
    *,
    given_by: str,
    uses: list[str],
    given_on: dt.date,
    valid_until: dt.date | None = None,
    community: Community | None = None,
    on_behalf_of: str | None = None,
    note: list[LangString] | None = None,
    media: MediaFile | None = None,
) -> ConsentRecord:
    """Record a consent for a record or one of its media files; raises CommunityError for bad input."""
    if not can_manage_consent(record, actor):
        raise CommunityError("not_allowed", 403)
    given_by = (given_by or "").strip()
    if not given_by:
        raise CommunityError("given_by_required")
    if community is None and not (on_behalf_of or "").strip():
        raise CommunityError("community_required")
    if not uses or any(u not in CONSENT_USES for u in uses):
        raise CommunityError("uses_required")
    if valid_until is not None and valid_until < given_on:
        raise CommunityError("period")
    if media is not None and media.record_id != record.id:
        raise CommunityError("not_allowed", 404)
    consent = ConsentRecord(
        record_id=record.id,
        media_id=media.id if media is not None else None,
        given_by=given_by[:200],
        community_id=community.id if community is not None else None,
        on_behalf_of=(on_behalf_of or "").strip()[:300] or None,
        uses=sorted(set(uses), key=CONSENT_USES.index),
        given_on=given_on,
        valid_until=valid_until,
        note=from_langstrings(note or []),
        created_by_id=actor.id,
    )
    db.session.add(consent)
    db.session.flush()
    return consent


def withdraw_consent(actor: User, consent: ConsentRecord, reason: str) -> None:
    """Withdraw a consent: the material leaves public view at once (every path asks the access policy,
    and the search outbox is written in this transaction); logged and notified."""
    from archive.workflow.services import notify

    record = db.session.get(HeritageRecord, consent.record_id)
    if not can_manage_consent(record, actor):
        raise CommunityError("not_allowed", 403)
    if consent.withdrawn_at is not None:
        raise CommunityError("already_withdrawn", 409)
    reason = (reason or "").strip()
    if not reason:
        raise CommunityError("reason_required")
    consent.withdrawn_at = utcnow()
    consent.withdrawn_by_id = actor.id
    consent.withdrawal_reason = reason[:5000]
    db.session.flush()
    target = f"media #{consent.media_id}" if consent.media_id else f"record {record.public_id}"
    summary = f"consent #{consent.id} by {consent.given_by} for {target}: {reason}"
    audit_record("consent_withdrawn", "consent_record", consent.id, summary, actor=actor)
    from archive.workflow.services import curators

    concerned = [u for u in [record.created_by, *curators()] if u is not None and u.id != actor.id]
    notify(concerned, record, "consent_withdrawn")
    logger.info("consent %s on %s withdrawn by %s", consent.id, target, actor.email)
