"""The search interface shared by every backend (Whoosh, PostgreSQL).

Framework-free value types and the small protocol a backend implements. The service
(:mod:`archive.search.service`) builds :class:`SearchDocument` values from records, parses the
user's text into a :class:`ParsedQuery` and turns a backend's :class:`BackendResult` into a page of
hits with snippets; backends only store documents, match, rank, filter and count.

Matching rules every backend follows (the behavioural suite in ``tests/search`` checks them):

- Text is NFC-normalised and lower-cased; each word is also *folded* (diacritics, tones and đ/Đ
  removed, :func:`metadata.text.fold`). A query word matches a document word when their folded
  forms are equal; the last word of a query also matches as a prefix when ``prefix_last`` is set.
- Every query word must match (AND), in any field. Ranking weights, highest first: titles
  (title and alternative titles), names (ethnic groups and places, all their names), subjects,
  body (summary and description), media text (captions and transcripts).
- A query word that carries diacritics (``word.exact != word.folded``) ranks documents holding
  that exact word above documents holding only a folded match: "mà" ranks "mà" above "ma"/"má".
- Documents holding the whole query as a phrase rank higher.
- Access: a document is visible to a :class:`Viewer` when it is published and its access level is
  in ``viewer.levels``, or the viewer owns it, or the viewer sees every unpublished record.
  Withdrawn records are never indexed. Hits, totals and facet counts only ever count visible
  documents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

#: Facets, in display order. Values are stable keys (slugs, codes), never labels.
FACETS = ("ethnic_group", "province", "category", "media_type", "language", "decade", "collection")
#: Sort orders: relevance, documented date (newest first / oldest first), title (A-Z, folded).
SORTS = ("relevance", "date_desc", "date_asc", "title")


class IndexUnavailable(Exception):
    """The index is missing, corrupt or being rebuilt; search cannot answer right now."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SearchDocument:
    """Everything a backend stores about one record. Text values are NFC; every language is included."""

    record_id: int
    public_id: str
    status: str  # "published", "draft" or "in_review" (withdrawn records are not indexed)
    access_level: str  # "public", "researchers", "community", "private"
    owner_id: int | None
    titles: tuple[str, ...]  # title and alternative titles, all languages
    names: tuple[str, ...]  # ethnic group names (all) and place names (old and new units)
    subjects: tuple[str, ...]
    body: tuple[str, ...]  # summary, description
    media_text: tuple[str, ...]  # media captions and transcript text
    title_sort: str  # folded primary title, for sorting by title
    sort_date: dt.date | None  # earliest documented date, for sorting by date (None sorts last)
    #: facet name -> value keys, e.g. {"ethnic_group": ("tay",), "province": ("2025-p08", "pre2025-p06")}
    facets: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class QueryWord:
    """One word of a query: as typed (NFC, lower-case) and folded."""

    exact: str
    folded: str

    @property
    def has_diacritics(self) -> bool:
        return self.exact != self.folded


@dataclass(frozen=True)
class ParsedQuery:
    """A user's query split into words. No words means 'everything visible' (browse)."""

    text: str
    words: tuple[QueryWord, ...]
    prefix_last: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.words


@dataclass(frozen=True)
class Viewer:
    """Whose search this is, reduced to what the access rule needs (see archive.core.access)."""

    levels: frozenset[str]  # access levels visible among published records
    user_id: int | None = None  # owner: sees own records at any level and status (except withdrawn)
    sees_unpublished: bool = False  # curators: every non-withdrawn record

    @property
    def cache_key(self) -> str:
        if self.sees_unpublished:
            return "all"
        levels = ",".join(sorted(self.levels))
        return f"{levels}|{self.user_id or ''}"

    def can_see(self, status: str, access_level: str, owner_id: int | None) -> bool:
        """The same rule the backends apply in their queries, for one document."""
        if status == "withdrawn":
            return False
        if self.sees_unpublished:
            return True
        if self.user_id is not None and owner_id == self.user_id:
            return True
        return status == "published" and access_level in self.levels


ANONYMOUS = Viewer(levels=frozenset({"public"}))


@dataclass(frozen=True)
class SearchRequest:
    """What to search: the parsed query, facet filters (AND across facets, OR within one), sort, page."""

    query: ParsedQuery
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sort: str = "relevance"
    offset: int = 0
    limit: int = 20
    with_facets: bool = True


@dataclass(frozen=True)
class BackendResult:
    """Ranked record ids of one page, the total number of visible matches and facet counts.

    Facet counts are computed over the visible matches of the query with every *other* facet's
    filter applied (so a facet's own alternatives stay visible), and only list values with a count > 0.
    """

    record_ids: tuple[int, ...]
    total: int
    facets: dict[str, dict[str, int]]


class SearchBackend(Protocol):
    """What the service needs from a backend. Writers are only ever called by the single index writer
    (the ``search.sync`` / ``search.rebuild`` jobs, serialised by a queue lock)."""

    name: str

    def upsert(self, documents: Iterable[SearchDocument]) -> int:
        """Add or replace documents (by record_id); returns how many were written."""

    def delete(self, record_ids: Iterable[int]) -> None:
        """Remove documents; unknown ids are ignored."""

    def rebuild(self, documents: Iterable[SearchDocument]) -> int:
        """Replace the whole index with *documents*, atomically: searches keep answering from the old
        index until the new one is complete. Returns the number of documents."""

    def search(self, request: SearchRequest, viewer: Viewer) -> BackendResult:
        """Match, filter, rank and count; raises IndexUnavailable when the index cannot be read."""

    def count(self, query: ParsedQuery, viewer: Viewer) -> int:
        """Number of visible documents matching *query* (no facets, no ranking)."""

    def similar_words(self, folded_word: str, limit: int = 5) -> list[str]:
        """Folded words of the index close to *folded_word* (for 'did you mean'), best first.
        The caller only offers a correction that finds visible documents."""

    def complete_titles(self, prefix: ParsedQuery, viewer: Viewer, limit: int = 8) -> list[int]:
        """Record ids of visible documents whose titles match *prefix* (last word as a prefix)."""

    def document_count(self) -> int:
        """Number of documents in the index (all access levels); raises IndexUnavailable."""

    def is_available(self) -> bool:
        """False when the index is missing or cannot be opened."""
