"""Visitors' pages: the published exhibits, and one exhibit with the sections they may see."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, abort, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from archive.core.i18n import current_language
from archive.exhibits import services
from archive.exhibits.markdown import render_markdown
from archive.media.models import MediaFile
from metadata.languages import LangString, language_name, pick

bp = Blueprint("exhibits", __name__)

#: Widths offered in srcset (never more than the image or region holds: IIIF refuses to upscale).
IMAGE_WIDTHS = (400, 800, 1600)


@dataclass(frozen=True)
class ImageSources:
    """The src, srcset and intrinsic size of an IIIF image (or region of one)."""

    src: str
    srcset: str
    width: int
    height: int


def image_sources(media: MediaFile, region: str | None = None, default: int = 800) -> ImageSources:
    """IIIF Image API URLs for a picture, as on the record page: ``!s,s`` sizes up to the longest side of
    the image (or of the region), then ``max`` when that side is shorter than the largest width."""
    iiif = url_for("iiif.base", identifier=media.public_id)
    width, height = media.width or 1, media.height or 1
    part = "full"
    if region:
        try:
            x, y, w, h = services.parse_region(region, media.width, media.height)
            part, width, height = f"{x},{y},{w},{h}", w, h
        except ValueError:
            part = "full"
    longest = max(width, height)
    fits = [s for s in IMAGE_WIDTHS if s <= longest]

    def shown_width(s: int) -> int:
        return s if width >= height else s * width // height

    entries = [f"{iiif}/{part}/!{s},{s}/0/default.jpg {shown_width(s)}w" for s in fits]
    if longest < IMAGE_WIDTHS[-1]:
        entries.append(f"{iiif}/{part}/max/0/default.jpg {width}w")
    size = f"!{default},{default}" if longest >= default else "max"
    return ImageSources(f"{iiif}/{part}/{size}/0/default.jpg", ", ".join(entries), width, height)


def localized_markdown(values: list[LangString]) -> Markup:
    """A Markdown text in the visitor's language by the fallback rule, rendered safely, with the
    fallback note when it is shown in another language."""
    lang = current_language()
    chosen = pick(values, lang)
    if chosen is None:
        return Markup("")
    html = render_markdown(chosen.value)
    if not chosen.fell_back and chosen.lang.split("-")[0] == lang:
        return Markup('<div class="narrative" lang="{}">{}</div>').format(chosen.lang, html)
    note = _("Shown in %(language)s", language=language_name(chosen.lang, lang))
    return Markup(
        '<p class="fallback"><small>({})</small></p><div class="narrative" lang="{}">{}</div>'
    ).format(note, chosen.lang, html)


def excerpt(values: list[LangString], length: int = 220) -> Markup:
    """The start of a text in the visitor's language (fallback rule and note as :func:`localized`)."""
    lang = current_language()
    chosen = pick(values, lang)
    if chosen is None:
        return Markup("")
    text = " ".join(chosen.value.split())
    if len(text) > length:
        text = text[:length].rsplit(" ", 1)[0] + "…"
    if not chosen.fell_back and chosen.lang.split("-")[0] == lang:
        return Markup('<span lang="{}">{}</span>').format(chosen.lang, text)
    note = _("Shown in %(language)s", language=language_name(chosen.lang, lang))
    return Markup('<span lang="{}">{}</span> <small class="fallback">({})</small>').format(
        chosen.lang, text, note
    )


def paragraphs(values: list[LangString]) -> Markup:
    """A plain text in the visitor's language, split into paragraphs on blank lines, with the
    fallback note when it is shown in another language."""
    lang = current_language()
    chosen = pick(values, lang)
    if chosen is None:
        return Markup("")
    parts = [p.strip() for p in chosen.value.split("\n\n") if p.strip()]
    body = Markup("").join(Markup("<p>{}</p>").format(p) for p in parts)
    if not chosen.fell_back and chosen.lang.split("-")[0] == lang:
        return Markup('<div lang="{}">{}</div>').format(chosen.lang, body)
    note = _("Shown in %(language)s", language=language_name(chosen.lang, lang))
    return Markup('<div lang="{}">{}</div><p><small class="fallback">({})</small></p>').format(
        chosen.lang, body, note
    )


def time_range(start: float, end: float) -> str:
    """The played range in words: "from 1:05 to 2:30"."""
    return _("from %(start)s to %(end)s", start=services.format_time(start), end=services.format_time(end))


def media_fragment(start: float, end: float) -> str:
    """A Media Fragments time range (``#t=65,150``)."""

    def number(value: float) -> str:
        return f"{value:g}"

    return f"#t={number(start)},{number(end)}"


@bp.record_once
def _template_helpers(state) -> None:
    """Template globals (globals, not a context processor, so that imported macros see them too)."""
    state.app.jinja_env.globals.update(
        {
            "exhibit_image": image_sources,
            "exhibit_markdown": localized_markdown,
            "exhibit_excerpt": excerpt,
            "exhibit_paragraphs": paragraphs,
            "exhibit_time_range": time_range,
            "exhibit_fragment": media_fragment,
            "exhibit_cover": services.visible_cover,
            "featured_exhibits": services.featured_exhibits,
        }
    )


def _private(response: Response) -> Response:
    """What a signed-in person sees may include restricted material: never for shared caches."""
    if current_user.is_authenticated:
        response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/exhibits")
def index():
    """The published exhibits, each with its cover, title and the start of its introduction."""
    body = render_template("exhibits/list.html", exhibits=services.published_exhibits())
    return _private(Response(body, mimetype="text/html"))


@bp.get("/exhibits/<slug>")
def detail(slug: str):
    """One exhibit: title, introduction and the sections this person may see; drafts only for curators."""
    exhibit = services.get_by_slug(slug)
    if exhibit is None or not services.can_view_exhibit(exhibit, current_user):
        abort(404)
    body = render_template(
        "exhibits/detail.html",
        exhibit=exhibit,
        cover=services.visible_cover(exhibit),
        sections=services.shown_sections(exhibit),
    )
    response = _private(Response(body, mimetype="text/html"))
    if exhibit.status != "published":
        response.headers["Cache-Control"] = "private, no-store"
    return response
