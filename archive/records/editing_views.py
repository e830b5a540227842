"""The contributor workspace: the record form (new and edit), workflow buttons, "My records", the
curators' review queue, notifications, and the JSON pickers the form's comboboxes use."""

from __future__ import annotations

import datetime as dt
import functools
import logging

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import case, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from archive.communities.labels import LABEL_MEANINGS, LABEL_NAMES
from archive.communities.models import LABEL_KINDS, Community, CulturalLabel
from archive.core.access import can_add_media, can_edit_record, can_view_record
from archive.core.extensions import db
from archive.core.i18n import current_language
from archive.core.security import safe_local_path
from archive.core.types import utcnow
from archive.media.views import STATE_LABELS, reason_text
from archive.records import forms, services
from archive.records.models import HeritageRecord
from archive.vocab import services as vocab
from archive.vocab.models import AGENT_ROLES, Agent, Collection, EthnicGroup, Place, Subject
from archive.workflow import services as workflow
from archive.workflow.models import Notification, RecordRevision, WorkflowEvent
from metadata.categories import CATEGORIES
from metadata.languages import pick
from metadata.lunar import SUPPORTED_YEARS, LunarDateError, LunarRecurrence, month_start
from metadata.text import fold, name_key

logger = logging.getLogger(__name__)

bp = Blueprint("editing", __name__)

#: Suggestions a picker returns at most.
PICKER_LIMIT = 20
#: Longest picker query, in characters.
PICKER_QUERY_LIMIT = 100

#: What a workflow action did, said to the person who did it.
RESULT_MESSAGES = {
    "submit": _l("“%(title)s” was submitted for review. A curator will read it."),
    "publish": _l("“%(title)s” was published."),
    "return": _l("“%(title)s” was returned to its contributor with your comments."),
    "withdraw": _l("“%(title)s” was withdrawn."),
}
#: Headings of the groups of "My records", in order.
MY_GROUPS = (
    ("draft", _l("Drafts")),
    ("in_review", _l("Submitted for review")),
    ("returned", _l("Returned with comments")),
    ("published", _l("Published")),
    ("withdrawn", _l("Withdrawn")),
)


@bp.app_context_processor
def _navigation() -> dict:
    return {"unread_notifications": _unread_notifications}


def _unread_notifications() -> int:
    """How many notifications the signed-in person has not read (0 for a visitor)."""
    if not current_user.is_authenticated:
        return 0
    try:
        return workflow.unread_count(current_user)
    except SQLAlchemyError:  # e.g. an error page shown after a failed transaction
        logger.warning("unread notifications of user %s not counted", current_user.id, exc_info=True)
        return 0


def _contributor() -> None:
    if not current_user.can_contribute:
        abort(403)


def _title(record: HeritageRecord) -> str:
    chosen = pick(record.values("title"), current_language())
    return chosen.value if chosen else record.slug


def _load_record(public_id: str) -> HeritageRecord:
    """The record when this person may see it; 404 otherwise (as the record page does, nobody learns that
    a hidden record exists), 410 for a withdrawn one."""
    record = services.get_record(public_id)
    if record is None:
        abort(404)
    if not can_view_record(record):
        abort(410 if record.status == "withdrawn" else 404)
    return record


# --- the record form --------------------------------------------------------------------------------


def _choices() -> dict:
    """The options of the form's selects and checkboxes."""
    communities = db.session.scalars(select(Community).order_by(Community.slug)).all()
    collections = db.session.scalars(select(Collection).order_by(Collection.slug)).all()
    return {
        "categories": CATEGORIES,
        "statuses": forms.NEW_RECORD_STATUSES,
        "status_labels": workflow.STATUS_LABELS,
        "access_levels": forms.ACCESS_LABELS,
        "communities": communities,
        "collections": collections,
        "agent_roles": AGENT_ROLES,
        "agent_kinds": forms.AGENT_KIND_LABELS,
        "date_kinds": forms.DATE_KIND_LABELS,
        "calendars": forms.CALENDAR_LABELS,
        "place_systems": forms.PLACE_SYSTEM_LABELS,
        "rights_choices": forms.RIGHTS_CHOICES,
        "label_kinds": LABEL_KINDS,
        "label_names": LABEL_NAMES,
        "label_meanings": LABEL_MEANINGS,
        "text_labels": forms.TEXT_FIELD_LABELS,
        "text_hints": forms.TEXT_FIELD_HINTS,
        "long_fields": forms.LONG_TEXT_FIELDS,
        "summary_label": forms.summary_label,
        "ordered_errors": forms.ordered_errors,
        "preview_year": dt.date.today().year + 1,
        "form_strings": {
            "add_row": _("Add another"),
            "none": _("No suggestions."),
            "one": _("1 suggestion. Use the up and down arrow keys to choose, Enter to pick it."),
            # Left unformatted: the script puts the number in.
            "many": _("%(num)s suggestions. Use the up and down arrow keys to choose, Enter to pick one."),
            "preview_failed": _("The dates cannot be shown now."),
        },
    }


def _render_form(form: forms.RecordForm, record: HeritageRecord | None, status: int = 200, problem=None):
    known_rights = {uri for _group, options in forms.RIGHTS_CHOICES for uri, _label in options}
    actions = workflow.allowed_actions(record, current_user) if record is not None else []
    body = render_template(
        "records/edit.html",
        form=form,
        record=record,
        problem=problem,
        languages=forms.language_choices(form.languages_used()),
        other_rights=form.rights_uri if form.rights_uri and form.rights_uri not in known_rights else None,
        may_choose_status=record is None and current_user.is_curator,
        actions=[a for a in actions if a in ("submit", "publish")],
        action_labels=workflow.ACTION_LABELS,
        can_add_media=record is not None and can_add_media(record),
        **_choices(),
    )
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/records/new", methods=["GET", "POST"])
@login_required
def new():
    """The form for a new record; saving it makes a draft (curators may choose another status)."""
    _contributor()
    if request.method == "GET":
        return _render_form(forms.empty_form(), None)
    return _save(None)


@bp.route("/records/<public_id>/edit", methods=["GET", "POST"])
@login_required
def edit(public_id: str):
    """The form filled with a record; its contributor may edit a draft or returned record, curators any."""
    record = _load_record(public_id)
    if not can_edit_record(record):
        abort(403)
    if request.method == "GET":
        return _render_form(forms.form_from_record(record), record)
    return _save(record)


def _locked_version(record: HeritageRecord) -> str:
    """The record's committed version, with its row locked until this transaction ends (PostgreSQL; SQLite
    writers are serialised anyway): a concurrent save of the same version waits for ours and is then refused
    as stale, instead of deleting the texts ours already replaced."""
    return str(
        db.session.scalar(
            select(HeritageRecord.version_id).where(HeritageRecord.id == record.id).with_for_update()
        )
    )


def _save(original: HeritageRecord | None):
    """Validate and save the form in one transaction: everything or, on any error, nothing."""
    record = original
    parsed = forms.parse_record_form(
        request.form, new=record is None, may_choose_status=current_user.is_curator
    )
    if parsed.errors:
        db.session.rollback()
        return _render_form(parsed.form, record, 400)
    if record is not None and parsed.form.version_id != _locked_version(record):
        db.session.rollback()
        return _stale(parsed.form, record)
    try:
        if record is None:
            record = services.create_record(parsed.data, current_user)
            _apply_access(record, parsed)
            _refresh_first_revision(record)
            created = True
        else:
            services.update_record(record, parsed.data, current_user)
            _apply_access(record, parsed)
            workflow.capture_revision(record, current_user, "edited")
            created = False
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        record = services.get_record(original.public_id) if original is not None else None
        if record is None:
            abort(404)
        return _stale(parsed.form, record)
    except vocab.LookupError_ as exc:  # a term that went away between the checks and the save
        db.session.rollback()
        return _render_form(parsed.form, original, 400, problem=forms.lookup_error_text(exc))
    except services.RecordError as exc:
        db.session.rollback()
        logger.warning("record form refused: %s %s", exc.code, exc.params)
        return _render_form(
            parsed.form, original, 400, problem=_("The record could not be saved; try again.")
        )
    except Exception:
        db.session.rollback()
        raise
    title = _title(record)
    if created:
        flash(_("“%(title)s” was saved. Status: %(status)s.", title=title,
                status=workflow.STATUS_LABELS[record.status]))  # fmt: skip
    else:
        flash(_("Your changes to “%(title)s” were saved.", title=title))
    logger.info("record %s saved from the form by %s", record.public_id, current_user.email)
    if can_edit_record(record):
        return redirect(url_for("editing.edit", public_id=record.public_id), 303)
    return redirect(url_for("records.detail", public_id=record.public_id, slug=record.slug), 303)


def _stale(form: forms.RecordForm, record: HeritageRecord):
    """409: someone saved the record after this form was opened; the form keeps what was typed."""
    problem = _(
        "Someone else saved this record after you opened the form, so your changes were not saved. "
        "What you typed is kept below: open the record in a new tab to see the other changes, then "
        "save again to replace them."
    )
    form.version_id = str(record.version_id)
    return _render_form(form, record, 409, problem=problem)


def _apply_access(record: HeritageRecord, parsed: forms.ParsedForm) -> None:
    """Set the record's community group and cultural labels as the form says (kept rows keep their note)."""
    record.community_id = parsed.community_id
    existing = {label.kind: label for label in record.labels}
    chosen = {choice.kind: choice for choice in parsed.labels}
    for kind, label in existing.items():
        if kind not in chosen:
            record.labels.remove(label)
    for kind in LABEL_KINDS:
        choice = chosen.get(kind)
        if choice is None:
            continue
        label = existing.get(kind) or CulturalLabel(kind=kind, note=[])
        season = choice.season
        label.season_calendar = season.calendar if season else None
        label.start_month = season.start_month if season else None
        label.start_day = season.start_day if season else None
        label.end_month = season.end_month if season else None
        label.end_day = season.end_day if season else None
        if kind not in existing:
            record.labels.append(label)
    db.session.flush()


def _refresh_first_revision(record: HeritageRecord) -> None:
    """create_record took the first revision before the community and labels were set: retake it."""
    db.session.flush()
    db.session.expire(record, ["labels", "community"])
    revision = db.session.scalar(
        select(RecordRevision)
        .where(RecordRevision.record_id == record.id)
        .order_by(RecordRevision.number.desc())
        .limit(1)
    )
    if revision is not None:
        revision.snapshot = workflow.snapshot(record)
        db.session.flush()


# --- workflow -------------------------------------------------------------------------------------


@bp.post("/records/<public_id>/workflow/<action>")
@login_required
def transition(public_id: str, action: str):
    """Apply a workflow action (submit, publish, return, withdraw) with an optional comment."""
    record = _load_record(public_id)
    back = safe_local_path(request.form.get("next"), url_for("editing.my_records"))
    try:
        workflow.transition(record, action, current_user, request.form.get("comment"))
        db.session.commit()
    except workflow.WorkflowError as exc:
        db.session.rollback()
        body = render_template(
            "errors/error.html",
            code=exc.status,
            title=_("This could not be done"),
            message=str(workflow.MESSAGES.get(exc.code, exc.code)),
        )
        return Response(body, status=exc.status, mimetype="text/html")
    except Exception:
        db.session.rollback()
        raise
    flash(str(RESULT_MESSAGES[action]) % {"title": _title(record)})
    return redirect(back, 303)


# --- my records, review, notifications ------------------------------------------------------------


def _latest_events(record_ids: list[int], to_status: str) -> dict[int, WorkflowEvent]:
    """The latest transition to *to_status* of each record, with its comment and actor."""
    if not record_ids:
        return {}
    events = db.session.scalars(
        select(WorkflowEvent)
        .where(WorkflowEvent.record_id.in_(record_ids), WorkflowEvent.to_status == to_status)
        .options(selectinload(WorkflowEvent.actor))
        .order_by(WorkflowEvent.at.desc(), WorkflowEvent.id.desc())
    )
    out: dict[int, WorkflowEvent] = {}
    for event in events:
        out.setdefault(event.record_id, event)
    return out


@bp.get("/my/records")
@login_required
def my_records():
    """The signed-in contributor's records by state, with curators' comments and media processing."""
    _contributor()
    records = db.session.scalars(
        select(HeritageRecord)
        .where(HeritageRecord.created_by_id == current_user.id)
        .options(selectinload(HeritageRecord.texts), selectinload(HeritageRecord.media))
        .order_by(HeritageRecord.updated_at.desc(), HeritageRecord.id.desc())
    ).all()
    ids = [r.id for r in records]
    returned = _latest_events(ids, "returned")
    submitted = _latest_events(ids, "in_review")
    groups = [(status, heading, [r for r in records if r.status == status]) for status, heading in MY_GROUPS]
    return render_template(
        "records/my_records.html",
        groups=groups,
        returned=returned,
        submitted=submitted,
        state_labels=STATE_LABELS,
        reason_text=reason_text,
        allowed_actions=lambda record: workflow.allowed_actions(record, current_user),
        can_edit=can_edit_record,
        can_add_media=can_add_media,
        action_labels=workflow.ACTION_LABELS,
    )


@bp.get("/review")
@login_required
def review():
    """Curators: the records waiting for review, the longest waiting first."""
    if not current_user.is_curator:
        abort(403)
    submitted_at = (
        select(WorkflowEvent.record_id, func.max(WorkflowEvent.at).label("at"))
        .where(WorkflowEvent.to_status == "in_review")
        .group_by(WorkflowEvent.record_id)
        .subquery()
    )
    rows = db.session.execute(
        select(HeritageRecord, submitted_at.c.at)
        .outerjoin(submitted_at, submitted_at.c.record_id == HeritageRecord.id)
        .where(HeritageRecord.status == "in_review")
        .options(selectinload(HeritageRecord.texts), selectinload(HeritageRecord.created_by))
        .order_by(func.coalesce(submitted_at.c.at, HeritageRecord.updated_at), HeritageRecord.id)
    ).all()
    return render_template(
        "records/review.html", rows=rows, action_labels=workflow.ACTION_LABELS, categories=CATEGORIES
    )


@bp.route("/notifications", methods=["GET", "POST"])
@login_required
def notifications():
    """The signed-in person's notifications, newest first; POST marks them all read."""
    if request.method == "POST":
        now = utcnow()
        for notice in db.session.scalars(
            select(Notification).where(
                Notification.user_id == current_user.id, Notification.read_at.is_(None)
            )
        ):
            notice.read_at = now
        db.session.commit()
        flash(_("All notifications are marked as read."))
        return redirect(url_for("editing.notifications"), 303)
    items = db.session.scalars(
        select(Notification)
        .where(Notification.user_id == current_user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(200)
    ).all()
    record_ids = {n.record_id for n in items if n.record_id}
    records = {
        r.id: r for r in db.session.scalars(select(HeritageRecord).where(HeritageRecord.id.in_(record_ids)))
    }
    return render_template(
        "records/notifications.html", items=items, records=records, notice_text=workflow.notice_text
    )


# --- pickers --------------------------------------------------------------------------------------


def _json(body: dict, status: int = 200) -> Response:
    response = current_app.json.response(body)
    response.status_code = status
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _json_error(code: str, message: str, status: int = 400) -> Response:
    return _json({"error": {"code": code, "message": message}}, status)


def picker(view):
    """Signed-in contributors and up only; a visitor gets 401 and anyone else 403, as JSON."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return _json_error("sign_in", _("Please sign in."), 401)
        if not current_user.can_contribute:
            return _json_error("forbidden", _("Only contributors and curators may use this."), 403)
        return view(*args, **kwargs)

    return wrapped


def _query() -> str | Response:
    """The picker's folded query, or a 400 answer."""
    q = (request.args.get("q") or "").strip()
    if not q or len(q) > PICKER_QUERY_LIMIT:
        return _json_error(
            "bad_query", _("Type from 1 to %(limit)s characters.", limit=PICKER_QUERY_LIMIT), 400
        )
    return fold(q)


def _matches(q: str, names) -> int | None:
    """Rank of the best match of folded *q* among *names* (0: the whole name, 1: starts it, 2: starts one
    of its words, 3: inside it), or None."""
    best = None
    for name in names:
        folded = fold(name or "")
        if folded == q:
            rank = 0
        elif folded.startswith(q):
            rank = 1
        elif f" {q}" in folded:
            rank = 2
        elif q in folded:
            rank = 3
        else:
            continue
        best = rank if best is None else min(best, rank)
    return best


def _score(q: str, primary, secondary) -> int | None:
    """Order of a match: a match of a primary name before the same kind of match of another name."""
    first, other = _matches(q, primary), _matches(q, secondary)
    scores = [first * 2] if first is not None else []
    scores += [other * 2 + 1] if other is not None else []
    return min(scores) if scores else None


@bp.get("/pickers/ethnic-groups.json")
@picker
def pick_ethnic_groups():
    """Ethnic groups whose name, English name, other name or sub-group matches ?q= (diacritics optional)."""
    q = _query()
    if isinstance(q, Response):
        return q
    found = []
    for group in db.session.scalars(select(EthnicGroup).order_by(EthnicGroup.name_vi)):
        rank = _score(q, [group.slug, group.name_vi, group.name_en], [*group.other_names, *group.subgroups])
        if rank is not None:
            found.append((rank, group))
    found.sort(key=lambda item: (item[0], fold(item[1].name_vi)))
    results = []
    for _rank, group in found[:PICKER_LIMIT]:
        others = [n for n in [group.name_en, *group.other_names] if n and n != group.name_vi]
        results.append(
            {
                "ref": group.slug,
                "label": forms.ethnic_group_text(group),
                "detail": _("also: %(names)s", names=", ".join(others[:4])) if others else "",
            }
        )
    return _json({"results": results})


@bp.get("/pickers/places.json")
@picker
def pick_places():
    """Administrative units matching ?q= in the old (``system=pre2025``) or new (``2025``) system; each
    with its full name and, for an old unit, the province it lies in today."""
    q = _query()
    if isinstance(q, Response):
        return q
    system = request.args.get("system") or None
    if system is not None and system not in forms.PLACE_SYSTEMS:
        return _json_error("bad_system", _("Choose the old (pre2025) or the new (2025) units."), 400)
    parts = [name_key(p) for p in q.split(",") if name_key(p)]
    if not parts:
        return _json({"results": []})
    key = parts[0]
    stmt = select(Place).where(
        Place.name_key.startswith(key, autoescape=True) | Place.name_key.contains(f" {key}", autoescape=True)
    )
    if system:
        stmt = stmt.where(Place.system == system)
    level_order = case({"province": 0, "district": 1, "commune": 2}, value=Place.level, else_=3)
    stmt = (
        stmt.options(
            selectinload(Place.parent).selectinload(Place.parent).selectinload(Place.parent),
            selectinload(Place.current_province),
        )
        .order_by((Place.name_key != key), level_order, Place.name_key, Place.code)
        .limit(200 if len(parts) > 1 else PICKER_LIMIT)
    )
    places = db.session.scalars(stmt).all()
    if len(parts) > 1:
        places = [p for p in places if all(k in _ancestor_keys(p) for k in parts[1:])][:PICKER_LIMIT]
    return _json({"results": [_place_result(p) for p in places]})


def _ancestor_keys(place: Place) -> list[str]:
    keys, parent = [], place.parent
    while parent is not None:
        keys.append(parent.name_key)
        parent = parent.parent
    return keys


def _place_result(place: Place) -> dict:
    chain, unit = [], place
    while unit is not None:
        chain.append(unit.full_name)
        unit = unit.parent
    full_name = ", ".join(chain)
    result = {
        "ref": place.code,
        "label": forms.place_text(place),
        "full_name": full_name,
        "system": place.system,
        "level": place.level,
        "current_province": None,
    }
    if place.is_historical and place.current_province is not None:
        result["current_province"] = place.current_province.name
        result["detail"] = _(
            "%(full_name)s · before 1 July 2025; today in %(province)s",
            full_name=full_name,
            province=place.current_province.name,
        )
    else:
        result["detail"] = full_name
    return result


@bp.get("/pickers/agents.json")
@picker
def pick_agents():
    """People and organisations already in the archive whose name matches ?q=."""
    q = _query()
    if isinstance(q, Response):
        return q
    found = []
    for agent in db.session.scalars(select(Agent)):
        rank = _score(q, [agent.name], agent.other_names or [])
        if rank is not None:
            found.append((rank, fold(agent.name), agent))
    found.sort(key=lambda item: item[:2])
    results = [
        {
            "ref": agent.slug,
            "label": agent.name,
            "detail": str(forms.AGENT_KIND_LABELS.get(agent.kind, agent.kind)),
            "fill": {"kind": agent.kind},
        }
        for _rank, _key, agent in found[:PICKER_LIMIT]
    ]
    return _json({"results": results})


@bp.get("/pickers/subjects.json")
@picker
def pick_subjects():
    """Subjects already in the archive with a label matching ?q=, in the reader's language when it has one."""
    q = _query()
    if isinstance(q, Response):
        return q
    lang = current_language()
    found = []
    for subject in db.session.scalars(select(Subject)):
        values = subject.label_values
        rank = _matches(q, [v.value for v in values])
        if rank is not None:
            chosen = pick(values, lang)
            found.append((rank, fold(chosen.value), subject, chosen))
    found.sort(key=lambda item: item[:2])
    results = [
        {
            "ref": subject.key,
            "label": chosen.value,
            "detail": " · ".join(v.value for v in subject.label_values if v.value != chosen.value),
            "fill": {"lang": chosen.lang},
        }
        for _rank, _key, subject, chosen in found[:PICKER_LIMIT]
    ]
    return _json({"results": results})


@bp.get("/pickers/lunar.json")
@picker
def pick_lunar():
    """The Gregorian dates of a lunar month/day (?month=&day=&leap=&duration=) that start in ?year=."""
    args = request.args
    month = _arg_int("month")
    day = _arg_int("day") if args.get("day") else None
    duration = _arg_int("duration") if args.get("duration") else 1
    year = _arg_int("year") if args.get("year") else dt.date.today().year
    leap_text = (args.get("leap") or "").lower()
    if (
        month is None
        or not 1 <= month <= 12
        or (args.get("day") and (day is None or not 1 <= day <= 30))
        or duration is None
        or not 1 <= duration <= 60
        or year is None
        or not SUPPORTED_YEARS[0] < year <= SUPPORTED_YEARS[1]
        or leap_text not in ("", "0", "1", "true", "false", "on", "off")
    ):
        return _json_error(
            "bad_parameters",
            _(
                "Give the lunar month (1–12), the day (1–30, or none when it is chosen each year), the "
                "number of days (1–60) and a year from %(first)s to %(last)s.",
                first=SUPPORTED_YEARS[0] + 1,
                last=SUPPORTED_YEARS[1],
            ),
            400,
        )
    leap = leap_text in ("1", "true", "on")
    recurrence = LunarRecurrence(month, day, leap, duration if day is not None else 1)
    occurrences = []
    try:
        for lunar_year in (year - 1, year):
            if leap and month_start(lunar_year, month, True) is None:
                continue  # no such leap month that lunar year
            first, last = recurrence.dates_in_lunar_year(lunar_year)
            if first.year == year:
                occurrences.append((first, last))
    except LunarDateError:  # pragma: no cover - the parameters were checked above
        logger.exception("lunar preview failed for %s", dict(args))
        return _json_error("bad_parameters", _("This lunar date cannot be converted."), 400)
    if leap and not occurrences:
        return _json_error(
            "no_leap_month",
            _(
                "In %(year)s there is no leap month %(month)s, so this date does not exist that year; "
                "festivals of a leap month are then held in the regular month.",
                year=year,
                month=month,
            ),
            422,
        )
    dates = [{"start": first.isoformat(), "end": last.isoformat()} for first, last in occurrences]
    spans = [_span(first, last) for first, last in occurrences]
    if not spans:
        text = _("It does not fall in %(year)s.", year=year)
    elif len(spans) == 1:
        text = _("In %(year)s this falls on %(dates)s.", year=year, dates=spans[0])
    else:
        text = _("In %(year)s this falls on %(first)s and on %(second)s.", year=year, first=spans[0],
                 second=spans[1])  # fmt: skip
    return _json({"year": year, "dates": dates, "text": text})


def _span(first: dt.date, last: dt.date) -> str:
    if first == last:
        return format_date(first, "long")
    return _("%(first)s to %(last)s", first=format_date(first, "long"), last=format_date(last, "long"))


def _arg_int(name: str) -> int | None:
    text = (request.args.get(name) or "").strip()
    return int(text) if text.isdigit() and len(text) <= 4 else None
