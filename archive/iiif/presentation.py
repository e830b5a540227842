"""IIIF Presentation API 3.0: a Manifest per record, its canvases and annotations on their own, and
Collections (top level, per ethnic group, province, category, collection and exhibit).

Every answer is built for the person asking: a manifest holds only the media files they may see
(archive.core.access decides), and a collection only the records they may see. Manifests are kept in a
small in-memory LRU cache keyed by the record's version, the facts of the visible files and the host,
so an edit of the record or of a file (access, derivatives, captions) makes a new entry; answers carry
an ETag and 304 when it matches.

Large collections are split the way Presentation 3 allows (it has no paging of its own): when a
collection has more than IIIF_COLLECTION_PAGE_SIZE manifests, its document lists sub-Collections, one
per page (``<url>?page=N``), and each page lists its manifests and is ``partOf`` the whole.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

from flask import Blueprint, Response, current_app, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from archive.browse import services as browse
from archive.core.access import (
    PUBLIC,
    MediaAccessFacts,
    can_view_media,
    can_view_media_facts,
    can_view_record,
    denial_status,
    media_fact_columns,
    record_key,
    restriction_notice,
)
from archive.core.extensions import db
from archive.core.i18n import language_neutral
from archive.exhibits import services as exhibits
from archive.media.models import MediaCaption, MediaDerivative, MediaFile
from archive.records import services as records
from archive.records.models import HeritageRecord
from metadata.categories import CATEGORIES
from metadata.iiif_presentation import (
    CanvasSource,
    CollectionEntry,
    Link,
    ManifestEntry,
    ManifestLinks,
    Provider,
    Rendition,
    TextTrack,
    build_collection,
    build_manifest,
    find_resource,
    page_count,
    page_label,
    thumbnail_size,
    with_context,
)
from metadata.languages import LangString, from_mapping

logger = logging.getLogger(__name__)
bp = Blueprint("presentation", __name__, url_prefix="/iiif")

MIMETYPE = 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"'
OAI_DC_PROFILE = "http://www.openarchives.org/OAI/2.0/oai_dc/"
#: Manifests per page of a split collection, unless IIIF_COLLECTION_PAGE_SIZE says otherwise.
DEFAULT_PAGE_SIZE = 100
#: Manifests kept in memory, unless IIIF_MANIFEST_CACHE_ENTRIES says otherwise.
DEFAULT_CACHE_ENTRIES = 256
#: Seconds shared caches may keep a document everyone sees the same (short: records get edited).
PUBLIC_MAX_AGE = 300
#: Renditions painted on a recording's canvas, the preferred first (archive.records.page order "high").
AV_RENDITIONS = {"audio": ("web", "low"), "video": ("720", "360")}


class ManifestCache:
    """A bounded, thread-safe LRU of serialised manifests: key -> (body, etag)."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bytes, str] | None:
        """The cached entry for *key* (refreshing its age), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: tuple[bytes, str], limit: int) -> None:
        """Keep an entry, dropping the least recently used past *limit*."""
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > limit:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


manifests = ManifestCache()


# --- answers --------------------------------------------------------------------------------------


def _error(status: int, message: str) -> Response:
    response = Response(
        json.dumps({"error": message}, ensure_ascii=False), status=status, mimetype="application/json"
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "no-store"
    return response


class Refused(Exception):
    """A request that gets an error answer instead of a document."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


@bp.errorhandler(Refused)
def _refused(exc: Refused) -> Response:
    return exc.response


def _document(body: bytes, etag: str, public: bool) -> Response:
    """A JSON-LD answer with its ETag (304 when it matches) and the cache rule for its audience."""
    response = Response(body, mimetype=MIMETYPE)
    response.set_etag(etag)
    response.vary.add("Cookie")
    if public:
        response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
        response.headers["Access-Control-Allow-Origin"] = "*"
    else:
        response.headers["Cache-Control"] = "private, no-cache"
    return response.make_conditional(request)


def _serialise(document: dict) -> tuple[bytes, str]:
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return body, hashlib.sha256(body).hexdigest()[:32]


# --- records --------------------------------------------------------------------------------------


def _load_record(public_id: str) -> HeritageRecord:
    """The record if this person may see it (with what the access rule reads, nothing more); otherwise
    the record page's answer: 410 withdrawn, 401/403 when the community wants the restriction said,
    else 404 so that nobody learns that a hidden record exists."""
    record = db.session.scalar(
        select(HeritageRecord)
        .where(HeritageRecord.public_id == public_id)
        .options(selectinload(HeritageRecord.consents), selectinload(HeritageRecord.labels))
    )
    if record is None:
        raise Refused(_error(404, _("There is no record with this identifier.")))
    if can_view_record(record):
        return record
    if record.status == "withdrawn":
        raise Refused(_error(410, _("This record has been withdrawn.")))
    if restriction_notice(record) is None:
        raise Refused(_error(404, _("There is no record with this identifier.")))
    raise Refused(_error(denial_status(), _("This record is restricted by its community.")))


@dataclasses.dataclass(frozen=True)
class MediaRow:
    """A media file of the record, read as columns: enough to decide access and to key the cache."""

    facts: MediaAccessFacts
    id: int
    public_id: str
    state: str
    fingerprint: tuple
    visible: bool


def _media_rows(record: HeritageRecord) -> list[MediaRow]:
    """The record's media files, in order, with whether this person may see each, read without loading
    ORM objects (a 500-file record is keyed and answered from the cache in a few queries)."""
    rows = db.session.execute(
        select(
            *media_fact_columns(),
            MediaFile.id,
            MediaFile.public_id,
            MediaFile.state,
            MediaFile.width,
            MediaFile.height,
            MediaFile.duration_seconds,
            MediaFile.processed_at,
            MediaFile.caption,
        )
        .join(HeritageRecord, HeritageRecord.id == MediaFile.record_id)
        .where(MediaFile.record_id == record.id)
        .order_by(MediaFile.position, MediaFile.id)
    ).all()
    ids = [row.id for row in rows]
    parts: dict[int, list] = {media_id: [] for media_id in ids}
    if ids:
        for media_id, name, sha in db.session.execute(
            select(MediaDerivative.media_id, MediaDerivative.name, MediaDerivative.sha256)
            .where(MediaDerivative.media_id.in_(ids))
            .order_by(MediaDerivative.media_id, MediaDerivative.name)
        ):
            parts[media_id].append((name, sha))
        for media_id, kind, lang, label, sha in db.session.execute(
            select(MediaCaption.media_id, MediaCaption.kind, MediaCaption.lang, MediaCaption.label,
                   MediaCaption.sha256)
            .where(MediaCaption.media_id.in_(ids))
            .order_by(MediaCaption.media_id, MediaCaption.lang, MediaCaption.kind)
        ):  # fmt: skip
            parts[media_id].append((kind, lang, label, sha))
    out = []
    for row in rows:
        facts = MediaAccessFacts(*row[:8])
        visible = row.state == "ready" and can_view_media_facts(
            facts, functools.partial(db.session.get, MediaFile, row.id)
        )
        fingerprint = (
            row.public_id,
            row.state,
            facts.access_level,
            facts.community_id,
            row.width,
            row.height,
            row.duration_seconds,
            str(row.processed_at),
            row.caption,
            parts[row.id],
        )
        out.append(MediaRow(facts, row.id, row.public_id, row.state, fingerprint, visible))
    return out


def _url(endpoint: str, **values) -> str:
    return url_for(endpoint, _external=True, **values)


def canvas_source(media: MediaFile) -> CanvasSource | None:
    """The facts of one media file a canvas needs, with the URLs of its service, renditions and tracks."""
    if media.kind == "image":
        if media.derivative("pyramid") is None:
            return None
        return CanvasSource(
            identifier=media.public_id,
            kind="image",
            label=media.caption_values,
            width=media.width,
            height=media.height,
            image_service=_url("iiif.base", identifier=media.public_id),
            is_illustration=media.is_illustration,
        )
    renditions = []
    for name in AV_RENDITIONS[media.kind]:
        derivative = media.derivative(name)
        if derivative is not None:
            renditions.append(
                Rendition(
                    _url("media.rendition", public_id=media.public_id, name=name),
                    derivative.mime_type.split(";")[0].strip(),
                    derivative.width,
                    derivative.height,
                    media.duration_seconds,
                )
            )
    poster = media.derivative("poster")
    tracks = tuple(
        TextTrack(
            _url("media.caption_file", public_id=media.public_id, kind=track.kind, lang=track.lang),
            track.lang,
            track.kind,
            track.label,
        )
        for track in media.captions
    )
    return CanvasSource(
        identifier=media.public_id,
        kind=media.kind,
        label=media.caption_values,
        width=media.width or (poster.width if poster else None),
        height=media.height or (poster.height if poster else None),
        duration=media.duration_seconds,
        renditions=tuple(renditions),
        poster=Rendition(
            _url("media.rendition", public_id=media.public_id, name="poster"),
            poster.mime_type,
            poster.width,
            poster.height,
        )
        if poster is not None
        else None,
        tracks=tracks,
        is_illustration=media.is_illustration,
    )


def _provider() -> Provider:
    publisher = current_app.config["PUBLISHER"]
    home = _url("records.home", _lang="vi")
    return Provider(url=home, label=[LangString(publisher, "vi")], homepage=home)


def _labels(record: HeritageRecord) -> list[LangString]:
    return record.values("title") or [LangString(record.public_id, "")]


def manifest_links(record: HeritageRecord) -> ManifestLinks:
    """The URLs around a record's manifest: its pages in each language, its metadata downloads, and the
    collections it belongs to."""
    title = _labels(record)
    homepages = [
        Link(
            _url("records.detail", public_id=record.public_id, slug=record.slug, _lang=lang),
            "Text",
            title,
            "text/html",
            language=lang,
        )
        for lang in ("vi", "en")
    ]
    see_also = [
        Link(_url("records.dublin_core_xml", public_id=record.public_id), "Dataset",
             [LangString("Dublin Core (oai_dc)", "none")], "application/xml", OAI_DC_PROFILE),
        Link(_url("records.json_ld", public_id=record.public_id), "Dataset",
             [LangString("JSON-LD (DCMI terms, schema.org)", "none")], "application/ld+json",
             "https://schema.org/"),
    ]  # fmt: skip
    part_of = [
        Link(_url("presentation.collection_collection", slug=c.slug), "Collection", c.title_values)
        for c in record.collections
    ]
    part_of += [
        Link(_url("presentation.group_collection", slug=g.slug), "Collection", g.labels)
        for g in record.ethnic_groups
    ]
    category = CATEGORIES.get(record.category)
    if category is not None:
        part_of.append(
            Link(
                _url("presentation.category_collection", code=category.code),
                "Collection",
                category.label_values,
            )
        )
    return ManifestLinks(
        base=_url("presentation.manifest", public_id=record.public_id).rsplit("/", 1)[0],
        homepages=homepages,
        see_also=see_also,
        part_of=part_of,
        provider=_provider(),
    )


def _fingerprint(record: HeritageRecord, visible: Sequence[MediaRow]) -> str:
    """What a record's manifest depends on: the record's version, the visible files' facts, the host."""
    parts: list = [
        request.host_url,
        record.public_id,
        record.version_id,
        str(record.updated_at),
        current_app.config["PUBLISHER"],
        [row.fingerprint for row in visible],
    ]
    return hashlib.sha256(json.dumps(parts, default=str, ensure_ascii=False).encode("utf-8")).hexdigest()


def _publicly_cacheable(record: HeritageRecord, rows: Sequence[MediaRow]) -> bool:
    """Everyone gets the same manifest, and will tomorrow: a public record, no community protocol, and
    every processed file public (stricter than access.is_cacheable_publicly: read from columns)."""
    if record.status != "published" or record_key(record) != PUBLIC:
        return False
    return all(row.facts.simply_public for row in rows if row.state == "ready")


def _full_record(record: HeritageRecord) -> HeritageRecord:
    """The record with everything its description and canvases read, in a fixed number of queries."""
    stmt = records._eager(select(HeritageRecord).where(HeritageRecord.id == record.id)).options(
        selectinload(HeritageRecord.media).selectinload(MediaFile.derivatives),
        selectinload(HeritageRecord.media).selectinload(MediaFile.captions),
    )
    return db.session.scalar(stmt.execution_options(populate_existing=True))


def record_manifest(record: HeritageRecord, rows: Sequence[MediaRow]) -> tuple[bytes, str, dict | None]:
    """The serialised manifest of a record for this person and its ETag, from the cache when the record
    and its visible files are unchanged (the dict is returned only when it was built now)."""
    visible = [row for row in rows if row.visible]
    key = _fingerprint(record, visible)
    cached = manifests.get(key)
    if cached is not None:
        return cached[0], cached[1], None
    record = _full_record(record)
    ids = {row.public_id for row in visible}
    media = [m for m in record.media if m.public_id in ids]
    description = records.describe(record)
    description = dataclasses.replace(
        description, media=[m for m in description.media if m.identifier in ids]
    )
    sources = [s for s in (canvas_source(m) for m in media) if s is not None]
    document = build_manifest(description, sources, manifest_links(record))
    body, etag = _serialise(document)
    limit = current_app.config.get("IIIF_MANIFEST_CACHE_ENTRIES", DEFAULT_CACHE_ENTRIES)
    manifests.put(key, (body, etag), limit)
    return body, etag, document


@bp.get("/records/<public_id>/manifest.json")
@language_neutral
def manifest(public_id: str):
    """The IIIF Presentation 3.0 Manifest of a record, holding only the files this person may see."""
    record = _load_record(public_id)
    rows = _media_rows(record)
    body, etag, _document_built = record_manifest(record, rows)
    return _document(body, etag, _publicly_cacheable(record, rows))


@bp.get("/records/<public_id>/canvas/<media_id>")
@bp.get("/records/<public_id>/canvas/<media_id>/<kind>/<name>")
@language_neutral
def canvas(public_id: str, media_id: str, kind: str | None = None, name: str | None = None):
    """A canvas, annotation page or annotation of a record's manifest, served at its own id."""
    record = _load_record(public_id)
    rows = _media_rows(record)
    row = next((r for r in rows if r.public_id == media_id), None)
    if row is None:
        raise Refused(_error(404, _("This record has no such media file.")))
    if not row.visible:
        if row.state != "ready":
            raise Refused(_error(404, _("This media file is not ready yet.")))
        raise Refused(_error(denial_status(), _("You may not see this media file.")))
    body, _etag, document = record_manifest(record, rows)
    if document is None:
        document = json.loads(body)
    node = find_resource(document, request.base_url)
    if node is None:
        raise Refused(_error(404, _("This manifest has no such resource.")))
    node_body, node_etag = _serialise(with_context(node))
    return _document(node_body, node_etag, _publicly_cacheable(record, rows))


# --- collections ----------------------------------------------------------------------------------


def _page_size() -> int:
    return int(current_app.config.get("IIIF_COLLECTION_PAGE_SIZE", DEFAULT_PAGE_SIZE))


def _page_argument() -> int | None:
    raw = request.args.get("page")
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise Refused(_error(400, _("The page number must be a whole number from 1.")))
    return int(raw)


def _first_image(record: HeritageRecord) -> str | None:
    for media in record.media:
        if (
            media.kind == "image"
            and media.state == "ready"
            and media.width
            and media.height
            and can_view_media(media)
        ):
            w, h = thumbnail_size(media.width, media.height)
            return f"{_url('iiif.base', identifier=media.public_id)}/full/{w},{h}/0/default.jpg"
    return None


def _manifest_entries(rows: Sequence[HeritageRecord]) -> list[ManifestEntry]:
    return [
        ManifestEntry(_url("presentation.manifest", public_id=r.public_id), _labels(r), _first_image(r))
        for r in rows
    ]


def _records_of(stmt) -> Callable[[int, int], tuple[list[HeritageRecord], int]]:
    """A pager over a select of visible records, in a stable order (so pages do not shift)."""

    def pager(offset: int, limit: int) -> tuple[list[HeritageRecord], int]:
        total = browse.count(stmt)
        rows = db.session.scalars(
            stmt.options(
                selectinload(HeritageRecord.texts),
                selectinload(HeritageRecord.media),
                selectinload(HeritageRecord.consents),
                selectinload(HeritageRecord.labels),
            )
            .order_by(HeritageRecord.id)
            .limit(limit)
            .offset(offset)
        )
        return list(rows), total

    return pager


def _visitor() -> bool:
    return not getattr(current_user, "is_authenticated", False)


def _collection_answer(
    label: list[LangString],
    fetch: Callable[[int, int], tuple[list, int]],
    *,
    summary: Sequence[LangString] = (),
    homepage_endpoint: tuple[str, dict] | None = None,
) -> Response:
    """A collection of manifests (or of sub-collections, for the top level), split into pages when
    large: the whole lists its pages; ``?page=N`` gives one page, part of the whole."""
    url = request.base_url
    page = _page_argument()
    size = _page_size()
    homepage = []
    if homepage_endpoint is not None:
        endpoint, values = homepage_endpoint
        homepage = [
            Link(_url(endpoint, _lang=lang, **values), "Text", label, "text/html", language=lang)
            for lang in ("vi", "en")
        ]
    common = {"summary": summary, "provider": _provider()}
    if page is None:
        items, total = fetch(0, size)
        pages = page_count(total, size)
        if pages > 1:
            entries = [CollectionEntry(f"{url}?page={n}", page_label(n, pages)) for n in range(1, pages + 1)]
            document = build_collection(url, label, entries, homepage=homepage, **common)
        else:
            document = build_collection(url, label, items, homepage=homepage, **common)
    else:
        items, total = fetch((page - 1) * size, size)
        pages = page_count(total, size)
        if page > pages:
            raise Refused(_error(404, _("There is no such page.")))
        whole = Link(url, "Collection", label)
        document = build_collection(
            f"{url}?page={page}",
            [*label, *page_label(page, pages)] if pages > 1 else label,
            items,
            part_of=[whole],
            **common,
        )
    body, etag = _serialise(document)
    return _document(body, etag, public=_visitor())


def _manifest_fetch(stmt) -> Callable[[int, int], tuple[list[ManifestEntry], int]]:
    pager = _records_of(stmt)

    def fetch(offset: int, limit: int) -> tuple[list[ManifestEntry], int]:
        rows, total = pager(offset, limit)
        return _manifest_entries(rows), total

    return fetch


def _list_fetch(entries: Sequence) -> Callable[[int, int], tuple[list, int]]:
    return lambda offset, limit: (list(entries[offset : offset + limit]), len(entries))


@bp.get("/collections/top.json")
@language_neutral
def top_collection():
    """The top-level Collection: every ethnic group, province, category, collection and exhibit that has
    a record this person may see."""
    visible = browse.visible_records()
    entries: list[CollectionEntry] = []
    group_counts = browse.counts_by_ethnic_group(visible)
    for group in browse.ethnic_groups("vi"):
        if group_counts.get(group.id):
            entries.append(
                CollectionEntry(_url("presentation.group_collection", slug=group.slug), group.labels)
            )
    for system in ("2025", "pre2025"):
        counts = browse.counts_by_province(visible, system)
        for province in browse.provinces(system):
            if counts.get(province.id):
                entries.append(
                    CollectionEntry(
                        _url("presentation.place_collection", code=province.code), _place_label(province)
                    )
                )
    category_counts = browse.counts_by_category(visible)
    for code, category in CATEGORIES.items():
        if category_counts.get(code):
            entries.append(
                CollectionEntry(_url("presentation.category_collection", code=code), category.label_values)
            )
    collection_counts = browse.counts_by_collection(visible)
    for collection in browse.collections():
        if collection_counts.get(collection.id):
            entries.append(
                CollectionEntry(
                    _url("presentation.collection_collection", slug=collection.slug), collection.title_values
                )
            )
    for exhibit in exhibits.published_exhibits():
        if _exhibit_records(exhibit):
            entries.append(
                CollectionEntry(
                    _url("presentation.exhibit_collection", slug=exhibit.slug), exhibit.title_values
                )
            )
    label = [
        LangString(current_app.config["PUBLISHER"], "vi"),
        LangString("Heritage archive: all collections", "en"),
    ]
    return _collection_answer(label, _list_fetch(entries), homepage_endpoint=("browse.index", {}))


def _place_label(province) -> list[LangString]:
    if province.system == "pre2025":
        return [
            LangString(f"{province.name} (trước 2025)", "vi"),
            LangString(f"{province.name} (before 2025)", "en"),
        ]
    return [LangString(province.name, "vi")]


@bp.get("/collections/groups/<slug>.json")
@language_neutral
def group_collection(slug: str):
    """The records about one ethnic group."""
    group = browse.get_ethnic_group(slug)
    if group is None:
        raise Refused(_error(404, _("There is no ethnic group with this name.")))
    stmt = browse.records_about_group(browse.visible_records(), group)
    return _collection_answer(
        group.labels,
        _manifest_fetch(stmt),
        summary=from_mapping(group.description or {}),
        homepage_endpoint=("browse.group", {"slug": slug}),
    )


@bp.get("/collections/places/<code>.json")
@language_neutral
def place_collection(code: str):
    """The records that lie in one province (of today, or before 2025)."""
    province = browse.get_province(code)
    if province is None:
        raise Refused(_error(404, _("There is no province with this code.")))
    stmt = browse.records_in_province(browse.visible_records(), province)
    return _collection_answer(
        _place_label(province), _manifest_fetch(stmt), homepage_endpoint=("browse.place", {"code": code})
    )


@bp.get("/collections/categories/<code>.json")
@language_neutral
def category_collection(code: str):
    """The records of one category."""
    category = CATEGORIES.get(code)
    if category is None:
        raise Refused(_error(404, _("There is no such category.")))
    stmt = browse.records_in_category(browse.visible_records(), code)
    return _collection_answer(
        category.label_values, _manifest_fetch(stmt), homepage_endpoint=("browse.category", {"code": code})
    )


@bp.get("/collections/collections/<slug>.json")
@language_neutral
def collection_collection(slug: str):
    """The records of one curated collection."""
    collection = browse.get_collection(slug)
    if collection is None:
        raise Refused(_error(404, _("There is no collection with this name.")))
    stmt = browse.records_in_collection(browse.visible_records(), collection)
    return _collection_answer(
        collection.title_values,
        _manifest_fetch(stmt),
        summary=collection.description_values,
        homepage_endpoint=("browse.collection", {"slug": slug}),
    )


def _exhibit_records(exhibit) -> list[HeritageRecord]:
    """The records an exhibit shows this person, in the exhibit's order, each once: the featured records
    and the records of the pictures and recordings it shows."""
    user = current_user._get_current_object() if not _visitor() else None
    seen: dict[int, HeritageRecord] = {}
    for shown in exhibits.shown_sections(exhibit, user):
        for item in shown.items:
            seen.setdefault(item.record.id, item.record)
        if shown.media is not None and can_view_record(shown.media.record, user):
            seen.setdefault(shown.media.record.id, shown.media.record)
    return list(seen.values())


@bp.get("/collections/exhibits/<slug>.json")
@language_neutral
def exhibit_collection(slug: str):
    """The records an exhibit shows."""
    exhibit = exhibits.get_by_slug(slug)
    user = None if _visitor() else current_user._get_current_object()
    if exhibit is None or not exhibits.can_view_exhibit(exhibit, user):
        raise Refused(_error(404, _("There is no exhibit with this name.")))
    entries = _manifest_entries(_exhibit_records(exhibit))
    summary = [LangString(v.value[:300], v.lang) for v in exhibit.introduction_values]
    return _collection_answer(
        exhibit.title_values,
        _list_fetch(entries),
        summary=summary,
        homepage_endpoint=("exhibits.detail", {"slug": slug})
        if "exhibits.detail" in current_app.view_functions
        else None,
    )
