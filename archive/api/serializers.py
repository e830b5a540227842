"""Plain JSON shapes of the API: what the read endpoints answer, and the record input of the write
endpoints (read through the record form's own parser, so that the API and the web form accept and refuse
the same things). Every function takes objects the caller has already checked access to, and leaves
out anything nested that the caller may not see."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from archive.core.access import can_view_media
from archive.core.types import to_langstrings
from archive.exhibits import services as exhibit_services
from archive.exhibits.models import Exhibit
from archive.media.models import MediaFile
from archive.records import forms
from archive.records.models import TEXT_FIELDS, HeritageRecord
from archive.records.services import describe
from archive.vocab.models import Agent, Collection, EthnicGroup, Place
from metadata.categories import CATEGORIES
from metadata.dublin_core import to_jsonld
from metadata.languages import LangString

#: Renditions a media file may have, in the order they are listed.
RENDITIONS = ("web", "low", "720", "360", "audio_low", "poster", "peaks", "thumbnail")


def _absolute(endpoint: str, **values: Any) -> str:
    """An absolute URL of an endpoint under the archive's public base URL."""
    return current_app.config["BASE_URL"] + url_for(endpoint, **values)


def lang_values(values: list[LangString] | None) -> list[dict]:
    """Language-tagged values as ``[{"lang": ..., "value": ...}]``."""
    return [{"lang": v.lang, "value": v.value} for v in values or []]


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- records --------------------------------------------------------------------------------------


def record_summary(record: HeritageRecord) -> dict:
    """A record as listed: identifiers, titles, category, groups, places and links."""
    return {
        "id": record.public_id,
        "slug": record.slug,
        "status": record.status,
        "category": record.category,
        "title": lang_values(record.values("title")),
        "summary": lang_values(record.values("summary")),
        "ethnic_groups": [g.slug for g in record.ethnic_groups],
        "places": [p.code for p in record.places],
        "published_at": _iso(record.published_at),
        "updated_at": _iso(record.updated_at),
        "version": record.version_id,
        "links": {
            "self": _absolute("api.record", public_id=record.public_id),
            "html": _absolute("records.detail", public_id=record.public_id, _lang="vi"),
        },
    }


def record_detail(record: HeritageRecord) -> dict:
    """A record in full: the summary, every multilingual text, vocabulary terms, timings, dates, rights,
    the media this caller may see, and the Dublin Core description as JSON-LD."""
    body = record_summary(record)
    body["texts"] = {name: lang_values(record.values(name)) for name in TEXT_FIELDS}
    body["access_level"] = record.access_level
    body["collections"] = [c.slug for c in record.collections]
    body["subjects"] = [lang_values(s.label_values) for s in record.subjects]
    body["agents"] = [{"name": a.agent.name, "role": a.role, "kind": a.agent.kind} for a in record.agents]
    body["timings"] = [
        {
            "calendar": t.calendar,
            "month": t.month,
            "day": t.day,
            "leap": t.leap,
            "duration_days": t.duration_days,
            "note": lang_values(t.note_values),
        }
        for t in record.timings
    ]
    body["dates"] = [{"kind": d.kind, "start": _iso(d.start), "end": _iso(d.end)} for d in record.dates]
    rights = record.rights
    body["rights"] = (
        {"uri": rights.uri, "holder": rights.holder, "consent_note": lang_values(rights.consent_values)}
        if rights is not None
        else None
    )
    body["media"] = [media_summary(m) for m in record.media if can_view_media(m)]
    body["links"]["media"] = _absolute("api.record_media", public_id=record.public_id)
    body["jsonld"] = to_jsonld(describe(record))
    return body


# --- media ----------------------------------------------------------------------------------------


def media_summary(media: MediaFile) -> dict:
    """A media file's facts and links (original, renditions, IIIF image service, captions)."""
    links: dict[str, Any] = {
        "self": _absolute("api.media", public_id=media.public_id),
        "record": _absolute("api.record", public_id=media.record.public_id),
    }
    ready = media.state == "ready"
    if ready:
        links["original"] = _absolute("media.original", public_id=media.public_id)
        links["renditions"] = {
            d.name: _absolute("media.rendition", public_id=media.public_id, name=d.name)
            for d in sorted(
                media.derivatives, key=lambda d: RENDITIONS.index(d.name) if d.name in RENDITIONS else 99
            )
            if d.name != "pyramid"
        }
        if media.kind == "image":
            links["iiif_image"] = _absolute("iiif.info", identifier=media.public_id)
        links["captions"] = [
            {
                "lang": c.lang,
                "kind": c.kind,
                "label": c.label,
                "url": _absolute("media.caption_file", public_id=media.public_id, kind=c.kind, lang=c.lang),
            }
            for c in media.captions
        ]
    return {
        "id": media.public_id,
        "record": media.record.public_id,
        "kind": media.kind,
        "mime_type": media.mime_type,
        "state": media.state,
        "width": media.width,
        "height": media.height,
        "duration_seconds": media.duration_seconds,
        "size_bytes": media.size_bytes,
        "caption": lang_values(media.caption_values),
        "is_illustration": media.is_illustration,
        "created_at": _iso(media.created_at),
        "links": links,
    }


# --- vocabularies ---------------------------------------------------------------------------------


def ethnic_group(group: EthnicGroup) -> dict:
    """One of the 54 ethnic groups."""
    return {
        "slug": group.slug,
        "gso_code": group.gso_code,
        "name": lang_values(group.labels),
        "other_names": list(group.other_names or []),
        "subgroups": list(group.subgroups or []),
        "language_family": group.language_family,
        "languages": list(group.languages or []),
        "population_2019": group.population_2019,
        "description": lang_values(group.description_values),
        "links": {"html": _absolute("browse.group", slug=group.slug, _lang="vi")},
    }


def place(item: Place) -> dict:
    """An administrative unit of either system (before or since 1 July 2025)."""
    return {
        "code": item.code,
        "system": item.system,
        "level": item.level,
        "name": item.name,
        "full_name": item.full_name,
        "label": item.label(),
        "parent": item.parent.code if item.parent is not None else None,
        "current_province": item.current_province.code if item.current_province is not None else None,
        "latitude": item.latitude,
        "longitude": item.longitude,
    }


def category(code: str) -> dict:
    """A category of heritage (festival, ritual, craft...)."""
    found = CATEGORIES[code]
    return {"code": code, "label": lang_values(found.label_values), "dcmi_type": found.dcmi_type}


def agent(item: Agent) -> dict:
    """A person or organisation named on records."""
    return {
        "slug": item.slug,
        "name": item.name,
        "kind": item.kind,
        "other_names": list(item.other_names or []),
        "ethnic_group": item.ethnic_group.slug if item.ethnic_group is not None else None,
        "is_expert": item.is_expert,
    }


def collection(item: Collection, count: int) -> dict:
    """A curated collection and how many of its records this caller may see."""
    return {
        "slug": item.slug,
        "title": lang_values(item.title_values),
        "description": lang_values(item.description_values),
        "record_count": count,
        "links": {
            "self": _absolute("api.collection", slug=item.slug),
            "records": _absolute("api.records", collection=item.slug),
            "html": _absolute("browse.collection", slug=item.slug, _lang="vi"),
        },
    }


# --- exhibits -------------------------------------------------------------------------------------


def exhibit_summary(exhibit: Exhibit) -> dict:
    """An exhibit as listed."""
    cover = exhibit_services.visible_cover(exhibit)
    return {
        "slug": exhibit.slug,
        "title": lang_values(exhibit.title_values),
        "introduction": lang_values(exhibit.introduction_values),
        "featured": exhibit.featured,
        "cover": media_summary(cover) if cover is not None else None,
        "links": {
            "self": _absolute("api.exhibit", slug=exhibit.slug),
            "html": _absolute("exhibits.detail", slug=exhibit.slug, _lang="vi"),
        },
    }


def exhibit_detail(exhibit: Exhibit) -> dict:
    """An exhibit with the sections this caller may see (exhibits.services.shown_sections)."""
    body = exhibit_summary(exhibit)
    sections = []
    for shown in exhibit_services.shown_sections(exhibit):
        section = shown.section
        item: dict[str, Any] = {
            "kind": section.kind,
            "heading": lang_values(section.heading_values),
            "body_markdown": lang_values(section.body_values),
            "caption": lang_values(section.caption_values),
            "alt": lang_values(section.alt_values),
            "region": section.region,
            "start_seconds": section.start_seconds,
            "end_seconds": section.end_seconds,
            "records": [
                {**record_summary(i.record), "note": lang_values(to_langstrings(i.item.note))}
                for i in shown.items
            ],
            "media": media_summary(shown.media) if shown.media is not None else None,
        }
        sections.append(item)
    body["sections"] = sections
    return body


# --- the record input of the write endpoints ------------------------------------------------------


class InputError(Exception):
    """A request body that does not have the record input's shape: {path: message}."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("invalid input")
        self.fields = fields


#: Top-level members of the record input, and the JSON types each accepts.
INPUT_MEMBERS: dict[str, tuple[type, ...]] = {
    "texts": (dict,),
    "category": (str,),
    "access_level": (str,),
    "community": (int, type(None)),
    "ethnic_groups": (list,),
    "places": (list,),
    "collections": (list,),
    "subjects": (list,),
    "agents": (list,),
    "timings": (list,),
    "dates": (list,),
    "rights_uri": (str, type(None)),
    "rights_holder": (str, type(None)),
    "consent_note": (list,),
    "labels": (list,),
    "season": (dict, type(None)),
}
#: Most entries of one list in an input (the form reads no more either).
MAX_ITEMS = forms.MAX_ROWS


def record_input(record: HeritageRecord) -> dict:
    """The record's current description in the input shape (the base a PATCH is applied to)."""
    form = forms.form_from_record(record)
    return {
        "texts": {name: list(rows) for name, rows in form.texts.items()},
        "category": form.category,
        "access_level": form.access_level,
        "community": record.community_id,
        "ethnic_groups": [row["ref"] for row in form.ethnic_groups],
        "places": [row["ref"] for row in form.places],
        "collections": list(form.collections),
        "subjects": list(form.subjects),
        "agents": list(form.agents),
        "timings": [
            {
                "calendar": t["calendar"],
                "month": int(t["month"]),
                "day": None if t["day_chosen"] else int(t["day"]),
                "leap": bool(t["leap"]),
                "duration_days": int(t["duration"]),
                "note": t["note"],
            }
            for t in form.timings
        ],
        "dates": [{"kind": d["kind"], "start": d["start"], "end": d["end"] or None} for d in form.dates],
        "rights_uri": form.rights_uri or None,
        "rights_holder": form.rights_holder or None,
        "consent_note": list(form.consent_note),
        "labels": list(form.labels),
        "season": (
            {
                "calendar": form.season.get("calendar"),
                **{k: int(v) for k, v in form.season.items() if k != "calendar" and v},
            }
            if form.season
            else None
        ),
    }


class _Shape:
    """Checks the JSON types of an input and writes it as the record form's fields."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}
        self.form: MultiDict = MultiDict()

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, message)

    def items(self, value: Any, path: str) -> list:
        if len(value) > MAX_ITEMS:
            self.fail(path, forms.message("too_long", limit=MAX_ITEMS))
            return []
        return value

    def text(self, value: Any, path: str, *, required: bool = True) -> str | None:
        if not isinstance(value, str) or (required and not value.strip()) or "\x00" in value:
            self.fail(path, _msg_text())
            return None
        return value

    def lang_rows(self, rows: Any, path: str, prefix: str) -> None:
        if not isinstance(rows, list):
            self.fail(path, _msg_list())
            return
        for i, row in enumerate(self.items(rows, path)):
            if not isinstance(row, dict):
                self.fail(f"{path}/{i}", _msg_lang_value())
                continue
            lang = self.text(row.get("lang"), f"{path}/{i}/lang")
            value = self.text(row.get("value"), f"{path}/{i}/value")
            if lang is not None and value is not None:
                self.form.add(f"{prefix}-{i}-lang", lang)
                self.form.add(f"{prefix}-{i}-value", value)


def _msg_text() -> str:
    return _("Give a text here.")


def _msg_list() -> str:
    return _("Give a list here.")


def _msg_lang_value() -> str:
    return _("Give an object with “lang” and “value”.")


def _msg_type() -> str:
    return _("This has the wrong type.")


def _msg_unknown() -> str:
    return _("This is not a member of a record.")


def _msg_number() -> str:
    return _("Give a whole number here.")


def form_data(body: Mapping[str, Any]) -> MultiDict:
    """The record form's fields for a record input; raises InputError when its shape is wrong."""
    s = _Shape()
    for name, value in body.items():
        if name not in INPUT_MEMBERS:
            s.fail(name, _msg_unknown())
        elif not isinstance(value, INPUT_MEMBERS[name]) or isinstance(value, bool):
            s.fail(name, _msg_type())
    if s.errors:
        raise InputError(s.errors)
    texts = body.get("texts") or {}
    for name, rows in texts.items():
        if name not in TEXT_FIELDS:
            s.fail(f"texts/{name}", _msg_unknown())
            continue
        s.lang_rows(rows, f"texts/{name}", name)
    for name in ("category", "access_level", "rights_uri", "rights_holder"):
        if body.get(name) is not None and s.text(body[name], name, required=False) is not None:
            s.form[name] = body[name]
    if body.get("community") is not None:
        s.form["community"] = str(body["community"])
    for name in ("ethnic_groups", "places"):
        for i, ref in enumerate(s.items(body.get(name) or [], name)):
            if s.text(ref, f"{name}/{i}") is not None:
                s.form.add(f"{name}-{i}-text", ref)
                s.form.add(f"{name}-{i}-ref", "")
    for i, slug in enumerate(s.items(body.get("collections") or [], "collections")):
        if s.text(slug, f"collections/{i}") is not None:
            s.form.add("collections", slug)
    s.lang_rows(body.get("subjects") or [], "subjects", "subjects")
    for i, row in enumerate(s.items(body.get("agents") or [], "agents")):
        if not isinstance(row, dict):
            s.fail(f"agents/{i}", _msg_type())
            continue
        name = s.text(row.get("name"), f"agents/{i}/name")
        role = s.text(row.get("role"), f"agents/{i}/role")
        kind = s.text(row.get("kind", "person"), f"agents/{i}/kind")
        if name is not None and role is not None and kind is not None:
            s.form.add(f"agents-{i}-name", name)
            s.form.add(f"agents-{i}-role", role)
            s.form.add(f"agents-{i}-kind", kind)
    for i, row in enumerate(s.items(body.get("timings") or [], "timings")):
        _timing(s, row, i)
    for i, row in enumerate(s.items(body.get("dates") or [], "dates")):
        if not isinstance(row, dict):
            s.fail(f"dates/{i}", _msg_type())
            continue
        kind = s.text(row.get("kind", "recorded"), f"dates/{i}/kind")
        start = s.text(row.get("start"), f"dates/{i}/start")
        end = row.get("end")
        if end is not None:
            end = s.text(end, f"dates/{i}/end")
        if kind is not None and start is not None:
            s.form.add(f"dates-{i}-kind", kind)
            s.form.add(f"dates-{i}-start", start)
            s.form.add(f"dates-{i}-end", end or "")
    s.lang_rows(body.get("consent_note") or [], "consent_note", "consent_note")
    for i, kind in enumerate(s.items(body.get("labels") or [], "labels")):
        if s.text(kind, f"labels/{i}") is not None:
            s.form.add("labels", kind)
    season = body.get("season")
    if season:
        for part in ("calendar", "start_month", "start_day", "end_month", "end_day"):
            value = season.get(part)
            if part == "calendar":
                if s.text(value, "season/calendar") is not None:
                    s.form["season_calendar"] = value
            elif not isinstance(value, int) or isinstance(value, bool):
                s.fail(f"season/{part}", _msg_number())
            else:
                s.form[f"season_{part}"] = str(value)
    if s.errors:
        raise InputError(s.errors)
    return s.form


def _timing(s: _Shape, row: Any, i: int) -> None:
    path = f"timings/{i}"
    if not isinstance(row, dict):
        s.fail(path, _msg_type())
        return
    calendar = s.text(row.get("calendar", "lunar"), f"{path}/calendar")
    numbers = {}
    for part in ("month", "day", "duration_days"):
        value = row.get(part, 1 if part == "duration_days" else None)
        if value is None and part == "day":
            numbers[part] = None
        elif not isinstance(value, int) or isinstance(value, bool):
            s.fail(f"{path}/{part}", _msg_number())
            return
        else:
            numbers[part] = value
    leap = row.get("leap", False)
    if not isinstance(leap, bool):
        s.fail(f"{path}/leap", _msg_type())
        return
    if calendar is None:
        return
    s.form.add(f"timings-{i}-calendar", calendar)
    s.form.add(f"timings-{i}-month", str(numbers["month"]))
    if numbers["day"] is None:
        s.form.add(f"timings-{i}-day_chosen", "1")
        s.form.add(f"timings-{i}-day", "")
    else:
        s.form.add(f"timings-{i}-day", str(numbers["day"]))
    if leap:
        s.form.add(f"timings-{i}-leap", "1")
    s.form.add(f"timings-{i}-duration", str(numbers["duration_days"]))
    s.lang_rows(row.get("note") or [], f"{path}/note", f"timings-{i}-note")


#: How the record form names a field (its error keys), and the input path of the same field.
_FORM_PARTS = {"text": None, "duration": "duration_days", "day_chosen": "day"}


def input_path(form_key: str) -> str:
    """The input path (``texts/title/0/value``, ``places/1``, ``timings/0/duration_days``) of an error
    key of the record form (``title-0-value``, ``places-1-text``, ``timings-0-duration``)."""
    parts = form_key.split("-")
    head = parts[0]
    if head in TEXT_FIELDS:
        parts = ["texts", *parts]
    out = []
    for part in parts:
        if part in _FORM_PARTS:
            replacement = _FORM_PARTS[part]
            if replacement is not None:
                out.append(replacement)
        else:
            out.append(part)
    return "/".join(out)
