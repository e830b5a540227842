"""The search service: the one entry point of the application to search (pages, JSON, autocomplete).

It builds index documents from records, parses queries, asks the configured backend
(``SEARCH_BACKEND``: ``whoosh`` by default, ``postgresql`` at scale), and turns the answer into a page
of hits with snippets, facets with labels, and a 'did you mean' suggestion that finds visible records.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from archive.core import access
from archive.core.extensions import db
from archive.core.i18n import current_language
from archive.media.models import MediaFile
from archive.records.models import HeritageRecord
from archive.search.base import (
    ANONYMOUS,
    FACETS,
    SORTS,
    IndexUnavailable,
    ParsedQuery,
    QueryWord,
    SearchBackend,
    SearchDocument,
    SearchRequest,
    Viewer,
)
from archive.search.models import SearchOutbox
from archive.vocab.models import Collection, EthnicGroup, Place, PlaceSuccession
from media.checks import webvtt_cue_text
from metadata.categories import CATEGORIES
from metadata.languages import LangString, language_name, pick, pick_value
from metadata.snippets import snippet, to_html
from metadata.text import fold, words

logger = logging.getLogger(__name__)

#: The longest query accepted, in characters, and the most words used from it.
MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 12
#: Translated names of the facets and of the media types.
FACET_LABELS = {
    "ethnic_group": _l("Ethnic group"),
    "province": _l("Province"),
    "category": _l("Category"),
    "media_type": _l("Media type"),
    "language": _l("Language"),
    "decade": _l("Decade"),
    "collection": _l("Collection"),
}
MEDIA_TYPE_LABELS = {"image": _l("Images"), "audio": _l("Audio"), "video": _l("Video")}


@dataclass(frozen=True)
class Hit:
    """One search result, ready to display in the interface language."""

    public_id: str
    slug: str
    url: str  # path of the record page
    title: str
    title_lang: str
    category: str
    snippet_html: str  # HTML-escaped text with matches wrapped in <mark>
    ethnic_groups: tuple[str, ...]  # labels
    places: tuple[str, ...]  # labels
    media_types: tuple[str, ...]  # "image", "audio", "video"
    thumbnail_url: str | None
    date: str | None  # ISO date of the earliest documented date


@dataclass(frozen=True)
class FacetValue:
    key: str
    label: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Facet:
    name: str  # one of base.FACETS
    label: str  # translated facet name
    values: tuple[FacetValue, ...]


@dataclass
class SearchPage:
    """A page of results, or the reason there are none."""

    query: ParsedQuery
    text: str
    filters: dict[str, tuple[str, ...]]
    sort: str
    page: int
    per_page: int
    total: int = 0
    hits: list[Hit] = field(default_factory=list)
    facets: list[Facet] = field(default_factory=list)
    suggestion: str | None = None  # corrected query text that finds visible records
    unavailable: bool = False  # the index is being rebuilt: show a message, not an error

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class Completion:
    """One autocomplete entry."""

    kind: str  # "title", "ethnic_group", "place"
    label: str
    url: str  # a record page for titles, a filtered search for groups and places
    count: int | None = None


class SearchError(ValueError):
    """A request the search cannot answer: carries a message code for a translated 400."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


# --- the backend ---------------------------------------------------------------------------------


def get_backend(session: Session | None = None) -> SearchBackend:
    """The configured backend; PostgreSQL works in *session* (default: the request's session)."""
    name = current_app.config["SEARCH_BACKEND"]
    if name == "whoosh":
        from archive.search.whoosh_backend import WhooshBackend

        return WhooshBackend(search_dir())
    if name == "postgresql":
        from archive.search.postgres import PostgresBackend

        return PostgresBackend((lambda: session) if session is not None else (lambda: db.session))
    raise RuntimeError(f"unknown SEARCH_BACKEND {name!r}")


def search_dir() -> Path:
    """Where the Whoosh index lives."""
    configured = current_app.config.get("SEARCH_DIR")
    return Path(configured) if configured else Path(current_app.config["DATA_DIR"]) / "search"


# --- queries -------------------------------------------------------------------------------------


def parse_query(text: str, prefix_last: bool = False) -> ParsedQuery:
    """NFC, lower-case words of *text* with their folded forms (duplicates dropped, at most 12)."""
    text = unicodedata.normalize("NFC", text or "").strip()[:MAX_QUERY_LENGTH]
    seen, out = set(), []
    for _start, _end, word in words(text):
        if word not in seen:
            seen.add(word)
            out.append(QueryWord(word, fold(word)))
    return ParsedQuery(text, tuple(out[:MAX_QUERY_WORDS]), prefix_last=prefix_last and bool(out))


def _clean_filters(filters: dict[str, Iterable[str]] | None) -> dict[str, tuple[str, ...]]:
    out = {}
    for facet, values in (filters or {}).items():
        if facet not in FACETS:
            raise SearchError("unknown_facet", facet=facet)
        kept = tuple(dict.fromkeys(v.strip() for v in values if v and v.strip() and len(v) <= 100))
        if len(kept) > 50:
            raise SearchError("too_many_filters")
        if kept:
            out[facet] = kept
    return out


def search_records(
    text: str,
    *,
    filters: dict[str, list[str]] | None = None,
    sort: str = "relevance",
    page: int = 1,
    per_page: int = 20,
    viewer: Viewer = ANONYMOUS,
) -> SearchPage:
    """Search for *viewer*; raises SearchError (a ValueError) for an unknown sort or facet, or a page out
    of range. When the index cannot be read, asks for a rebuild and returns a page marked unavailable."""
    if sort not in SORTS:
        raise SearchError("unknown_sort", sort=sort)
    if page < 1 or page > 10_000:
        raise SearchError("bad_page")
    if text and len(text) > MAX_QUERY_LENGTH * 5:
        raise SearchError("query_too_long", limit=MAX_QUERY_LENGTH)
    clean = _clean_filters(filters)
    query = parse_query(text)
    result_page = SearchPage(query, query.text, clean, sort, page, per_page)
    backend = get_backend()
    request = SearchRequest(query, clean, sort, (page - 1) * per_page, per_page)
    try:
        result = backend.search(request, viewer)
    except IndexUnavailable as exc:
        request_rebuild(exc.reason)
        result_page.unavailable = True
        return result_page
    result_page.total = result.total
    if result.total and page > result_page.pages:
        raise SearchError("page_out_of_range", pages=result_page.pages)
    result_page.hits = _hits(result.record_ids, query)
    result_page.facets = _facets(result.facets, clean)
    if not query.is_empty and result.total < 3:
        try:
            result_page.suggestion = _did_you_mean(backend, query, viewer, result.total)
        except IndexUnavailable:
            result_page.suggestion = None
    return result_page


def _did_you_mean(backend: SearchBackend, query: ParsedQuery, viewer: Viewer, found: int) -> str | None:
    """A corrected query that finds more visible records, replacing words not (or rarely) in the index."""
    best: tuple[int, str] | None = None
    words_ = list(query.words)
    for i, word in enumerate(words_):
        if len(word.folded) < 3 or any(c.isdigit() for c in word.folded):
            continue  # too short to correct, or a number, year or identifier rather than a misspelling
        single = ParsedQuery(word.exact, (word,))
        if backend.count(single, viewer) > 2:
            continue  # a common word; the misspelling is elsewhere
        for candidate in backend.similar_words(word.folded, limit=4):
            replaced = words_[:i] + [QueryWord(candidate, candidate)] + words_[i + 1 :]
            corrected = ParsedQuery(" ".join(w.exact for w in replaced), tuple(replaced))
            n = backend.count(corrected, viewer)
            # Offer it when the query found nothing, or found very little and the correction far more.
            if n > (0 if found == 0 else 5 * found + 5) and (best is None or n > best[0]):
                best = (n, corrected.text)
                break
        if best is not None:
            words_ = [QueryWord(w, fold(w)) for w in best[1].split()]
    return best[1] if best else None


def _document_query():
    """Records with exactly what build_document reads."""
    return select(HeritageRecord).options(
        selectinload(HeritageRecord.texts),
        selectinload(HeritageRecord.ethnic_groups),
        selectinload(HeritageRecord.places).selectinload(Place.parent),
        selectinload(HeritageRecord.places).selectinload(Place.current_province),
        selectinload(HeritageRecord.subjects),
        selectinload(HeritageRecord.collections),
        selectinload(HeritageRecord.dates),
        selectinload(HeritageRecord.media).selectinload(MediaFile.captions),
        selectinload(HeritageRecord.consents),
        selectinload(HeritageRecord.labels),
    )


def _hits(record_ids: Iterable[int], query: ParsedQuery) -> list[Hit]:
    ids = list(record_ids)
    if not ids:
        return []
    stmt = select(HeritageRecord).options(
        selectinload(HeritageRecord.texts),
        selectinload(HeritageRecord.ethnic_groups),
        selectinload(HeritageRecord.places).selectinload(Place.parent),
        selectinload(HeritageRecord.dates),
        selectinload(HeritageRecord.media).selectinload(MediaFile.derivatives),
        selectinload(HeritageRecord.consents),
        selectinload(HeritageRecord.labels),
    )
    records = {r.id: r for r in db.session.scalars(stmt.where(HeritageRecord.id.in_(ids)))}
    lang = current_language()
    folded = [w.folded for w in query.words]
    hits = []
    for rid in ids:
        record = records.get(rid)
        if record is None:  # deleted since the index was written; the outbox will catch up
            continue
        titles = record.values("title")
        chosen = pick(titles, lang)
        media = _media_for_text(record, access.record_key(record))
        texts = _ordered(record.values("summary"), lang) + _ordered(record.values("description"), lang)
        if query.words:
            doc_names = [n for g in record.ethnic_groups for n in g.all_names] + [
                p.label() for p in record.places
            ]
            texts += _ordered(record.values("alternative"), lang) + doc_names
            texts += [c.value for m in media for c in m.caption_values]
        kinds = tuple(dict.fromkeys(m.kind for m in media))
        dates = sorted(d.start for d in record.dates)
        hits.append(
            Hit(
                public_id=record.public_id,
                slug=record.slug,
                url=url_for("records.detail", public_id=record.public_id, slug=record.slug),
                title=chosen.value if chosen else record.slug,
                title_lang=chosen.lang if chosen else "und",
                category=record.category,
                snippet_html=to_html(snippet(texts, folded)) if texts else "",
                ethnic_groups=tuple(pick_value(g.labels, lang) for g in record.ethnic_groups),
                places=tuple(p.label() for p in record.places),
                media_types=kinds,
                thumbnail_url=_thumbnail(record),
                date=dates[0].isoformat() if dates else None,
            )
        )
    return hits


def _ordered(values: list[LangString], lang: str) -> list[str]:
    """Values in the interface language first."""
    return [v.value for v in sorted(values, key=lambda v: v.lang.split("-")[0] != lang)]


def _thumbnail(record: HeritageRecord) -> str | None:
    for m in record.media:
        if (
            m.kind == "image"
            and m.state == "ready"
            and access.media_key(m) == "public"
            and m.derivative("pyramid")
        ):
            return f"/iiif/3/{m.public_id}/full/160,/0/default.jpg"
    return None


def _facets(counts: dict[str, dict[str, int]], selected: dict[str, tuple[str, ...]]) -> list[Facet]:
    lang = current_language()
    labels = _facet_value_labels(counts, selected, lang)
    out = []
    for facet in FACETS:
        values = dict(counts.get(facet, {}))
        for key in selected.get(facet, ()):
            values.setdefault(key, 0)
        items = [
            FacetValue(key, labels.get((facet, key), key), n, key in selected.get(facet, ()))
            for key, n in values.items()
        ]
        if facet == "decade":
            items.sort(key=lambda v: v.key, reverse=True)
        else:
            items.sort(key=lambda v: (-v.count, fold(v.label)))
        out.append(Facet(facet, str(FACET_LABELS[facet]), tuple(items)))
    return out


def _facet_value_labels(counts, selected, lang: str) -> dict[tuple[str, str], str]:
    keys = {f: set(counts.get(f, {})) | set(selected.get(f, ())) for f in FACETS}
    labels: dict[tuple[str, str], str] = {}
    if keys["ethnic_group"]:
        for g in db.session.scalars(select(EthnicGroup).where(EthnicGroup.slug.in_(keys["ethnic_group"]))):
            labels["ethnic_group", g.slug] = pick_value(g.labels, lang)
    if keys["province"]:
        for p in db.session.scalars(select(Place).where(Place.code.in_(keys["province"]))):
            label = p.name
            if p.is_historical:
                label = _("%(name)s (before 2025)", name=p.name)
            labels["province", p.code] = label
    if keys["collection"]:
        for c in db.session.scalars(select(Collection).where(Collection.slug.in_(keys["collection"]))):
            labels["collection", c.slug] = pick_value(c.title_values, lang, c.slug)
    for code in keys["category"]:
        if code in CATEGORIES:
            labels["category", code] = pick_value(CATEGORIES[code].label_values, lang)
    for kind in keys["media_type"]:
        if kind in MEDIA_TYPE_LABELS:
            labels["media_type", kind] = str(MEDIA_TYPE_LABELS[kind])
    for tag in keys["language"]:
        labels["language", tag] = language_name(tag, lang)
    for decade in keys["decade"]:
        labels["decade", decade] = _("%(decade)ss", decade=decade) if decade.isdigit() else decade
    return labels


# --- autocomplete --------------------------------------------------------------------------------


def autocomplete(prefix: str, viewer: Viewer = ANONYMOUS, limit: int = 8) -> list[Completion]:
    """Titles, ethnic groups and places completing *prefix* that lead to records *viewer* may see.

    Groups and places are only offered when a visible record is catalogued under them (with the count
    of those records), so the list never reveals records the viewer may not see."""
    query = parse_query(prefix, prefix_last=True)
    if query.is_empty or len(query.text) < 2:
        return []
    backend = get_backend()
    lang = current_language()
    try:
        title_ids = backend.complete_titles(query, viewer, limit=limit)
        facet_counts = backend.search(
            SearchRequest(ParsedQuery("", ()), {}, "relevance", 0, 0, with_facets=True), viewer
        ).facets
    except IndexUnavailable:
        return []
    out: list[Completion] = []
    records = {
        r.id: r for r in db.session.scalars(select(HeritageRecord).where(HeritageRecord.id.in_(title_ids)))
    }
    for rid in title_ids:
        record = records.get(rid)
        if record is not None:
            out.append(
                Completion(
                    "title",
                    pick_value(record.values("title"), lang, record.slug),
                    url_for("records.detail", public_id=record.public_id, slug=record.slug),
                )
            )
    wanted = [w.folded for w in query.words]

    def completes(label: str, names: Iterable[str]) -> str | None:
        """The label to show when one of *names* completes the prefix (naming the alias that did)."""
        for name in names:
            name_words = [fold(w) for _s, _e, w in words(name)]
            if _words_complete(name_words, wanted):
                return label if fold(name) == fold(label) else f"{label} ({name})"
        return None

    group_counts = facet_counts.get("ethnic_group", {})
    if group_counts:
        for g in db.session.scalars(select(EthnicGroup).where(EthnicGroup.slug.in_(group_counts))):
            label = completes(pick_value(g.labels, lang), [pick_value(g.labels, lang), *g.all_names])
            if label:
                out.append(
                    Completion(
                        "ethnic_group",
                        label,
                        url_for("search.page", ethnic_group=g.slug),
                        group_counts[g.slug],
                    )
                )
    place_counts = facet_counts.get("province", {})
    if place_counts:
        for p in db.session.scalars(select(Place).where(Place.code.in_(place_counts))):
            if completes(p.name, [p.name]):
                label = _("%(name)s (before 2025)", name=p.name) if p.is_historical else p.name
                out.append(
                    Completion("place", label, url_for("search.page", province=p.code), place_counts[p.code])
                )
    titles = [c for c in out if c.kind == "title"]
    others = sorted((c for c in out if c.kind != "title"), key=lambda c: -(c.count or 0))
    return (titles[: max(3, limit - len(others))] + others)[:limit]


def _words_complete(name_words: list[str], wanted: list[str]) -> bool:
    """True when the name's words start with the wanted words (the last one as a prefix), anywhere."""
    n = len(wanted)
    for start in range(len(name_words) - n + 1):
        window = name_words[start : start + n]
        if window[:-1] == wanted[:-1] and window[-1].startswith(wanted[-1]):
            return True
    return False


# --- documents -----------------------------------------------------------------------------------


#: Media more restricted than their record are left out of its document (their captions would leak).
def _media_for_text(record: HeritageRecord, key: str) -> list[MediaFile]:
    return [m for m in record.media if m.state != "failed" and access.media_key(m) in ("public", key)]


def build_document(record: HeritageRecord, predecessors: dict[int, list[str]]) -> SearchDocument | None:
    """The index document of a record (None for a withdrawn record, which is never searchable).

    *predecessors* maps a post-2025 province id to the names of the pre-2025 provinces merged into it."""
    if record.status == "withdrawn":
        return None
    titles = tuple(t.value for t in record.texts if t.field in ("title", "alternative"))
    names: list[str] = []
    provinces: list[str] = []
    for group in record.ethnic_groups:
        names.extend(group.all_names)
    for place in record.places:
        unit = place
        while unit is not None:
            names.append(unit.name)
            if unit.parent is None:
                provinces.append(unit.code)
            unit = unit.parent
        current = place.current_province
        if current is not None:
            provinces.append(current.code)
            if current.id != place.province.id:
                names.append(current.name)
            names.extend(predecessors.get(current.id, ()))
    subjects = tuple(label.value for s in record.subjects for label in s.label_values)
    body = tuple(t.value for t in record.texts if t.field in ("summary", "description"))
    key = access.record_key(record)
    media = _media_for_text(record, key)
    media_text: list[str] = [c.value for m in media for c in m.caption_values]
    for m in media:
        for track in m.captions:
            text = _caption_text(track.storage_key)
            if text:
                media_text.append(text)
    title_values = record.values("title")
    primary_title = pick_value(title_values, "vi", record.slug)
    dates = sorted(d.start for d in record.dates)
    langs = {t.lang for t in record.texts if t.field in ("title", "summary", "description")}
    facets = {
        "ethnic_group": tuple(g.slug for g in record.ethnic_groups),
        "province": tuple(dict.fromkeys(provinces)),
        "category": (record.category,),
        "media_type": tuple(dict.fromkeys(m.kind for m in media)),
        "language": tuple(sorted(langs)),
        "decade": tuple(dict.fromkeys(str(d.year // 10 * 10) for d in dates)),
        "collection": tuple(c.slug for c in record.collections),
    }
    return SearchDocument(
        record_id=record.id,
        public_id=record.public_id,
        status=record.status,
        access_level=key,
        owner_id=record.created_by_id,
        titles=titles,
        names=tuple(dict.fromkeys(names)),
        subjects=subjects,
        body=body,
        media_text=tuple(media_text),
        title_sort=fold(primary_title),
        sort_date=dates[0] if dates else None,
        facets={k: v for k, v in facets.items() if v},
    )


def _caption_text(storage_key: str) -> str:
    from archive.media.services import derivatives_root

    try:
        path = (derivatives_root() / storage_key).resolve()
        return webvtt_cue_text(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        logger.warning("caption track %s could not be read for the index", storage_key)
        return ""


def _predecessors(session: Session) -> dict[int, list[str]]:
    """Post-2025 province id -> names of the pre-2025 provinces that went into it."""
    old = Place.__table__.alias("old")
    rows = session.execute(
        select(PlaceSuccession.new_id, old.c.name)
        .join(old, old.c.id == PlaceSuccession.old_id)
        .where(old.c.level == "province")
    )
    out: dict[int, list[str]] = {}
    for new_id, name in rows:
        out.setdefault(new_id, []).append(name)
    return out


def _documents(session: Session, record_ids: list[int] | None, batch: int = 500) -> Iterable[SearchDocument]:
    predecessors = _predecessors(session)
    if record_ids is None:
        record_ids = list(
            session.scalars(
                select(HeritageRecord.id)
                .where(HeritageRecord.status != "withdrawn")
                .order_by(HeritageRecord.id)
            )
        )
    for start in range(0, len(record_ids), batch):
        chunk = record_ids[start : start + batch]
        stmt = _document_query().where(HeritageRecord.id.in_(chunk)).order_by(HeritageRecord.id)
        for record in session.scalars(stmt):
            doc = build_document(record, predecessors)
            if doc is not None:
                yield doc
        session.expunge_all()


# --- the single index writer ---------------------------------------------------------------------

WRITER_LOCK = "search-writer"


class WriterBusy(Exception):
    """Another process holds the index writer lock."""


def _writer_lock():
    from archive.core.jobs import huey_for
    from archive.preservation.recovery import held_lock, release_dead_lock

    huey = huey_for(current_app)
    release_dead_lock(huey, WRITER_LOCK)  # left by a process killed while writing (its pid is gone)
    return held_lock(huey, WRITER_LOCK)  # records its holder, so that this check is possible


def sync_index(session: Session | None = None) -> int:
    """Apply the pending outbox entries (the single index writer); returns how many records were applied.

    Raises WriterBusy when another writer holds the lock (the job then retries)."""
    from huey.exceptions import TaskLockedException

    session = session or db.session
    try:
        with _writer_lock():
            return _apply_outbox(session)
    except TaskLockedException:
        raise WriterBusy() from None


def _apply_outbox(session: Session) -> int:
    backend = get_backend(session)
    if not backend.is_available():
        return _rebuild(session, backend)
    applied = 0
    while True:
        rows = session.execute(
            select(SearchOutbox.id, SearchOutbox.record_id).order_by(SearchOutbox.id).limit(1000)
        ).all()
        if not rows:
            break
        last_id = rows[-1][0]
        ids = sorted({rid for _id, rid in rows})
        documents = list(_documents(session, ids))
        present = {d.record_id for d in documents}
        backend.delete([rid for rid in ids if rid not in present])
        backend.upsert(documents)
        session.execute(delete(SearchOutbox).where(SearchOutbox.id <= last_id))
        session.commit()
        applied += len(ids)
        _note_applied(ids)
    return applied


def rebuild_index(session: Session | None = None) -> int:
    """Rebuild the whole index from the database (``archive reindex``); returns the number of documents.

    Searches keep answering from the old index until the new one is complete."""
    from huey.exceptions import TaskLockedException

    session = session or db.session
    try:
        with _writer_lock():
            return _rebuild(session, get_backend(session))
    except TaskLockedException:
        raise WriterBusy() from None


def _rebuild(session: Session, backend: SearchBackend) -> int:
    last_id = session.scalar(select(func.max(SearchOutbox.id))) or 0
    count = backend.rebuild(_documents(session, None))
    session.execute(delete(SearchOutbox).where(SearchOutbox.id <= last_id))
    session.commit()
    _note_applied(None)
    logger.info("search index rebuilt: %d documents", count)
    return count


def request_rebuild(reason: str) -> None:
    """Ask the worker to rebuild a missing or corrupt index (unless a writer is already at work)."""
    from archive.core.jobs import enqueue, huey_for

    if huey_for(current_app).is_locked(WRITER_LOCK):
        return
    logger.warning("search index unavailable (%s): rebuild requested", reason)
    try:
        enqueue("search.rebuild")
    except WriterBusy:
        pass


#: Record ids applied by the writer in this process, None for a full rebuild (read by the test suite to
#: restore its index after rolling a test back).
_APPLIED: list[int | None] = []


def _note_applied(ids: list[int] | None) -> None:
    if current_app.testing:
        _APPLIED.extend(ids if ids is not None else [None])


def resync(record_ids: Iterable[int | None], session: Session) -> None:
    """Re-apply records from the database as it is now (None in *record_ids*: rebuild everything)."""
    record_ids = list(record_ids)
    backend = get_backend(session)
    if None in record_ids or not backend.is_available():
        backend.rebuild(_documents(session, None))
        return
    ids = sorted(set(record_ids))
    if not ids:
        return
    documents = list(_documents(session, ids))
    present = {d.record_id for d in documents}
    backend.delete([rid for rid in ids if rid not in present])
    backend.upsert(documents)
