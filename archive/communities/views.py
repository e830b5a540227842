"""Administrators' community groups and memberships; consent records of a record and their withdrawal."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from archive.communities import services
from archive.communities.labels import CONSENT_USES
from archive.communities.models import MEMBER_ROLES, Community, ConsentRecord
from archive.core.access import denial_status
from archive.core.extensions import db
from archive.media.models import MediaFile
from archive.records.models import HeritageRecord
from metadata.languages import LangString

bp = Blueprint("communities", __name__)

MESSAGES = {
    "not_allowed": _l("You may not do this."),
    "name_required": _l("Give the community a name."),
    "bad_role": _l("Choose member or steward."),
    "unknown_user": _l("There is no account with the address %(email)s."),
    "not_a_member": _l("This person is not a member of the community."),
    "given_by_required": _l("Say who gave consent."),
    "community_required": _l("Choose the community, or say on whose behalf consent was given."),
    "uses_required": _l("Choose at least one use the consent covers."),
    "period": _l("The end of the consent cannot be before the day it was given."),
    "already_withdrawn": _l("This consent has already been withdrawn."),
    "reason_required": _l("Say why consent is withdrawn."),
    "bad_date": _l("Enter dates as YYYY-MM-DD."),
}
ROLE_NAMES = {"member": _l("Member"), "steward": _l("Steward")}


def _message(exc: services.CommunityError) -> str:
    return str(MESSAGES.get(exc.code, exc.code)) % exc.params if exc.params else str(MESSAGES.get(exc.code))


def _lang_values(prefix: str) -> list[LangString]:
    values = []
    for lang in ("vi", "en"):
        text = (request.form.get(f"{prefix}_{lang}") or "").strip()
        if text:
            values.append(LangString(text[:5000], lang))
    return values


def _admin_only() -> None:
    if not current_user.is_authenticated or not current_user.is_administrator:
        abort(denial_status())


@bp.route("/admin/communities", methods=["GET", "POST"])
@login_required
def index():
    """Community groups: the list, and a form to create one."""
    _admin_only()
    status = 200
    if request.method == "POST":
        try:
            community = services.save_community(current_user, _lang_values("name"), _lang_values("notice"))
            db.session.commit()
            flash(_("Community group created."), "success")
            return redirect(url_for("communities.detail", slug=community.slug), 303)
        except services.CommunityError as exc:
            db.session.rollback()
            flash(_message(exc), "error")
            status = exc.status
    return render_template("communities/list.html", communities=services.list_communities()), status


@bp.route("/admin/communities/<slug>", methods=["GET", "POST"])
@login_required
def detail(slug: str):
    """One community group: names, protocol notice and members."""
    _admin_only()
    community = services.get_community(slug)
    if community is None:
        abort(404)
    status = 200
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "save":
                services.save_community(current_user, _lang_values("name"), _lang_values("notice"), community)
                message = _("Community group saved.")
            elif action == "add":
                services.add_member(current_user, community, request.form.get("email") or "",
                                    request.form.get("role") or "member")  # fmt: skip
                message = _("Member added.")
            elif action == "remove" and (request.form.get("user_id") or "").isdigit():
                services.remove_member(current_user, community, int(request.form["user_id"]))
                message = _("Member removed.")
            else:
                abort(400)
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("communities.detail", slug=community.slug), 303)
        except services.CommunityError as exc:
            db.session.rollback()
            flash(_message(exc), "error")
            status = exc.status
    return render_template(
        "communities/detail.html", community=community, roles=MEMBER_ROLES, role_names=ROLE_NAMES
    ), status


def _record_for_consent(public_id: str, changing: bool) -> HeritageRecord:
    """The record, if this person may read its consents (curators, its contributor) and, when
    *changing*, change them (never on a withdrawn record)."""
    record = db.session.scalar(select(HeritageRecord).where(HeritageRecord.public_id == public_id))
    if record is None:
        abort(404)
    user = current_user
    may_read = user.is_active and (
        user.is_curator or (user.can_contribute and record.created_by_id == user.id)
    )
    if not may_read or (changing and not services.can_manage_consent(record, user)):
        abort(denial_status())
    return record


def _date(name: str, required: bool) -> dt.date | None:
    text = (request.form.get(name) or "").strip()
    if not text and not required:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise services.CommunityError("bad_date") from None


@bp.route("/records/<public_id>/consent", methods=["GET", "POST"])
@login_required
def consent(public_id: str):
    """The consent records of a record and its media, and a form to record a new one."""
    record = _record_for_consent(public_id, changing=request.method == "POST")
    status = 200
    if request.method == "POST":
        try:
            community_id = request.form.get("community") or ""
            community = db.session.get(Community, int(community_id)) if community_id.isdigit() else None
            media_id = request.form.get("media") or ""
            media = None
            if media_id:
                owned = (MediaFile.public_id == media_id) & (MediaFile.record_id == record.id)
                media = db.session.scalar(select(MediaFile).where(owned))
                if media is None:
                    abort(400)
            services.add_consent(
                current_user,
                record,
                given_by=request.form.get("given_by") or "",
                uses=request.form.getlist("uses"),
                given_on=_date("given_on", True),
                valid_until=_date("valid_until", False),
                community=community,
                on_behalf_of=request.form.get("on_behalf_of"),
                note=_lang_values("note"),
                media=media,
            )
            db.session.commit()
            flash(_("Consent recorded."), "success")
            return redirect(url_for("communities.consent", public_id=record.public_id), 303)
        except services.CommunityError as exc:
            db.session.rollback()
            flash(_message(exc), "error")
            status = exc.status
    return _consent_page(record, status)


def _consent_page(record: HeritageRecord, status: int):
    consents = db.session.scalars(
        select(ConsentRecord).where(ConsentRecord.record_id == record.id).order_by(ConsentRecord.given_on)
    ).all()
    return render_template(
        "communities/consent.html",
        record=record,
        consents=consents,
        uses=CONSENT_USES,
        communities=services.list_communities(),
        media_by_id={m.id: m for m in record.media},
        form=request.form,
    ), status


@bp.post("/records/<public_id>/consent/<int:consent_id>/withdraw")
@login_required
def withdraw(public_id: str, consent_id: int):
    """Withdraw a consent: the material leaves public view at once."""
    record = _record_for_consent(public_id, changing=True)
    consent_row = db.session.get(ConsentRecord, consent_id)
    if consent_row is None or consent_row.record_id != record.id:
        abort(404)
    try:
        services.withdraw_consent(current_user, consent_row, request.form.get("reason") or "")
        db.session.commit()
        flash(_("Consent withdrawn. The material is no longer shown to the public."), "success")
    except services.CommunityError as exc:
        db.session.rollback()
        flash(_message(exc), "error")
        return _consent_page(record, exc.status)
    return redirect(url_for("communities.consent", public_id=record.public_id), 303)
