"""The record form of the contributor workspace: what it shows, and parsing what it sends.

The form works without JavaScript: every list (values of a multilingual field, ethnic groups, places,
subjects, agents, timings, dates) is a run of numbered rows named ``<field>-<n>-<part>`` with spare
empty rows; record_form.js only adds rows and turns the vocabulary inputs into comboboxes. A vocabulary
row carries the text the person sees and, once a combobox suggestion was chosen, a hidden reference
(a slug or place code); the reference counts only while the text still reads as what was chosen, and
otherwise the text is looked up like a cell of the CSV import (several references separated by ";").

:func:`parse_record_form` never raises on bad input: it returns the values as entered, to show them
again, with one translated message per field that is wrong, and a RecordInput only when all is well.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from archive.communities.models import LABEL_KINDS, Community
from archive.core.extensions import db
from archive.core.i18n import current_language
from archive.records.csv_import import MESSAGES as LOOKUP_MESSAGES
from archive.records.models import ACCESS_LEVELS, TEXT_FIELDS, HeritageRecord
from archive.vocab import services as vocab
from archive.vocab.models import AGENT_KINDS, AGENT_ROLES, Collection, EthnicGroup, Place
from metadata.categories import CATEGORIES
from metadata.csv_records import RecordInput
from metadata.languages import (
    KNOWN_LANGUAGES,
    LangString,
    is_valid_tag,
    language_name,
    nfc,
    normalize_tag,
    pick,
)
from metadata.model import DocDate, Timing
from metadata.seasons import Season

logger = logging.getLogger(__name__)

#: Statuses a curator may give a new record (contributors' records always start as drafts).
NEW_RECORD_STATUSES = ("draft", "in_review", "published")
#: Longest value of each multilingual field, in characters.
TEXT_LIMITS = {"title": 500, "alternative": 500, "summary": 2000, "description": 50_000, "provenance": 10_000}
#: Fields written in a multi-line box.
LONG_TEXT_FIELDS = ("summary", "description", "provenance")
#: Empty rows shown after the values of a multilingual field (without JavaScript, the only way to add one).
SPARE_TEXT_ROWS = 2
#: Empty rows shown after the entries of the other lists.
SPARE_ROWS = {"ethnic_groups": 2, "places": 2, "subjects": 2, "agents": 1, "timings": 1, "dates": 1}
#: Rows read from one list at most (a form never has this many; more is not a person typing).
MAX_ROWS = 100
SHORT_LIMIT = 200
HOLDER_LIMIT = 300
URI_LIMIT = 300
PLACE_SYSTEMS = ("2025", "pre2025")

TEXT_FIELD_LABELS = {
    "title": _l("Title"),
    "alternative": _l("Other names"),
    "summary": _l("Summary"),
    "description": _l("Description"),
    "provenance": _l("Provenance"),
}
TEXT_FIELD_HINTS = {
    "title": _l("At least one title. Give it in every language you know it in."),
    "alternative": _l("Other names the festival or custom is known by, in any language."),
    "summary": _l("One or two sentences for lists and search results."),
    "description": _l("What happens, who takes part, its meaning. Leave a blank line between paragraphs."),
    "provenance": _l("Where this information comes from: fieldwork, interviews, publications."),
}
ACCESS_LABELS = {
    "public": _l("Everyone (public)"),
    "researchers": _l("Registered researchers and contributors"),
    "community": _l("Members of a community group only"),
    "private": _l("Private: the archive staff only"),
}
AGENT_KIND_LABELS = {"person": _l("Person"), "organisation": _l("Organisation")}
DATE_KIND_LABELS = {"recorded": _l("Recorded"), "held": _l("Held")}
CALENDAR_LABELS = {"lunar": _l("Lunar (Vietnamese calendar)"), "gregorian": _l("Gregorian (solar)")}
PLACE_SYSTEM_LABELS = {
    "2025": _l("New units (since 1 July 2025)"),
    "pre2025": _l("Old units (before 1 July 2025)"),
}
CC = "https://creativecommons.org/"
RS = "http://rightsstatements.org/vocab/"
#: Licences and rights statements offered, by group: (URI, label).
RIGHTS_CHOICES = (
    (
        _l("Creative Commons"),
        (
            (CC + "licenses/by/4.0/", _l("CC BY 4.0: attribution")),
            (CC + "licenses/by-sa/4.0/", _l("CC BY-SA 4.0: attribution, share alike")),
            (CC + "licenses/by-nc/4.0/", _l("CC BY-NC 4.0: attribution, non-commercial")),
            (
                CC + "licenses/by-nc-sa/4.0/",
                _l("CC BY-NC-SA 4.0: attribution, non-commercial, share alike"),
            ),
            (CC + "licenses/by-nd/4.0/", _l("CC BY-ND 4.0: attribution, no derivatives")),
            (
                CC + "licenses/by-nc-nd/4.0/",
                _l("CC BY-NC-ND 4.0: attribution, non-commercial, no derivatives"),
            ),
            (CC + "publicdomain/zero/1.0/", _l("CC0 1.0: no rights reserved")),
            (CC + "publicdomain/mark/1.0/", _l("Public Domain Mark 1.0")),
        ),
    ),
    (
        _l("Rights statements (rightsstatements.org)"),
        (
            (RS + "InC/1.0/", _l("In copyright")),
            (RS + "InC-EDU/1.0/", _l("In copyright: educational use permitted")),
            (RS + "InC-NC/1.0/", _l("In copyright: non-commercial use permitted")),
            (RS + "InC-RUU/1.0/", _l("In copyright: rights-holder(s) unlocatable")),
            (RS + "NoC-NC/1.0/", _l("No copyright: non-commercial use only")),
            (RS + "NoC-OKLR/1.0/", _l("No copyright: other known legal restrictions")),
            (RS + "CNE/1.0/", _l("Copyright not evaluated")),
            (RS + "UND/1.0/", _l("Copyright undetermined")),
            (RS + "NKC/1.0/", _l("No known copyright")),
        ),
    ),
)

MESSAGES = {
    "title_required": _l("Give the record a title (at least one, in any language)."),
    "too_long": _l("This is too long (at most %(limit)s characters)."),
    "bad_language": _l("Choose the language this value is written in."),
    "bad_choice": _l("Choose one of the options offered."),
    "community_required": _l("Choose the community group whose protocol governs this record."),
    "unknown_community": _l("This community group does not exist (any more)."),
    "agent_role": _l("Choose the role of this person or organisation."),
    "month": _l("Give the month as a number from 1 to 12."),
    "lunar_day": _l("Give the day as a number from 1 to 30, or tick “chosen each year”."),
    "gregorian_day": _l("Give a day that exists in this month."),
    "gregorian_chosen": _l("A Gregorian date needs its day."),
    "gregorian_leap": _l("Only lunar months can be leap months."),
    "duration": _l("Give the number of days, from 1 to 60."),
    "date": _l("Give a date such as 2025-02-12."),
    "date_required": _l("Give the first (or only) day."),
    "date_order": _l("The last day cannot be before the first."),
    "bad_uri": _l("Give a web address beginning with http:// or https://."),
    "season": _l("Give the season as months 1–12 and days that exist (up to 30 in the lunar calendar)."),
    "lookup_failed": _l("This could not be checked; try again."),
}


def message(code: str, **params) -> str:
    """A translated message of this form, or of the CSV import's vocabulary look-ups."""
    text = MESSAGES.get(code) or LOOKUP_MESSAGES.get(code)
    if text is None:  # pragma: no cover - every code used has a message
        return code
    return str(text) % params if params else str(text)


def language_choices(extra: list[str] = ()) -> list[tuple[str, str]]:
    """(tag, "name (tag)") for the language selects: the archive's known languages, then any other tag
    already used by the record."""
    lang = current_language()
    tags = list(KNOWN_LANGUAGES) + [t for t in dict.fromkeys(extra) if t and t not in KNOWN_LANGUAGES]
    return [(tag, f"{language_name(tag, lang)} ({tag})") for tag in tags]


def ethnic_group_text(group: EthnicGroup) -> str:
    """What a picked ethnic group reads as in its box."""
    return group.name_vi


def place_text(place: Place) -> str:
    """What a picked place reads as in its box: the unit and the units above it ("Chợ Đồn, Bắc Kạn")."""
    return place.label()


@dataclass(frozen=True)
class LabelChoice:
    """A cultural label ticked on the form; the seasonal one with its season."""

    kind: str
    season: Season | None = None


@dataclass
class RecordForm:
    """What the form shows: every value as entered (or as stored), and one error message per field.

    Error keys are the ids of the elements the message belongs to (``title-0-value``, ``places-1-text``,
    ``community``, ``season``...); the summary links to them.
    """

    texts: dict[str, list[dict]] = field(default_factory=lambda: {name: [] for name in TEXT_FIELDS})
    category: str = "festival"
    status: str = "draft"
    access_level: str = "public"
    community: str = ""
    ethnic_groups: list[dict] = field(default_factory=list)
    places: list[dict] = field(default_factory=list)
    place_system: str = "2025"
    subjects: list[dict] = field(default_factory=list)
    agents: list[dict] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)
    timings: list[dict] = field(default_factory=list)
    dates: list[dict] = field(default_factory=list)
    rights_uri: str = ""
    rights_holder: str = ""
    consent_note: list[dict] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    season: dict = field(default_factory=dict)
    version_id: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def text_rows(self, name: str, spare: int = SPARE_TEXT_ROWS) -> list[tuple[int, dict]]:
        """(index, {"lang", "value"}) for the values of a multilingual field and its spare rows."""
        return _lang_rows(self.texts.get(name, []), spare)

    def note_rows(self, values: list[dict]) -> list[tuple[int, dict]]:
        """(index, {"lang", "value"}) for a note (timing, consent) and one spare row."""
        return _lang_rows(values, 1)

    def rows(self, name: str) -> list[tuple[int, dict]]:
        """(index, row) for a list (ethnic groups, places, subjects, agents, timings, dates) and its spare
        empty rows."""
        values = list(getattr(self, name))
        blank = {
            "ethnic_groups": lambda: {"text": "", "ref": ""},
            "places": lambda: {"text": "", "ref": ""},
            "subjects": lambda: {"value": "", "lang": current_language()},
            "agents": lambda: {"name": "", "role": "", "kind": "person"},
            "timings": lambda: {
                "calendar": "lunar",
                "month": "",
                "day": "",
                "day_chosen": False,
                "leap": False,
                "duration": "1",
                "note": [],
            },  # fmt: skip
            "dates": lambda: {"kind": "held", "start": "", "end": ""},
        }[name]
        values += [blank() for _ in range(SPARE_ROWS[name])]
        return list(enumerate(values))

    def languages_used(self) -> list[str]:
        """Every language tag the form's values use (to offer them even when not in the known list)."""
        tags = [row["lang"] for rows in self.texts.values() for row in rows]
        tags += [row["lang"] for row in self.subjects + self.consent_note]
        tags += [row["lang"] for t in self.timings for row in t.get("note", [])]
        return tags


def _lang_rows(values: list[dict], spare: int) -> list[tuple[int, dict]]:
    rows = list(values)
    used = {row["lang"] for row in rows}
    for _n in range(spare):
        lang = next((tag for tag in ("vi", "en", current_language()) if tag not in used), "vi")
        used.add(lang)
        rows.append({"lang": lang, "value": ""})
    return list(enumerate(rows))


@dataclass
class ParsedForm:
    """The outcome of reading the form: what to show again, and what to save when there is no error."""

    form: RecordForm
    data: RecordInput | None = None
    community_id: int | None = None
    labels: list[LabelChoice] = field(default_factory=list)

    @property
    def errors(self) -> dict[str, str]:
        """Field id -> translated message."""
        return self.form.errors


# --- building the form from a record -------------------------------------------------------------


def empty_form() -> RecordForm:
    """The form for a new record."""
    return RecordForm()


def form_from_record(record: HeritageRecord) -> RecordForm:
    """The form filled with a record's stored description."""
    form = RecordForm(
        category=record.category,
        status=record.status,
        access_level=record.access_level,
        community=str(record.community_id or ""),
        version_id=str(record.version_id),
    )
    for name in TEXT_FIELDS:
        form.texts[name] = [{"lang": v.lang, "value": v.value} for v in record.values(name)]
    form.ethnic_groups = [{"text": ethnic_group_text(g), "ref": g.slug} for g in record.ethnic_groups]
    form.places = [{"text": place_text(p), "ref": p.code} for p in record.places]
    if record.places:
        form.place_system = record.places[0].system
    lang = current_language()
    for subject in record.subjects:
        chosen = pick(subject.label_values, lang)
        if chosen is not None:
            form.subjects.append({"value": chosen.value, "lang": chosen.lang})
    form.agents = [{"name": a.agent.name, "role": a.role, "kind": a.agent.kind} for a in record.agents]
    form.collections = [c.slug for c in record.collections]
    for t in record.timings:
        form.timings.append(
            {
                "calendar": t.calendar,
                "month": str(t.month),
                "day": "" if t.day is None else str(t.day),
                "day_chosen": t.day is None,
                "leap": t.leap,
                "duration": str(t.duration_days),
                "note": [{"lang": v.lang, "value": v.value} for v in t.note_values],
            }
        )
    form.dates = [
        {"kind": d.kind, "start": d.start.isoformat(), "end": d.end.isoformat() if d.end else ""}
        for d in record.dates
    ]
    if record.rights is not None:
        form.rights_uri = record.rights.uri
        form.rights_holder = record.rights.holder or ""
        form.consent_note = [{"lang": v.lang, "value": v.value} for v in record.rights.consent_values]
    form.labels = [label.kind for label in record.labels]
    for label in record.labels:
        if label.kind == "seasonal":
            form.season = {
                "calendar": label.season_calendar or "lunar",
                "start_month": str(label.start_month or ""),
                "start_day": str(label.start_day or ""),
                "end_month": str(label.end_month or ""),
                "end_day": str(label.end_day or ""),
            }
    return form


# --- reading the submitted form ------------------------------------------------------------------

_ROW_KEY = re.compile(r"^(?P<prefix>[a-z_]+(?:-\d+-[a-z_]+)*)-(?P<index>\d{1,4})-(?P<part>[a-z_]+)$")


def _rows(formdata: Mapping, prefix: str, parts: tuple[str, ...]) -> list[tuple[int, dict]]:
    """(submitted index, {part: text}) for each numbered row of *prefix*, in order of their numbers."""
    indexes = set()
    for key in formdata:
        m = _ROW_KEY.match(key)
        if m and m["prefix"] == prefix and m["part"] in parts:
            indexes.add(int(m["index"]))
    out = []
    for index in sorted(indexes)[:MAX_ROWS]:
        out.append((index, {part: nfc(formdata.get(f"{prefix}-{index}-{part}", "") or "").strip()
                            for part in parts}))  # fmt: skip
    return out


def _int(text: str) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdigit() and len(text) <= 4 else None


class _Reader:
    """Collects the values and errors of one submission."""

    def __init__(self, formdata: Mapping):
        self.formdata = formdata
        self.form = RecordForm(texts={})
        self.errors = self.form.errors

    def get(self, name: str) -> str:
        return nfc(self.formdata.get(name, "") or "").strip()

    def error(self, key: str, code: str, **params) -> None:
        self.errors.setdefault(key, message(code, **params))

    def lang_values(self, prefix: str, limit: int) -> tuple[list[dict], list[LangString]]:
        """The non-empty rows of a multilingual field: (rows to show again, values to save)."""
        shown, values = [], []
        for _index, row in _rows(self.formdata, prefix, ("lang", "value")):
            if not row["value"]:
                continue
            i = len(shown)
            lang = row["lang"]
            shown.append({"lang": lang, "value": row["value"]})
            if not is_valid_tag(lang):
                self.error(f"{prefix}-{i}-lang", "bad_language")
            else:
                lang = normalize_tag(lang)
                shown[-1]["lang"] = lang
            if len(row["value"]) > limit:
                self.error(f"{prefix}-{i}-value", "too_long", limit=limit)
            values.append(LangString(row["value"], lang))
        return shown, values

    def references(self, name: str, finder: Callable, text_of: Callable, key_of: Callable) -> list[str]:
        """Resolve the rows of a vocabulary list; returns the canonical references (slugs, codes)."""
        shown, refs = [], []
        for _index, row in _rows(self.formdata, name, ("text", "ref")):
            if not row["text"]:
                continue
            i = len(shown)
            shown.append(row)
            try:
                for item in _resolve(row["text"], row["ref"], finder, text_of):
                    if key_of(item) not in refs:
                        refs.append(key_of(item))
            except vocab.LookupError_ as exc:
                self.error(f"{name}-{i}-text", exc.code, **exc.params)
        setattr(self.form, name, shown)
        return refs


def _resolve(text: str, ref: str, finder: Callable, text_of: Callable) -> list:
    """The items a vocabulary row names: the picked reference while the text still reads as it, else
    every "; "-separated reference of the text (as in a CSV cell)."""
    if ref:
        try:
            item = finder(ref)
        except vocab.LookupError_:
            item = None
        if item is not None and text_of(item) == text:
            return [item]
    return [finder(part.strip()) for part in text.split(";") if part.strip()]


def parse_record_form(formdata: Mapping, *, new: bool, may_choose_status: bool) -> ParsedForm:
    """Read a submitted record form; never raises on bad input (see the module docstring)."""
    r = _Reader(formdata)
    form = r.form
    form.version_id = r.get("version_id")

    texts: dict[str, list[LangString]] = {}
    for name in TEXT_FIELDS:
        shown, values = r.lang_values(name, TEXT_LIMITS[name])
        form.texts[name] = shown
        if values:
            texts[name] = values
    if not texts.get("title"):
        r.error("title-0-value", "title_required")

    form.category = r.get("category") or "festival"
    if form.category not in CATEGORIES:
        r.error("category", "bad_choice")
    form.status = r.get("status") or "draft"
    if not new or not may_choose_status:
        form.status = "draft"
    elif form.status not in NEW_RECORD_STATUSES:
        r.error("status", "bad_choice")
    form.access_level = r.get("access_level") or "public"
    if form.access_level not in ACCESS_LEVELS:
        r.error("access_level", "bad_choice")

    community_id = None
    form.community = r.get("community")
    if form.community:
        community_id = _int(form.community)
        if community_id is None or db.session.get(Community, community_id) is None:
            r.error("community", "unknown_community")
            community_id = None
    elif form.access_level == "community":
        r.error("community", "community_required")

    form.place_system = r.get("place_system") if r.get("place_system") in PLACE_SYSTEMS else "2025"
    ethnic_groups = r.references(
        "ethnic_groups", vocab.find_ethnic_group, ethnic_group_text, lambda g: g.slug
    )
    places = r.references("places", vocab.find_place, place_text, lambda p: p.code)

    subjects = []
    for _index, row in _rows(formdata, "subjects", ("value", "lang")):
        if not row["value"]:
            continue
        i = len(form.subjects)
        form.subjects.append(row)
        if not is_valid_tag(row["lang"]):
            r.error(f"subjects-{i}-lang", "bad_language")
            continue
        row["lang"] = normalize_tag(row["lang"])
        if len(row["value"]) > SHORT_LIMIT:
            r.error(f"subjects-{i}-value", "too_long", limit=SHORT_LIMIT)
        subjects.append([LangString(row["value"], row["lang"])])

    agents = []
    for _index, row in _rows(formdata, "agents", ("name", "role", "kind")):
        if not row["name"]:
            continue
        i = len(form.agents)
        row["kind"] = row["kind"] or "person"
        form.agents.append(row)
        if len(row["name"]) > SHORT_LIMIT:
            r.error(f"agents-{i}-name", "too_long", limit=SHORT_LIMIT)
        if row["role"] not in AGENT_ROLES:
            r.error(f"agents-{i}-role", "agent_role")
        if row["kind"] not in AGENT_KINDS:
            r.error(f"agents-{i}-kind", "bad_choice")
        agents.append((row["name"], row["role"], row["kind"]))

    form.collections = [nfc(v).strip() for v in _getlist(formdata, "collections") if v.strip()]
    known = set(db.session.scalars(select(Collection.slug).where(Collection.slug.in_(form.collections))))
    if set(form.collections) - known:
        r.error("collections", "bad_choice")

    timings = _timings(r)
    dates = _dates(r)

    form.rights_uri = r.get("rights_uri")
    uri_ok = len(form.rights_uri) <= URI_LIMIT and re.match(r"^https?://\S+$", form.rights_uri)
    if form.rights_uri and not uri_ok:
        r.error("rights_uri", "bad_uri")
    form.rights_holder = r.get("rights_holder")
    if len(form.rights_holder) > HOLDER_LIMIT:
        r.error("rights_holder", "too_long", limit=HOLDER_LIMIT)
    form.consent_note, consent = r.lang_values("consent_note", TEXT_LIMITS["summary"])

    labels = _labels(r)

    parsed = ParsedForm(form=form, community_id=community_id, labels=labels)
    if form.errors:
        return parsed
    parsed.data = RecordInput(
        row=0,
        identifier=None,
        slug=None,
        category=form.category,
        status=form.status,
        access_level=form.access_level,
        texts=texts,
        ethnic_groups=ethnic_groups,
        places=places,
        subjects=subjects,
        agents=agents,
        collections=form.collections,
        timings=timings,
        dates=dates,
        rights_uri=form.rights_uri or None,
        rights_holder=form.rights_holder or None,
        consent_note=consent,
    )
    return parsed


def _getlist(formdata: Mapping, name: str) -> list[str]:
    getlist = getattr(formdata, "getlist", None)
    if getlist is not None:
        return list(getlist(name))
    value = formdata.get(name)
    return [value] if value else []


def _gregorian_ok(month: int, day: int) -> bool:
    try:
        dt.date(2024, month, day)  # a leap year, so 29 February is allowed
    except ValueError:
        return False
    return True


def _timings(r: _Reader) -> list[Timing]:
    out = []
    parts = ("calendar", "month", "day", "day_chosen", "leap", "duration")
    for index, row in _rows(r.formdata, "timings", parts):
        note_shown, note = r.lang_values(f"timings-{index}-note", TEXT_LIMITS["summary"])
        if not (row["month"] or row["day"] or note):
            continue
        i = len(r.form.timings)
        errors_before = len(r.errors)
        # The note rows were read under the submitted number; show them under the row's new one.
        for n in range(len(note_shown)):
            for part in ("lang", "value"):
                old, new = f"timings-{index}-note-{n}-{part}", f"timings-{i}-note-{n}-{part}"
                if old in r.errors and old != new:
                    r.errors[new] = r.errors.pop(old)
        calendar = row["calendar"] if row["calendar"] in ("lunar", "gregorian") else "lunar"
        chosen, leap = bool(row["day_chosen"]), bool(row["leap"])
        shown = {"calendar": calendar, "month": row["month"], "day": row["day"], "day_chosen": chosen,
                 "leap": leap, "duration": row["duration"] or "1", "note": note_shown}  # fmt: skip
        r.form.timings.append(shown)
        month, day, duration = _int(row["month"]), _int(row["day"]), _int(row["duration"] or "1")
        if month is None or not 1 <= month <= 12:
            r.error(f"timings-{i}-month", "month")
        if chosen:
            day = None
            duration = 1
            if calendar == "gregorian":
                r.error(f"timings-{i}-day", "gregorian_chosen")
        elif calendar == "lunar" and (day is None or not 1 <= day <= 30):
            r.error(f"timings-{i}-day", "lunar_day")
        elif calendar == "gregorian" and (day is None or month is None or not _gregorian_ok(month, day)):
            r.error(f"timings-{i}-day", "gregorian_day")
        if leap and calendar == "gregorian":
            r.error(f"timings-{i}-leap", "gregorian_leap")
        if duration is None or not 1 <= duration <= 60:
            r.error(f"timings-{i}-duration", "duration")
        if len(r.errors) == errors_before:
            out.append(Timing(calendar, month, day, leap, duration, note))
    return out


def _dates(r: _Reader) -> list[DocDate]:
    out = []
    for _index, row in _rows(r.formdata, "dates", ("kind", "start", "end")):
        if not (row["start"] or row["end"]):
            continue
        i = len(r.form.dates)
        r.form.dates.append(row)
        errors_before = len(r.errors)
        if row["kind"] not in DATE_KIND_LABELS:
            r.error(f"dates-{i}-kind", "bad_choice")
        start = _date(row["start"]) if row["start"] else None
        if not row["start"]:
            r.error(f"dates-{i}-start", "date_required")
        elif start is None:
            r.error(f"dates-{i}-start", "date")
        end = _date(row["end"]) if row["end"] else None
        if row["end"] and end is None:
            r.error(f"dates-{i}-end", "date")
        elif end is not None and start is not None and end < start:
            r.error(f"dates-{i}-end", "date_order")
        if len(r.errors) == errors_before:
            out.append(DocDate(row["kind"], start, end))
    return out


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _labels(r: _Reader) -> list[LabelChoice]:
    kinds = list(dict.fromkeys(v.strip() for v in _getlist(r.formdata, "labels") if v.strip()))
    r.form.labels = kinds
    if any(kind not in LABEL_KINDS for kind in kinds):
        r.error("labels", "bad_choice")
        return []
    parts = ("calendar", "start_month", "start_day", "end_month", "end_day")
    r.form.season = {name: r.get(f"season_{name}") for name in parts}
    out = []
    for kind in kinds:
        season = None
        if kind == "seasonal":
            s = r.form.season
            numbers = [_int(s[name]) for name in ("start_month", "start_day", "end_month", "end_day")]
            try:
                if None in numbers:
                    raise ValueError("missing")
                season = Season(s["calendar"], *numbers)
            except ValueError:
                r.error("season", "season")
                continue
        out.append(LabelChoice(kind, season))
    return out


def lookup_error_text(exc: vocab.LookupError_) -> str:
    """The translated sentence for a vocabulary reference that matched nothing (or several things)."""
    return message(exc.code, **{k: v for k, v in exc.params.items() if k != "column"})


#: The order of the form's fields, for the error summary.
FIELD_ORDER = (
    "title", "category", "status", "alternative", "summary", "description", "provenance", "ethnic_groups",
    "places", "subjects", "agents", "collections", "timings", "dates", "rights_uri", "rights_holder",
    "consent_note", "access_level", "community", "labels", "season",
)  # fmt: skip


def ordered_errors(errors: dict[str, str]) -> list[tuple[str, str]]:
    """(field id, message) in the order the fields appear on the form."""
    order = {name: n for n, name in enumerate(FIELD_ORDER)}
    return sorted(errors.items(), key=lambda item: order.get(item[0].split("-", 1)[0], len(order)))


def summary_label(key: str) -> str:
    """The name of the field an error key belongs to, for the summary at the top of the form."""
    head = key.split("-", 1)[0]
    names = {
        **{name: str(label) for name, label in TEXT_FIELD_LABELS.items()},
        "category": _("Category"),
        "status": _("Status"),
        "access_level": _("Who may see it"),
        "community": _("Community group"),
        "ethnic_groups": _("Ethnic groups"),
        "places": _("Places"),
        "subjects": _("Subjects"),
        "agents": _("People and organisations"),
        "collections": _("Collections"),
        "timings": _("When it is held"),
        "dates": _("Documented dates"),
        "rights_uri": _("Licence or rights statement"),
        "rights_holder": _("Rights holder"),
        "consent_note": _("Consent note"),
        "labels": _("Cultural labels"),
        "season": _("Season"),
    }
    return names.get(head, head)
