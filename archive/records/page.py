"""What the public record page needs beyond the record itself: the rendition a connection can bear,
transcripts read from caption tracks, image sizes the IIIF server can give, related records, the
citation, schema.org JSON-LD and Open Graph tags.

The view (archive.records.views.detail) asks these helpers and hands their plain results to
records/detail.html; nothing here commits or changes a record.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

from flask import current_app, url_for
from markupsafe import Markup
from sqlalchemy import func, select, union_all
from sqlalchemy.orm import selectinload

from archive.core import access
from archive.core.extensions import db
from archive.media.models import MediaCaption, MediaFile
from archive.records import services
from archive.records.models import (
    HeritageRecord,
    record_ethnic_group,
    record_place,
    record_subject,
)
from metadata.citation import Citation, build_citation
from metadata.dublin_core import CREATOR_ROLES, to_jsonld
from metadata.languages import LangString, pick
from metadata.model import RecordDescription

logger = logging.getLogger(__name__)

# --- rendition choice -----------------------------------------------------------------------------

QUALITY_COOKIE = "quality"
QUALITIES = ("low", "high")
#: Effective connection types (Client Hint ECT / navigator.connection.effectiveType) that get "low".
SLOW_ECT = frozenset({"slow-2g", "2g", "3g"})
#: Below this many megabits per second (Client Hint Downlink) the low rendition is chosen.
SLOW_DOWNLINK = 1.5
#: Client Hints the record page asks for, and varies on.
CLIENT_HINTS = ("Save-Data", "ECT", "Downlink")

#: Renditions in order of preference for each quality: (derivative name, MIME type for <source type>).
RENDITIONS = {
    "audio": {
        "low": (("low", 'audio/ogg; codecs="opus"'), ("web", "audio/mp4")),
        "high": (("web", "audio/mp4"), ("low", 'audio/ogg; codecs="opus"')),
    },
    "video": {
        "low": (("360", "video/mp4"), ("720", "video/mp4")),
        "high": (("720", "video/mp4"), ("360", "video/mp4")),
    },
}

#: The same orders by name only, for the page's script that swaps sources in place.
RENDITION_ORDERS = {
    kind: {quality: [name for name, _mime in order] for quality, order in orders.items()}
    for kind, orders in RENDITIONS.items()
}


@dataclass(frozen=True)
class QualityChoice:
    """The rendition quality for this request and what decided it ("query", "cookie", "hint", "default")."""

    quality: str
    source: str


def hints_ask_for_low(headers: Mapping[str, str]) -> bool:
    """True when the browser says data is dear (Save-Data: on) or the connection slow (ECT, Downlink)."""
    if (headers.get("Save-Data") or "").strip().lower() == "on":
        return True
    if (headers.get("ECT") or "").strip().lower() in SLOW_ECT:
        return True
    try:
        downlink = float((headers.get("Downlink") or "").strip())
    except ValueError:
        return False
    return 0 <= downlink < SLOW_DOWNLINK


def choose_quality(query: str | None, cookie: str | None, headers: Mapping[str, str]) -> QualityChoice:
    """Low or high renditions: an explicit ?quality= wins, then the remembered choice, then the
    browser's hints; high by default. Raises ValueError for a ?quality= that is neither."""
    if query is not None:
        if query not in QUALITIES:
            raise ValueError(query)
        return QualityChoice(query, "query")
    if cookie in QUALITIES:
        return QualityChoice(cookie, "cookie")
    if hints_ask_for_low(headers):
        return QualityChoice("low", "hint")
    return QualityChoice("high", "default")


@dataclass(frozen=True)
class Source:
    """One <source> of a player."""

    name: str
    url: str
    type: str


def media_sources(media: MediaFile, quality: str) -> list[Source]:
    """The player's sources, the chosen quality first, only renditions that exist."""
    order = RENDITIONS.get(media.kind, {}).get(quality, ())
    return [
        Source(name, url_for("media.rendition", public_id=media.public_id, name=name), mime)
        for name, mime in order
        if media.derivative(name) is not None
    ]


# --- transcripts ----------------------------------------------------------------------------------

_TIMING = re.compile(r"^\s*(?:(\d+):)?(\d{2}):(\d{2})[.,](\d{3})\s+-->")
_TAG = re.compile(r"<[^>]*>")
#: Caption kinds in order of preference for a transcript.
TRANSCRIPT_KINDS = ("transcript", "captions", "subtitles")


@dataclass(frozen=True)
class Cue:
    """One cue of a transcript: when it starts and its words."""

    start: float
    text: str

    @property
    def clock(self) -> str:
        """The start as m:ss (or h:mm:ss)."""
        seconds = int(self.start)
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def parse_cues(text: str) -> list[Cue]:
    """The cues of a (checked) WebVTT file: start times and payload text, tags removed, entities read."""
    cues = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n"))[1:]:
        lines = block.strip("\n").split("\n")
        if not lines or lines[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        index = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if index is None:
            continue
        match = _TIMING.match(lines[index])
        if match is None:
            continue
        hours, minutes, seconds, millis = match.groups()
        start = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000
        words = " ".join(html.unescape(_TAG.sub("", line)).strip() for line in lines[index + 1 :]).strip()
        if words:
            cues.append(Cue(start, words))
    return cues


@dataclass(frozen=True)
class Transcript:
    """The words of one caption track, shown under its player."""

    lang: str
    label: str
    cues: list[Cue]


def transcripts(media: MediaFile, lang: str) -> list[Transcript]:
    """One transcript per language of the media's caption tracks (a "transcript" track preferred over
    captions over subtitles), the reader's language first; tracks that cannot be read are left out."""
    from archive.media.services import derivatives_root

    best: dict[str, MediaCaption] = {}
    for track in media.captions:
        kept = best.get(track.lang)
        if kept is None or TRANSCRIPT_KINDS.index(track.kind) < TRANSCRIPT_KINDS.index(kept.kind):
            best[track.lang] = track
    out = []
    root = derivatives_root().resolve()
    for track in sorted(best.values(), key=lambda t: (t.lang.split("-")[0] != lang, t.lang)):
        path = (root / track.storage_key).resolve()
        try:
            if not path.is_relative_to(root):
                raise OSError("outside the derivatives root")
            cues = parse_cues(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            logger.warning(
                "caption track %s of media %s unreadable: %s", track.storage_key, media.public_id, exc
            )
            continue
        if cues:
            out.append(Transcript(track.lang, track.label, cues))
    return out


# --- images over IIIF -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageSizes:
    """URLs of one image at sizes the IIIF server gives without upscaling."""

    src: str
    srcset: str
    width: int
    height: int
    #: A larger view for the link around the picture (works without JavaScript).
    large: str
    #: About 1200 px on the longest side, for Open Graph and schema.org.
    share: str
    info: str


def _fit(width: int, height: int, box: int) -> tuple[int, int]:
    """The size of width x height confined to box x box (never enlarged), as IIIF "!box,box" gives."""
    longest = max(width, height)
    if longest <= box:
        return width, height
    if width >= height:
        return box, max(1, round(height * box / width))
    return max(1, round(width * box / height)), box


def _size(box: int, longest: int) -> str:
    return f"!{box},{box}" if longest >= box else "max"


def image_sizes(media: MediaFile) -> ImageSizes:
    """The record page's picture: 400/800/1600 px variants that fit, the image's own size otherwise."""
    base = url_for("iiif.base", identifier=media.public_id)
    width, height = media.width or 1, media.height or 1
    longest = max(width, height)
    candidates = [box for box in (400, 800, 1600) if box <= longest]
    entries = [f"{base}/full/!{box},{box}/0/default.jpg {_fit(width, height, box)[0]}w" for box in candidates]
    if longest < 1600:
        entries.append(f"{base}/full/max/0/default.jpg {width}w")
    shown_w, shown_h = _fit(width, height, 800)
    return ImageSizes(
        src=f"{base}/full/{_size(800, longest)}/0/default.jpg",
        srcset=", ".join(entries),
        width=shown_w,
        height=shown_h,
        large=f"{base}/full/{_size(1600, longest)}/0/default.jpg",
        share=f"{base}/full/{_size(1200, longest)}/0/default.jpg",
        info=url_for("iiif.info", identifier=media.public_id),
    )


@dataclass(frozen=True)
class Thumbnail:
    """A record card's picture: 160 px (and 320 px for dense screens when the image has them)."""

    src: str
    srcset: str
    width: int
    height: int
    alt: str


def first_visible_image(record: HeritageRecord) -> MediaFile | None:
    """The record's first ready image that this person may see."""
    for media in record.media:
        if media.kind == "image" and media.state == "ready" and access.can_view_media(media):
            return media
    return None


def card_thumbnail(record: HeritageRecord) -> Thumbnail | None:
    """The card picture of a record (first visible ready image), or None; its alternative text is the
    image's caption, or the record's title, in the reader's language."""
    from archive.core.i18n import current_language

    media = first_visible_image(record)
    if media is None:
        return None
    lang = current_language()
    title = pick(record.values("title"), lang)
    alt = caption_text(media.caption_values, lang, title.value if title else record.slug)
    base = url_for("iiif.base", identifier=media.public_id)
    width, height = media.width or 1, media.height or 1
    longest = max(width, height)
    one = f"{base}/full/{_size(160, longest)}/0/default.jpg"
    srcset = [f"{one} 1x"]
    if longest >= 320:
        srcset.append(f"{base}/full/!320,320/0/default.jpg 2x")
    elif longest > 160:
        srcset.append(f"{base}/full/max/0/default.jpg {longest / 160:.2f}x")
    shown_w, shown_h = _fit(width, height, 160)
    return Thumbnail(one, ", ".join(srcset), shown_w, shown_h, alt)


# --- related records ------------------------------------------------------------------------------


def _card_options(stmt):
    """What a record card shows, loaded in a few queries for all cards (no query per card)."""
    return stmt.options(
        selectinload(HeritageRecord.texts),
        selectinload(HeritageRecord.ethnic_groups),
        selectinload(HeritageRecord.media),
        selectinload(HeritageRecord.consents),
        selectinload(HeritageRecord.labels),
    )


def related_records(record: HeritageRecord, limit: int = 6) -> list[HeritageRecord]:
    """Up to *limit* records this person may see that share ethnic groups, the category, places or
    subjects with *record*, those sharing most first (then the most recently published)."""
    parts = [select(HeritageRecord.id.label("rid")).where(HeritageRecord.category == record.category)]
    for table, column, items in (
        (record_ethnic_group, record_ethnic_group.c.ethnic_group_id, record.ethnic_groups),
        (record_subject, record_subject.c.subject_id, record.subjects),
        (record_place, record_place.c.place_id, record.places),
    ):
        if items:
            parts.append(select(table.c.record_id.label("rid")).where(column.in_([i.id for i in items])))
    shared = union_all(*parts).subquery()
    reader = access.reader_for()
    if reader.user_id is None:
        # A visitor: only what everyone may see today (the protocols' exceptions already removed).
        visible = services.public_records().with_only_columns(HeritageRecord.id)
    else:
        visible = select(HeritageRecord.id).where(HeritageRecord.status != "withdrawn")
    score = func.count().label("score")
    ranked = (
        select(shared.c.rid, score)
        .join(HeritageRecord, HeritageRecord.id == shared.c.rid)
        .where(shared.c.rid != record.id, shared.c.rid.in_(visible))
        .group_by(shared.c.rid, HeritageRecord.published_at)
        .order_by(score.desc(), HeritageRecord.published_at.desc(), shared.c.rid.desc())
        .limit(limit * 4)
    )
    order = [row.rid for row in db.session.execute(ranked)]
    if not order:
        return []
    loaded = {
        r.id: r
        for r in db.session.scalars(_card_options(select(HeritageRecord)).where(HeritageRecord.id.in_(order)))
    }
    # Every record is checked against the one policy, whatever the query above let through.
    return [loaded[i] for i in order if i in loaded and access.can_view_record(loaded[i])][:limit]


# --- citation, structured data, Open Graph --------------------------------------------------------


def record_citation(
    record: HeritageRecord, description: RecordDescription, lang: str, today: dt.date
) -> Citation:
    """The "Cite this record" text in *lang*: recorders and researchers, title, year, archive, URL."""
    creators = [agent.name for agent in description.agents if agent.role in CREATOR_ROLES]
    title = pick(description.values("title"), lang)
    when = record.published_at or record.created_at
    return build_citation(
        creators=creators,
        title=title.value if title else record.slug,
        year=when.year if when else None,
        archive=current_app.config["PUBLISHER"],
        url=description.url,
        accessed=today,
        lang=lang,
    )


def canonical_url(record: HeritageRecord) -> str:
    """The absolute URL of the record's page in the current language, on the archive's public host."""
    return current_app.config["BASE_URL"] + url_for(
        "records.detail", public_id=record.public_id, slug=record.slug
    )


def absolute(path: str) -> str:
    """An absolute URL on the archive's public host for a path from url_for."""
    return path if "://" in path else current_app.config["BASE_URL"] + path


def _gregorian_schedule(description: RecordDescription) -> list[dict]:
    """schema.org Schedules of the Gregorian timings (lunar dates cannot be said in schema.org terms)."""
    out = []
    for timing in description.timings:
        if timing.calendar != "gregorian" or not timing.day:
            continue
        out.append(
            {
                "@type": "schema:Schedule",
                "schema:repeatFrequency": "P1Y",
                "schema:byMonth": timing.month,
                "schema:byMonthDay": timing.day,
                "schema:duration": f"P{max(1, timing.duration_days)}D",
            }
        )
    return out


def page_jsonld(description: RecordDescription, canonical: str, image: str | None) -> dict:
    """The schema.org (and DCMI terms) description embedded in the page: the JSON-LD export, with the
    page's own URL, its picture and, for Gregorian recurring events, their schedule."""
    doc = to_jsonld(description)
    doc["schema:mainEntityOfPage"] = {"@id": canonical}
    if image:
        doc["schema:image"] = {"@id": image}
    types = doc.get("@type") or []
    if any(t in ("schema:Festival", "schema:Event") for t in types):
        schedule = _gregorian_schedule(description)
        if schedule:
            doc["schema:eventSchedule"] = schedule
    return doc


def jsonld_script(doc: dict) -> Markup:
    """JSON for a <script type="application/ld+json"> block: "<", ">" and "&" are written as \\u escapes,
    so that no value can close the element or start a comment."""
    text = json.dumps(doc, ensure_ascii=False, sort_keys=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped above for the script context


OG_LOCALES = {"vi": "vi_VN", "en": "en_US"}


@dataclass(frozen=True)
class OpenGraph:
    """The Open Graph properties of a record page."""

    title: str
    description: str
    type: str
    url: str
    image: str | None
    image_alt: str
    locale: str
    alternates: list[str]


def open_graph(
    description: RecordDescription, lang: str, canonical: str, image: str | None, alt: str
) -> OpenGraph:
    """Open Graph tags: title and summary in the reader's language, the picture (1200 px) if any."""
    title = pick(description.values("title"), lang)
    summary = pick(description.values("summary") or description.values("description"), lang)
    text = " ".join(summary.value.split()) if summary else ""
    if len(text) > 300:
        text = text[:297].rsplit(" ", 1)[0] + "…"
    locale = OG_LOCALES.get(lang, "vi_VN")
    return OpenGraph(
        title=title.value if title else description.slug,
        description=text,
        type="article",
        url=canonical,
        image=image,
        image_alt=alt,
        locale=locale,
        alternates=[value for key, value in OG_LOCALES.items() if value != locale],
    )


def caption_text(values: list[LangString], lang: str, default: str) -> str:
    """A media caption in *lang* by the fallback rule, or *default*."""
    chosen = pick(values, lang)
    return chosen.value if chosen else default
