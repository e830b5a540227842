"""IIIF Presentation API 3.0: Manifests of heritage records and Collections of them, as plain dicts.

Framework-free: the application hands in a :class:`~metadata.model.RecordDescription`, the facts of the
media files the viewer may see (:class:`CanvasSource`) and the URLs it has built (:class:`ManifestLinks`);
nothing here knows about Flask, the database or access rules.

Built with plain dicts rather than iiif-prezi3: for 500 canvases its pydantic models take 250-820 ms on
the archive's shared machine against 7-47 ms for dicts (``bench/manifest.py``, docs/benchmarks.md), too
close to the one-second budget once the database and the serialisation are added.

Identifiers: a record's resources live under one base URI (``.../iiif/records/<public_id>``):
the manifest ``<base>/manifest.json``, a canvas ``<base>/canvas/<media id>``, its painting page
``<canvas>/page/painting`` and annotation ``<canvas>/annotation/painting``, its supplementing
(captions, transcripts) page ``<canvas>/page/supplementing`` and annotations
``<canvas>/annotation/<kind>-<lang>``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from metadata.dublin_core import crosswalk
from metadata.languages import LangString
from metadata.model import RecordDescription

CONTEXT = "http://iiif.io/api/presentation/3/context.json"
IMAGE_SERVICE_TYPE = "ImageService3"
IMAGE_PROFILE = "level2"
#: Longest side of a canvas thumbnail, in pixels.
THUMBNAIL_SIZE = 200
#: The IIIF resource type of each kind of media file.
RESOURCE_TYPES = {"image": "Image", "audio": "Sound", "video": "Video"}
#: What each caption kind is, for the annotation's label when the track has none.
TRACK_KINDS = {
    "captions": {"vi": "Phụ đề", "en": "Captions"},
    "subtitles": {"vi": "Phụ đề dịch", "en": "Subtitles"},
    "transcript": {"vi": "Bản ghi lời", "en": "Transcript"},
}

#: Labels of the Dublin Core terms shown in a manifest's ``metadata``, in the archive's two languages.
TERM_LABELS: dict[str, dict[str, str]] = {
    "alternative": {"vi": "Tên khác", "en": "Other titles"},
    "creator": {"vi": "Người ghi chép", "en": "Documented by"},
    "contributor": {"vi": "Người tham gia", "en": "Contributors"},
    "subject": {"vi": "Chủ đề", "en": "Subjects"},
    "description": {"vi": "Mô tả", "en": "Description"},
    "publisher": {"vi": "Đơn vị xuất bản", "en": "Publisher"},
    "date": {"vi": "Ngày", "en": "Date"},
    "created": {"vi": "Ngày ghi", "en": "Recorded"},
    "type": {"vi": "Loại", "en": "Type"},
    "format": {"vi": "Định dạng", "en": "Format"},
    "identifier": {"vi": "Định danh", "en": "Identifier"},
    "source": {"vi": "Nguồn", "en": "Source"},
    "language": {"vi": "Ngôn ngữ", "en": "Language"},
    "isPartOf": {"vi": "Thuộc sưu tập", "en": "Part of"},
    "spatial": {"vi": "Địa điểm", "en": "Place"},
    "temporal": {"vi": "Thời gian tổ chức", "en": "When it is held"},
    "rights": {"vi": "Quyền", "en": "Rights"},
    "license": {"vi": "Giấy phép", "en": "Licence"},
    "rightsHolder": {"vi": "Chủ sở hữu quyền", "en": "Rights holder"},
    "audience": {"vi": "Đối tượng", "en": "Audience"},
}
#: Terms left out of ``metadata``: the title is the label, the abstract the summary; the others are
#: either the file URLs (hasPart, given as canvases) or catalogue housekeeping.
SKIPPED_TERMS = frozenset({"title", "abstract", "hasPart", "modified", "provenance"})
#: Label of the attribution (requiredStatement) every viewer must show.
REQUIRED_LABEL = {"vi": "Ghi công", "en": "Attribution"}


@dataclass(frozen=True)
class Rendition:
    """A file that shows or plays a medium: its URL, MIME type and (when known) size and duration."""

    url: str
    format: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None


@dataclass(frozen=True)
class TextTrack:
    """A WebVTT captions, subtitles or transcript track of a recording."""

    url: str
    lang: str
    kind: str
    label: str = ""


@dataclass(frozen=True)
class CanvasSource:
    """What a canvas needs to know about one media file the viewer may see."""

    identifier: str
    kind: str
    label: list[LangString] = field(default_factory=list)
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    #: Base URI of the IIIF Image API 3 service of an image (``.../iiif/3/<id>``).
    image_service: str | None = None
    #: Files of a recording (the preferred first); for an image without a service, its file.
    renditions: tuple[Rendition, ...] = ()
    #: A still to show for the canvas (a video's poster); images use their service instead.
    poster: Rendition | None = None
    tracks: tuple[TextTrack, ...] = ()
    is_illustration: bool = False


@dataclass(frozen=True)
class Link:
    """A linked web resource: a homepage, a seeAlso description, a collection a manifest is part of."""

    url: str
    type: str
    label: list[LangString] = field(default_factory=list)
    format: str | None = None
    profile: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Provider:
    """The institution that publishes the manifests."""

    url: str
    label: list[LangString]
    homepage: str | None = None


@dataclass(frozen=True)
class ManifestLinks:
    """The URLs the application has built for one record's manifest."""

    base: str
    homepages: Sequence[Link] = ()
    see_also: Sequence[Link] = ()
    part_of: Sequence[Link] = ()
    provider: Provider | None = None

    @property
    def manifest_id(self) -> str:
        """The manifest's own URI."""
        return f"{self.base}/manifest.json"


# --- small pieces ---------------------------------------------------------------------------------


def language_map(values: Iterable[LangString | str]) -> dict[str, list[str]]:
    """A IIIF language map: values grouped by BCP 47 tag, ``none`` for values without a language."""
    out: dict[str, list[str]] = {}
    for value in values:
        if isinstance(value, str):
            tag, text = "none", value
        else:
            tag, text = value.lang or "none", value.value
        if text:
            out.setdefault(tag, []).append(text)
    return out


def _mapping_values(mapping: dict[str, str]) -> list[LangString]:
    return [LangString(text, tag) for tag, text in mapping.items()]


def iiif_rights(uri: str | None) -> str | None:
    """The rights URI in the form IIIF accepts (Creative Commons or RightsStatements.org over http),
    or None when the licence is another one (it is then only stated in ``metadata``)."""
    if not uri:
        return None
    for host in (
        "creativecommons.org/licenses/",
        "creativecommons.org/publicdomain/",
        "rightsstatements.org/vocab/",
    ):
        for scheme in ("https://", "http://"):
            if uri.startswith(scheme + host):
                return "http://" + uri[len(scheme) :]
    return None


def nav_date(record: RecordDescription) -> str | None:
    """The date a viewer orders the record by: the event's (held) date, else when it was recorded."""
    held = [d for d in record.dates if d.kind == "held"] or list(record.dates)
    if not held:
        return None
    first = min(held, key=lambda d: d.start)
    return dt.datetime.combine(first.start, dt.time(0, 0)).isoformat() + "Z"


def thumbnail_size(width: int, height: int, box: int = THUMBNAIL_SIZE) -> tuple[int, int]:
    """The size of a picture scaled to fit a square *box* (never enlarged)."""
    if max(width, height) <= box:
        return width, height
    if width >= height:
        return box, max(1, round(height * box / width))
    return max(1, round(width * box / height)), box


def image_service(url: str) -> dict:
    """A IIIF Image API 3 service reference."""
    return {"id": url, "type": IMAGE_SERVICE_TYPE, "profile": IMAGE_PROFILE}


def image_thumbnail(service: str, width: int, height: int) -> dict:
    """A thumbnail image served by a IIIF image service, at most THUMBNAIL_SIZE on its longest side."""
    w, h = thumbnail_size(width, height)
    return {
        "id": f"{service}/full/{w},{h}/0/default.jpg",
        "type": "Image",
        "format": "image/jpeg",
        "width": w,
        "height": h,
        "service": [image_service(service)],
    }


def _link(link: Link) -> dict:
    node: dict = {"id": link.url, "type": link.type}
    if link.label:
        node["label"] = language_map(link.label)
    if link.format:
        node["format"] = link.format
    if link.profile:
        node["profile"] = link.profile
    if link.language:
        node["language"] = [link.language]
    return node


def provider_node(provider: Provider) -> dict:
    """The ``provider`` entry of an institution."""
    node: dict = {"id": provider.url, "type": "Agent", "label": language_map(provider.label)}
    if provider.homepage:
        node["homepage"] = [
            {
                "id": provider.homepage,
                "type": "Text",
                "label": language_map(provider.label),
                "format": "text/html",
            }
        ]
    return node


# --- metadata -------------------------------------------------------------------------------------


def manifest_metadata(record: RecordDescription) -> list[dict]:
    """The ``metadata`` pairs of a manifest: the Dublin Core crosswalk, one pair per term, in the
    crosswalk's order, every value in its own language (``none`` for names, codes and URIs)."""
    grouped: dict[str, list[LangString | str]] = {}
    for statement in crosswalk(record):
        if statement.term in SKIPPED_TERMS or statement.term not in TERM_LABELS:
            continue
        values = grouped.setdefault(statement.term, [])
        values.append(LangString(statement.value, statement.lang) if statement.lang else statement.value)
    pairs = []
    for term, values in grouped.items():
        value = language_map(dict.fromkeys(values))  # the same value twice is shown once
        if value:
            pairs.append({"label": language_map(_mapping_values(TERM_LABELS[term])), "value": value})
    return pairs


def required_statement(record: RecordDescription) -> dict | None:
    """The attribution a viewer must show: the rights holder and the consent note, else the publisher."""
    values: list[LangString | str] = []
    if record.rights_holder:
        values.append(record.rights_holder)
    values += record.consent_note
    if not values and record.publisher:
        values.append(record.publisher)
    if not values:
        return None
    return {"label": language_map(_mapping_values(REQUIRED_LABEL)), "value": language_map(values)}


# --- canvases -------------------------------------------------------------------------------------


def canvas_id(links: ManifestLinks, source: CanvasSource) -> str:
    """The URI of the canvas of one media file."""
    return f"{links.base}/canvas/{source.identifier}"


def _body(source: CanvasSource) -> dict | None:
    kind = RESOURCE_TYPES[source.kind]
    if source.kind == "image":
        if source.image_service:
            return {
                "id": f"{source.image_service}/full/max/0/default.jpg",
                "type": kind,
                "format": "image/jpeg",
                "width": source.width,
                "height": source.height,
                "service": [image_service(source.image_service)],
            }
        if not source.renditions:
            return None
    items = []
    for rendition in source.renditions:
        node: dict = {"id": rendition.url, "type": kind, "format": rendition.format}
        width, height = rendition.width or source.width, rendition.height or source.height
        if source.kind != "audio" and width and height:
            node["width"], node["height"] = width, height
        duration = rendition.duration or source.duration
        if source.kind != "image" and duration:
            node["duration"] = duration
        items.append(node)
    if not items:
        return None
    return items[0] if len(items) == 1 else {"type": "Choice", "items": items}


def build_canvas(source: CanvasSource, links: ManifestLinks, fallback_label: list[LangString]) -> dict | None:
    """The canvas of one media file, painted with its image (and image service) or its recording
    (a Choice of renditions), captions and transcripts as supplementing annotations; None when the
    file has nothing that can be shown (no rendition yet, or an audio or video without a duration)."""
    if source.kind in ("audio", "video") and not source.duration:
        return None
    if source.kind in ("image", "video") and not (source.width and source.height):
        return None
    body = _body(source)
    if body is None:
        return None
    cid = canvas_id(links, source)
    canvas: dict = {
        "id": cid,
        "type": "Canvas",
        "label": language_map(source.label or fallback_label) or {"none": [source.identifier]},
    }
    if source.kind in ("image", "video"):
        canvas["width"], canvas["height"] = source.width, source.height
    if source.kind in ("audio", "video"):
        canvas["duration"] = source.duration
    if source.kind == "image" and source.image_service:
        canvas["thumbnail"] = [image_thumbnail(source.image_service, source.width, source.height)]
    elif source.poster is not None:
        poster = {"id": source.poster.url, "type": "Image", "format": source.poster.format}
        if source.poster.width and source.poster.height:
            poster["width"], poster["height"] = source.poster.width, source.poster.height
        canvas["thumbnail"] = [poster]
    canvas["items"] = [
        {
            "id": f"{cid}/page/painting",
            "type": "AnnotationPage",
            "items": [
                {
                    "id": f"{cid}/annotation/painting",
                    "type": "Annotation",
                    "motivation": "painting",
                    "body": body,
                    "target": cid,
                }
            ],
        }
    ]
    if source.tracks:
        canvas["annotations"] = [
            {
                "id": f"{cid}/page/supplementing",
                "type": "AnnotationPage",
                "items": [_track_annotation(cid, track) for track in source.tracks],
            }
        ]
    return canvas


def _track_annotation(cid: str, track: TextTrack) -> dict:
    label = track.label or TRACK_KINDS.get(track.kind, TRACK_KINDS["captions"]).get("en", track.kind)
    return {
        "id": f"{cid}/annotation/{track.kind}-{track.lang}",
        "type": "Annotation",
        "motivation": "supplementing",
        "body": {
            "id": track.url,
            "type": "Text",
            "format": "text/vtt",
            "language": track.lang,
            "label": {track.lang: [label]},
        },
        "target": cid,
    }


# --- manifest -------------------------------------------------------------------------------------


def build_manifest(record: RecordDescription, sources: Sequence[CanvasSource], links: ManifestLinks) -> dict:
    """The IIIF Presentation 3.0 Manifest of a record: one canvas per media file given (the caller gives
    only the files this viewer may see), multilingual label, summary and Dublin Core metadata, rights,
    attribution, provider, homepage, seeAlso, partOf and navDate."""
    title = record.values("title") or [LangString(record.identifier, "")]
    manifest: dict = {
        "@context": CONTEXT,
        "id": links.manifest_id,
        "type": "Manifest",
        "label": language_map(title),
    }
    summary = record.values("summary") or record.values("description")
    if summary:
        manifest["summary"] = language_map(summary)
    metadata = manifest_metadata(record)
    if metadata:
        manifest["metadata"] = metadata
    rights = iiif_rights(record.rights_uri)
    if rights:
        manifest["rights"] = rights
    statement = required_statement(record)
    if statement:
        manifest["requiredStatement"] = statement
    if links.provider is not None:
        manifest["provider"] = [provider_node(links.provider)]
    if links.homepages:
        manifest["homepage"] = [_link(link) for link in links.homepages]
    if links.see_also:
        manifest["seeAlso"] = [_link(link) for link in links.see_also]
    if links.part_of:
        manifest["partOf"] = [_link(link) for link in links.part_of]
    date = nav_date(record)
    if date:
        manifest["navDate"] = date
    manifest["behavior"] = ["individuals"]
    canvases = [c for c in (build_canvas(s, links, title) for s in sources) if c is not None]
    stills = [c["thumbnail"][0] for c in canvases if c.get("thumbnail")]
    # The record's first picture if it has one (its thumbnail has an image service), else a poster.
    thumbnail = next((t for t in stills if "service" in t), stills[0] if stills else None)
    if thumbnail is not None:
        manifest["thumbnail"] = [thumbnail]
        # A recording with no still of its own is shown with the record's first picture (otherwise
        # viewers try the sound file itself as the thumbnail image).
        for canvas in canvases:
            canvas.setdefault("thumbnail", [thumbnail])
    manifest["items"] = canvases
    return manifest


def find_resource(document: dict, uri: str) -> dict | None:
    """The canvas, annotation page or annotation of a manifest whose ``id`` is *uri* (None if absent)."""
    for canvas in document.get("items", ()):
        if canvas.get("id") == uri:
            return canvas
        for key in ("items", "annotations"):
            for page in canvas.get(key, ()):
                if page.get("id") == uri:
                    return page
                for annotation in page.get("items", ()):
                    if annotation.get("id") == uri:
                        return annotation
    return None


def with_context(node: dict) -> dict:
    """A resource served on its own, with the Presentation 3 context first."""
    return {"@context": CONTEXT, **node}


# --- collections ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestEntry:
    """A manifest listed in a collection."""

    url: str
    label: list[LangString]
    thumbnail: str | None = None
    nav_date: str | None = None


@dataclass(frozen=True)
class CollectionEntry:
    """A sub-collection listed in a collection."""

    url: str
    label: list[LangString]
    summary: list[LangString] = field(default_factory=list)


def build_collection(
    url: str,
    label: list[LangString],
    items: Sequence[ManifestEntry | CollectionEntry],
    *,
    summary: Sequence[LangString] = (),
    part_of: Sequence[Link] = (),
    homepage: Sequence[Link] = (),
    provider: Provider | None = None,
    behavior: Sequence[str] = (),
) -> dict:
    """A IIIF Presentation 3.0 Collection listing manifests and sub-collections by reference."""
    collection: dict = {
        "@context": CONTEXT,
        "id": url,
        "type": "Collection",
        "label": language_map(label) or {"none": [url]},
    }
    if summary:
        collection["summary"] = language_map(summary)
    if provider is not None:
        collection["provider"] = [provider_node(provider)]
    if homepage:
        collection["homepage"] = [_link(link) for link in homepage]
    if part_of:
        collection["partOf"] = [_link(link) for link in part_of]
    if behavior:
        collection["behavior"] = list(behavior)
    entries = []
    for item in items:
        if isinstance(item, CollectionEntry):
            node: dict = {
                "id": item.url,
                "type": "Collection",
                "label": language_map(item.label) or {"none": [item.url]},
            }
            if item.summary:
                node["summary"] = language_map(item.summary)
        else:
            node = {
                "id": item.url,
                "type": "Manifest",
                "label": language_map(item.label) or {"none": [item.url]},
            }
            if item.thumbnail:
                node["thumbnail"] = [{"id": item.thumbnail, "type": "Image", "format": "image/jpeg"}]
            if item.nav_date:
                node["navDate"] = item.nav_date
        entries.append(node)
    collection["items"] = entries
    return collection


def page_count(total: int, per_page: int) -> int:
    """How many pages a collection of *total* manifests is split into (at least one)."""
    return max(1, -(-total // per_page))


def page_label(number: int, pages: int) -> list[LangString]:
    """The label of one page of a split collection, in Vietnamese and English."""
    return [LangString(f"Trang {number}/{pages}", "vi"), LangString(f"Page {number} of {pages}", "en")]
