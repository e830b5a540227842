"""The curators' exhibit and section forms: what was typed (kept on error), per-field messages, and the
checked values the services take. CSRF is checked for every POST by Flask-WTF's CSRFProtect."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from archive.exhibits import services
from archive.exhibits.models import EXHIBIT_STATUSES, Exhibit, ExhibitSection
from metadata.languages import LangString, nfc

#: Languages curators write exhibits in (Vietnamese is required where a text is required).
LANGUAGES = ("vi", "en")
LANGUAGE_LABELS = {"vi": _l("Vietnamese"), "en": _l("English")}
STATUS_LABELS = {"draft": _l("Draft"), "published": _l("Published")}
KIND_LABELS = {
    "narrative": _l("Narrative text"),
    "records": _l("Featured records"),
    "image": _l("Image"),
    "excerpt": _l("Audio or video excerpt"),
}
#: Blank rows offered for new featured records under the ones already chosen.
EXTRA_ITEM_ROWS = 3

MESSAGES = {
    "slug_required": _l("Give the exhibit a web address (slug)."),
    "slug_format": _l("Use lowercase letters a–z, digits and single hyphens, e.g. gong-culture."),
    "slug_taken": _l("Another exhibit already uses this address."),
    "title_required": _l("Give the exhibit a title in Vietnamese."),
    "bad_status": _l("Choose draft or published."),
    "bad_position": _l("Enter a whole number."),
    "cover_unknown": _l("There is no media file with this identifier."),
    "cover_not_image": _l("The cover must be an image."),
    "body_required": _l("Write the text, at least in Vietnamese."),
    "media_required": _l("Enter the identifier of a media file."),
    "media_unknown": _l("There is no media file with this identifier."),
    "media_not_image": _l("Choose an image for an image section."),
    "media_not_av": _l("Choose an audio or video file for an excerpt."),
    "region_format": _l("Write the region as x,y,w,h in pixels, e.g. 100,50,800,600."),
    "region_outside": _l("The region must lie inside the image (%(width)s × %(height)s pixels)."),
    "alt_required": _l("Describe the image for people who cannot see it, at least in Vietnamese."),
    "time_format": _l("Enter a time in seconds (e.g. 65) or as minutes:seconds (e.g. 1:05)."),
    "start_before_end": _l("The start must be before the end."),
    "end_after_duration": _l("The end must not be after the end of the recording (%(duration)s)."),
    "duration_unknown": _l("The length of this recording is not known yet; try again when it is processed."),
    "record_unknown": _l("There is no record with this identifier."),
    "records_required": _l("Choose at least one record."),
    "too_many_records": _l("A section may feature at most %(count)s records."),
    "stale": _l(
        "Someone else changed this exhibit after you opened the form, so your changes were not saved. "
        "What you typed is kept below; check the exhibit, then save again."
    ),
    "not_allowed": _l("You may not do this."),
    "bad_kind": _l("Choose a kind of section."),
    "bad_direction": _l("Move a section up or down."),
    "text_too_long": _l("This text is too long (at most %(count)s characters)."),
}

#: Longest texts accepted, in characters.
SHORT_TEXT = 300
LONG_TEXT = 20000


def message(code: str, **params) -> str:
    """The translated message for an error code."""
    text = MESSAGES.get(code, MESSAGES["bad_kind"])
    return str(text) % params if params else str(text)


def _clean(value: str | None) -> str:
    return nfc((value or "").replace("\r\n", "\n")).strip()


@dataclass
class FormState:
    """What the form shows: the typed values, and the error message of each field that was refused."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        """The typed value of a field."""
        return self.values.get(name, default)

    def error(self, name: str, code: str, **params) -> None:
        """Refuse a field (the first message of a field is kept)."""
        self.errors.setdefault(name, message(code, **params))

    @property
    def version(self) -> int | None:
        """The exhibit version the form was opened at (None when absent or not a number)."""
        text = self.values.get("version_id", "")
        return int(text) if text.isdigit() else None


def _lang_values(state: FormState, prefix: str, limit: int) -> list[LangString]:
    values = []
    for lang in LANGUAGES:
        text = state.get(f"{prefix}_{lang}")
        if len(text) > limit:
            state.error(f"{prefix}_{lang}", "text_too_long", count=limit)
        if text:
            values.append(LangString(text, lang))
    return values


def _has_vi(values: list[LangString]) -> bool:
    return any(v.lang == "vi" and v.value for v in values)


# --- exhibit ----------------------------------------------------------------------------------------


def exhibit_state(exhibit: Exhibit | None) -> FormState:
    """The form filled with an exhibit (empty for a new one)."""
    if exhibit is None:
        return FormState({"status": "draft", "position": "0"})
    values = {
        "slug": exhibit.slug,
        "status": exhibit.status,
        "featured": "1" if exhibit.featured else "",
        "position": str(exhibit.position),
        "cover": exhibit.cover.public_id if exhibit.cover else "",
        "version_id": str(exhibit.version_id),
    }
    for prefix, items in (("title", exhibit.title_values), ("introduction", exhibit.introduction_values)):
        for v in items:
            values[f"{prefix}_{v.lang}"] = v.value
    return FormState(values)


EXHIBIT_FIELDS = ("slug", "status", "featured", "position", "cover", "version_id",
                  *(f"{p}_{lang}" for p in ("title", "introduction") for lang in LANGUAGES))  # fmt: skip


def parse_exhibit(formdata: Mapping) -> tuple[FormState, services.ExhibitData | None]:
    """Check the exhibit form; the data is None when a field was refused."""
    state = FormState({name: _clean(formdata.get(name)) for name in EXHIBIT_FIELDS})
    slug = state.get("slug").lower()
    state.values["slug"] = slug
    if not slug:
        state.error("slug", "slug_required")
    elif not services.valid_slug(slug):
        state.error("slug", "slug_format")
    title = _lang_values(state, "title", SHORT_TEXT)
    if not _has_vi(title):
        state.error("title_vi", "title_required")
    introduction = _lang_values(state, "introduction", LONG_TEXT)
    status = state.get("status") or "draft"
    if status not in EXHIBIT_STATUSES:
        state.error("status", "bad_status")
    position_text = state.get("position") or "0"
    position = int(position_text) if position_text.lstrip("-").isdigit() else None
    if position is None or abs(position) > 100000:
        state.error("position", "bad_position")
    cover = None
    if state.get("cover"):
        cover = services.find_media(state.get("cover"))
        if cover is None:
            state.error("cover", "cover_unknown")
        elif cover.kind != "image":
            state.error("cover", "cover_not_image")
    if state.errors:
        return state, None
    return state, services.ExhibitData(
        slug=slug,
        title=title,
        introduction=introduction,
        status=status,
        featured=bool(state.get("featured")),
        position=position or 0,
        cover=cover,
    )


# --- sections ---------------------------------------------------------------------------------------


def section_state(section: ExhibitSection | None, kind: str, version: int) -> FormState:
    """The form filled with a section (empty for a new one of *kind*)."""
    values = {"kind": kind, "version_id": str(version)}
    if section is not None:
        for prefix, items in (
            ("heading", section.heading_values),
            ("body", section.body_values),
            ("caption", section.caption_values),
            ("alt", section.alt_values),
        ):
            for v in items:
                values[f"{prefix}_{v.lang}"] = v.value
        values["media"] = section.media.public_id if section.media else ""
        values["region"] = section.region or ""
        if section.start_seconds is not None:
            values["start"] = services.format_time(section.start_seconds)
        if section.end_seconds is not None:
            values["end"] = services.format_time(section.end_seconds)
        for n, item in enumerate(section.items):
            values[f"item-{n}-record"] = item.record.public_id
            for v in item.note_values:
                values[f"item-{n}-note_{v.lang}"] = v.value
    return FormState(values)


def item_rows(state: FormState) -> int:
    """How many record rows the form shows: the filled ones and a few blank ones."""
    filled = [int(k.split("-")[1]) for k in state.values if k.startswith("item-") and state.values[k]]
    return min(services.MAX_ITEMS, (max(filled) + 1 if filled else 0) + EXTRA_ITEM_ROWS)


def parse_section(formdata: Mapping, kind: str) -> tuple[FormState, services.SectionData | None]:
    """Check a section form of *kind*; the data is None when a field was refused."""
    names = ["version_id", "media", "region", "start", "end"]
    names += [f"{p}_{lang}" for p in ("heading", "body", "caption", "alt") for lang in LANGUAGES]
    state = FormState({name: _clean(formdata.get(name)) for name in names})
    state.values["kind"] = kind
    for key in formdata:
        if key.startswith("item-") and key.count("-") == 2 and key.split("-")[1].isdigit():
            state.values[key] = _clean(formdata.get(key))
    data = services.SectionData(kind=kind, heading=_lang_values(state, "heading", SHORT_TEXT))
    if kind == "narrative":
        data.body = _lang_values(state, "body", LONG_TEXT)
        if not _has_vi(data.body):
            state.error("body_vi", "body_required")
    elif kind == "records":
        _parse_items(state, data)
    elif kind in ("image", "excerpt"):
        data.caption = _lang_values(state, "caption", LONG_TEXT)
        media = _parse_media(state, kind)
        data.media = media
        if kind == "image":
            data.alt = _lang_values(state, "alt", SHORT_TEXT)
            if not _has_vi(data.alt):
                state.error("alt_vi", "alt_required")
            region = state.get("region")
            if region:
                try:
                    x, y, w, h = services.parse_region(region, media and media.width, media and media.height)
                    data.region = f"{x},{y},{w},{h}"
                except ValueError as exc:
                    if str(exc) == "outside" and media is not None:
                        state.error("region", "region_outside", width=media.width, height=media.height)
                    else:
                        state.error("region", "region_format")
        else:
            _parse_times(state, data, media)
    else:
        state.error("kind", "bad_kind")
    return (state, None) if state.errors else (state, data)


def _parse_media(state: FormState, kind: str):
    public_id = state.get("media")
    if not public_id:
        state.error("media", "media_required")
        return None
    media = services.find_media(public_id)
    if media is None:
        state.error("media", "media_unknown")
        return None
    if kind == "image" and media.kind != "image":
        state.error("media", "media_not_image")
        return None
    if kind == "excerpt" and media.kind not in ("audio", "video"):
        state.error("media", "media_not_av")
        return None
    return media


def _parse_times(state: FormState, data: services.SectionData, media) -> None:
    times = {}
    for name in ("start", "end"):
        try:
            times[name] = services.parse_seconds(state.get(name))
        except ValueError:
            state.error(name, "time_format")
    if len(times) < 2:
        return
    start, end = times["start"], times["end"]
    if not 0 <= start < end:
        state.error("end", "start_before_end")
        return
    if media is not None:
        if not media.duration_seconds:
            state.error("media", "duration_unknown")
            return
        if end > media.duration_seconds + 0.001:
            state.error("end", "end_after_duration", duration=services.format_time(media.duration_seconds))
            return
    data.start_seconds, data.end_seconds = start, end


def _parse_items(state: FormState, data: services.SectionData) -> None:
    rows = sorted({int(k.split("-")[1]) for k in state.values if k.startswith("item-")})
    for n in rows:
        public_id = state.get(f"item-{n}-record")
        note = _lang_values(state, f"item-{n}-note", SHORT_TEXT * 4)
        if not public_id:
            continue
        record = services.find_record(public_id)
        if record is None:
            state.error(f"item-{n}-record", "record_unknown")
            continue
        data.items.append((record, note))
    if not data.items and not any(k.startswith("item-") and k.endswith("-record") for k in state.errors):
        state.error("item-0-record", "records_required")
    if len(data.items) > services.MAX_ITEMS:
        state.error("item-0-record", "too_many_records", count=services.MAX_ITEMS)
