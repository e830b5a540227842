"""The PostgreSQL search backend: full-text search in the archive's own database, for deployments with
several web servers (no index directory to share) and large collections.

Schema (migration 5c2d7e1a9b3f; not SQLAlchemy models, Alembic autogenerate skips them through
:func:`is_search_schema_object`):

- ``search_document``, one row per indexed record: access columns, sort keys, ``facets`` (one
  ``text[]`` of facet keys ``<facet index><value>``, e.g. ``0tay``, sorted by facet, and
  ``facet_starts``, where each facet's keys begin) and the text as four ``tsvector`` columns:

  - ``head_fts``: folded words of the titles (weight A), names (B) and subjects (C), with positions;
  - ``title_exact``: the words of the titles that carry diacritics, as written (lower-case);
  - ``body_fts``: folded words of the summary and description (D) and of captions and transcripts
    (C), with positions;
  - ``exact_fts``: every word of the document that carries diacritics, as written.

  ``head_fts`` and ``title_exact`` are small and stay in the row; ``body_fts`` and ``exact_fts`` are
  long and stored out of line, uncompressed. GIN indexes: ``head_fts || body_fts`` (matching), the
  titles (``ts_filter(head_fts, '{a}')``, autocomplete) and ``facets``.
- ``search_word``: the distinct folded words of the index with their document counts, with a
  ``pg_trgm`` GIN index, for 'did you mean'.

Words are cut and folded in Python by the functions the Whoosh backend and the snippets use
(:func:`metadata.text.words`, :func:`metadata.text.fold`), and vectors and queries are built from those
lexemes directly, so both backends match exactly the same words. PostgreSQL's ``unaccent`` folds
Vietnamese as ``fold`` does, but not other letters (ß, ø, æ, œ, ł; combining marks of other scripts), and
its parser cuts words differently from ``\\w+`` (e-mail addresses, URLs, decimals, underscores): neither
is on the matching path. The ``archive_folded`` configuration (``simple`` + ``unaccent``) produces the
index's lexemes for Vietnamese text, for whoever queries the index by hand.

Ranking: every match gets a cheap score from the small columns only (exact words in the titles, the
phrase in the head fields, ``ts_rank`` of the head); the best ``RERANK_WINDOW`` by that score are
ranked again with the long vectors too (exact words and phrase anywhere, ``ts_rank`` of body and media
text). Pages are cut from that one fixed order, so paging is stable. Facet counts come from the same
scan, in one pass; browsing without words or filters reads them from kept counts.

The backend never commits: writes run in the caller's transaction (the index-writer job commits), so a
rebuild (DELETE everything, INSERT everything) is atomic for readers by MVCC. Every call runs in a
SAVEPOINT, so a missing index (IndexUnavailable) leaves the caller's transaction usable; reads also set
their planner settings there and roll them back.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from archive.search.base import (
    FACETS,
    SORTS,
    BackendResult,
    IndexUnavailable,
    ParsedQuery,
    SearchDocument,
    SearchRequest,
    Viewer,
)
from metadata.text import edit_distance, fold

logger = logging.getLogger(__name__)

#: Tables and indexes of the search schema (migration 5c2d7e1a9b3f); Alembic autogenerate skips them.
SEARCH_TABLES = frozenset({"search_document", "search_facet_count", "search_word"})
SEARCH_INDEXES = frozenset(
    {
        "search_document_pkey",
        "search_word_pkey",
        "search_facet_count_pkey",
        "ix_search_document_match",
        "ix_search_document_titles",
        "ix_search_document_facets",
        "ix_search_document_date_desc",
        "ix_search_document_date_asc",
        "ix_search_document_title_sort",
        "ix_search_document_owner_id",
        "ix_search_word_trgm",
    }
)

#: ts_rank weights {D, C, B, A} of head_fts: titles (A), names (B), subjects (C). One word in a title
#: ranks 0.61, in a name 0.24, in a subject 0.12.
HEAD_WEIGHTS = "{0, 0.2, 0.4, 1.0}"
#: ts_rank weights of body_fts: the body (D; ten times in the body ranks 0.09) and media text (C), at
#: 0.15 of the body.
BODY_WEIGHTS = "{0.1, 0.015, 0, 0}"
#: Ranking tiers above ts_rank (at most ~2.2): each query word with diacritics found as written ("mà"
#: ranks "mà" above "ma"/"má"), then the query as a phrase in the head fields, then in the body.
EXACT_BONUS = 100.0
HEAD_PHRASE_BONUS = 10.0
BODY_PHRASE_BONUS = 5.0
#: Matches ranked with the long vectors too; the rest follow in the order of the cheap score.
RERANK_WINDOW = 500
#: Documents written per statement batch.
BATCH = 500
#: PostgreSQL limits: a lexeme is at most 2047 bytes, a position at most 16383, a lexeme keeps at most
#: 256 positions, a tsvector is at most 1 MB (MAX_LEXEMES keeps well under it).
MAX_WORD_CHARS = 500
MAX_POSITION = 16383
MAX_POSITIONS = 256
MAX_LEXEMES = 40_000
#: pg_trgm similarity lower bound of 'did you mean' candidates ('%' with pg_trgm.similarity_threshold,
#: set for that lookup only): the default, 0.3, misses one-letter edits of the short words Vietnamese is
#: made of ("lang"/"long" is 0.25).
SIMILARITY_THRESHOLD = 0.2
SIMILAR_CANDIDATES = 50
MAX_EDIT_DISTANCE = 2
#: Settings of every read, rolled back with its savepoint: the one-pass facet counts keep all matches in
#: memory, and JIT compilation costs more than it saves on these statements.
READ_SETTINGS = {"work_mem": "32MB", "jit": "off"}
#: Settings of reads that match words: through the GIN index, always. The planner would otherwise scan
#: the table for a common word, and read every document's long vectors to test it.
MATCH_SETTINGS = {"enable_seqscan": "off"}

#: SQLSTATEs meaning the search schema is missing or out of date (never a transient failure).
_MISSING = {"42P01", "42703", "42883", "42704", "3F000"}


def is_search_schema_object(name: str | None) -> bool:
    """True for the tables and indexes of the search schema, which are not SQLAlchemy models."""
    return name in SEARCH_TABLES or name in SEARCH_INDEXES


# --- words -----------------------------------------------------------------------------------------

_FOLDED: dict[str, str] = {}


def _fold_new(word: str) -> str:
    if len(_FOLDED) > 500_000:
        _FOLDED.clear()
    folded = _FOLDED[word] = fold(word)
    return folded


def _folded(tokens: list[str]) -> list[str]:
    """fold() of each word, memoised (a collection has few distinct words)."""
    get = _FOLDED.get
    return [get(w) or _fold_new(w) for w in tokens]


#: The word pattern of metadata.text.words (the tokens of every backend), used directly: _tokens(text)
#: gives the words of words(text) without their offsets, in a few C calls.
_WORD = re.compile(r"\w+", re.UNICODE)


def _tokens(value: str) -> list[str]:
    """The lower-case words of a text, as metadata.text.words cuts them."""
    found = _WORD.findall(unicodedata.normalize("NFC", value))
    if not found:
        return []
    # One lower() for all the words: it never makes a space, and it lowers a final sigma the same way.
    tokens = " ".join(found).lower().split(" ")
    if max(map(len, found)) > MAX_WORD_CHARS:
        tokens = [w for w in tokens if len(w) <= MAX_WORD_CHARS]
    return tokens


def _lexeme(word: str) -> str:
    """A quoted tsvector/tsquery lexeme (\\w+ words hold no quote or backslash; be safe anyway)."""
    if "'" in word or "\\" in word:
        word = word.replace("\\", "\\\\").replace("'", "''")
    return f"'{word}'"


def _positions_text(positions: dict[str, list[int]], tokens: int, last: int) -> str:
    """tsvector text of lexemes with positions (*tokens* words, the *last* position), within
    PostgreSQL's limits."""
    if tokens <= MAX_POSITIONS and last <= MAX_POSITION and len(positions) <= MAX_LEXEMES:
        words = "".join(positions)
        if "'" not in words and "\\" not in words:  # never in \w+ words; quoted below if ever
            return " ".join([f"'{word}':{','.join(map(str, found))}" for word, found in positions.items()])
    parts = []
    for word, found in islice(positions.items(), MAX_LEXEMES):
        if len(found) > MAX_POSITIONS or found[-1] > MAX_POSITION:
            found = [p for p in found[:MAX_POSITIONS] if p <= MAX_POSITION] or [MAX_POSITION]
        parts.append(f"{_lexeme(word)}:{','.join(map(str, found))}")
    return " ".join(parts)


class _Field:
    """The folded words of one field with their positions (a gap between two values, so that no phrase
    spans them), and the words carrying diacritics as written."""

    __slots__ = ("positions", "exact", "tokens", "last")

    def __init__(self, values: Iterable[str]) -> None:
        self.positions: dict[str, list[int]] = {}
        self.exact: set[str] = set()
        self.tokens = 0
        position = 1
        for value in values:
            tokens = _tokens(value)
            if not tokens:
                continue
            folded = _folded(tokens)
            if folded != tokens:
                self.exact.update(w for w, f in zip(tokens, folded, strict=True) if w != f)
            add = self.positions.setdefault
            start = position + 1
            for at, word in enumerate(folded, start):
                add(word, []).append(at)
            position = start + len(folded)  # leaves a gap before the next value
            self.tokens += len(folded)
        self.last = position

    def text(self) -> str:
        return _positions_text(self.positions, self.tokens, self.last)


def _row(doc: SearchDocument) -> tuple[dict, set[str]]:
    """Statement parameters of one document, and its distinct folded words."""
    fields = [_Field(v) for v in (doc.titles, doc.names, doc.subjects, doc.body, doc.media_text)]
    titles, names, subjects, body, media = fields
    exact = titles.exact | names.exact | subjects.exact | body.exact | media.exact
    keys: list[str] = []
    starts: list[int] = []
    for n, facet in enumerate(FACETS):
        starts.append(len(keys) + 1)
        keys += dict.fromkeys(f"{n}{value}" for value in doc.facets.get(facet, ()) if value)
    starts.append(len(keys) + 1)
    row = {
        "record_id": doc.record_id,
        "public_id": doc.public_id,
        "status": doc.status,
        "access_level": doc.access_level,
        "owner_id": doc.owner_id,
        "title_sort": doc.title_sort or "",
        "sort_date": doc.sort_date,
        "facets": keys,
        "facet_starts": starts,
        "titles_folded": "\n".join(" ".join(_folded(_tokens(title))) for title in doc.titles),
        "titles": titles.text(),
        "names": names.text(),
        "subjects": subjects.text(),
        "title_exact": sorted(titles.exact),
        "body": body.text(),
        "media": media.text(),
        "exact": sorted(exact)[:MAX_LEXEMES],
    }
    vocabulary: set[str] = set()
    for field in fields:
        vocabulary.update(islice(field.positions, MAX_LEXEMES))
    return row, vocabulary


class _Query:
    """The tsqueries of a parsed query, as tsquery text built from folded lexemes (bound parameters)."""

    def __init__(self, query: ParsedQuery) -> None:
        groups: list[list[str]] = []  # folded lexemes of each query word
        #: One tsquery per query word with diacritics, as typed (not for a word typed as a prefix).
        self.exact: list[str] = []
        prefix = False
        last = len(query.words) - 1
        for i, word in enumerate(query.words):
            folded = _folded(_tokens(word.folded))
            if not folded:
                continue
            groups.append(folded)
            prefix = query.prefix_last and i == last
            if word.has_diacritics and not prefix:
                tokens = _tokens(word.exact)
                marked = [w for w, f in zip(tokens, _folded(tokens), strict=True) if w != f]
                if marked:
                    self.exact.append(" & ".join(_lexeme(w) for w in marked))
        parts = []
        for group in groups:
            lexemes = [_lexeme(w) for w in group]
            if group is groups[-1] and prefix:
                lexemes[-1] += ":*"
            parts.append(lexemes[0] if len(lexemes) == 1 else "(" + " <-> ".join(lexemes) + ")")
        #: Every word (AND), the last one as a prefix when asked; None for an empty query.
        self.match: str | None = " & ".join(parts) if parts else None
        #: Any word (OR), for ts_rank: a document holding some of the words in a title ranks above one
        #: holding them only in its body.
        self.any: str | None = " | ".join(parts) if parts else None
        #: The query has words but none to look for (only punctuation): it matches nothing.
        self.nothing = not query.is_empty and not parts
        flat = [w for group in groups for w in group]
        #: All the folded words as a phrase (ranking bonus), when there are several; in the body (weight
        #: D of body_fts), not in media text.
        self.phrase: str | None = " <-> ".join(_lexeme(w) for w in flat) if len(flat) > 1 else None
        self.body_phrase = " <-> ".join(_lexeme(w) + ":D" for w in flat)
        #: LIKE pattern of a title that begins with the folded words (autocomplete).
        escaped = " ".join(flat).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        self.starts = "%\n" + escaped + "%"

    def bind(self, params: dict) -> None:
        params["q"] = self.match
        params["q_any"] = self.any
        if self.phrase:
            params["phrase"] = self.phrase
            params["body_phrase"] = self.body_phrase
        for n, exact in enumerate(self.exact):
            params[f"x{n}"] = exact


_MATCH = "(d.head_fts || d.body_fts) @@ CAST(:q AS tsquery)"


def _visible(viewer: Viewer, params: dict) -> str:
    """SQL condition of Viewer.can_see on search_document d (withdrawn records are never indexed)."""
    if viewer.sees_unpublished:
        return "d.status <> 'withdrawn'"
    params["levels"] = sorted(viewer.levels)
    clause = "(d.status = 'published' AND d.access_level = ANY(CAST(:levels AS text[])))"
    if viewer.user_id is not None:
        params["user_id"] = viewer.user_id
        clause = f"({clause} OR (d.owner_id = :user_id AND d.status <> 'withdrawn'))"
    return clause


def _rank(column: str, weights: str) -> str:
    return f"ts_rank('{weights}', d.{column}, CAST(:q_any AS tsquery))::float8"


def _cheap_score(query: _Query) -> str:
    """Relevance from the columns kept in the row: head fields, exact words of the titles."""
    score = _rank("head_fts", HEAD_WEIGHTS)
    if query.phrase:
        score += f" + CASE WHEN d.head_fts @@ CAST(:phrase AS tsquery) THEN {HEAD_PHRASE_BONUS} ELSE 0 END"
    for n in range(len(query.exact)):
        score += f" + CASE WHEN d.title_exact @@ CAST(:x{n} AS tsquery) THEN {EXACT_BONUS} ELSE 0 END"
    return score


def _full_score(query: _Query) -> str:
    """Relevance from every field (reads the long vectors; for the best candidates only)."""
    score = f"{_rank('head_fts', HEAD_WEIGHTS)} + {_rank('body_fts', BODY_WEIGHTS)}"
    if query.phrase:
        score += (
            f" + CASE WHEN d.head_fts @@ CAST(:phrase AS tsquery) THEN {HEAD_PHRASE_BONUS}"
            f" WHEN d.body_fts @@ CAST(:body_phrase AS tsquery) THEN {BODY_PHRASE_BONUS} ELSE 0 END"
        )
    for n in range(len(query.exact)):
        score += f" + CASE WHEN d.exact_fts @@ CAST(:x{n} AS tsquery) THEN {EXACT_BONUS} ELSE 0 END"
    return score


_ORDER = {
    "relevance": "score DESC, record_id",
    "date_desc": "sort_date DESC NULLS LAST, record_id",
    "date_asc": "sort_date ASC NULLS LAST, record_id",
    "title": "title_sort = '', title_sort, record_id",
}
_SORT_COLUMN = {"date_desc": "d.sort_date", "date_asc": "d.sort_date", "title": "d.title_sort"}

_COLUMNS = (
    "record_id, public_id, status, access_level, owner_id, title_sort, sort_date, facets, facet_starts,"
    " titles_folded, head_fts, title_exact, body_fts, exact_fts"
)
_UPSERT = text(
    f"INSERT INTO search_document ({_COLUMNS}) VALUES ("
    ":record_id, :public_id, :status, :access_level, :owner_id, :title_sort, :sort_date,"
    " CAST(:facets AS text[]), CAST(:facet_starts AS smallint[]), :titles_folded,"
    " setweight(CAST(:titles AS tsvector), 'A') || setweight(CAST(:names AS tsvector), 'B')"
    " || setweight(CAST(:subjects AS tsvector), 'C'),"
    " array_to_tsvector(CAST(:title_exact AS text[])),"
    " CAST(:body AS tsvector) || setweight(CAST(:media AS tsvector), 'C'),"
    " array_to_tsvector(CAST(:exact AS text[])))"
    " ON CONFLICT (record_id) DO UPDATE SET "
    + ", ".join(f"{column} = EXCLUDED.{column}" for column in _COLUMNS.split(", ")[1:])
)
#: The distinct folded words of a document d, and its facet keys with '' (every document counts once).
_WORDS_OF = "unnest(tsvector_to_array(d.head_fts || d.body_fts))"
_FACET_COUNTS_OF = "unnest(array_append(d.facets, ''))"
_IDS = "CAST(:ids AS integer[])"


class _Tally:
    """Word and facet counts of a rebuild, added up while the documents are written."""

    def __init__(self) -> None:
        self.words: Counter[str] = Counter()
        self.facets: Counter[tuple[str, str, str]] = Counter()
        self.seen: set[int] = set()
        self.repeated = False

    def add(self, row: dict, vocabulary: set[str]) -> None:
        if row["record_id"] in self.seen:
            self.repeated = True
        self.seen.add(row["record_id"])
        self.words.update(vocabulary)
        self.facets.update((row["status"], row["access_level"], key) for key in ["", *row["facets"]])

    def write(self, session: Session) -> None:
        if self.repeated:  # a document given twice replaced the first: count again from the index
            session.execute(text(_COUNT_WORDS.format(where="", conflict="")))
            session.execute(text(_COUNT_FACETS.format(where="", conflict="")))
            return
        if self.words:
            session.execute(
                text(
                    "INSERT INTO search_word (word, documents)"
                    " SELECT * FROM unnest(CAST(:words AS text[]), CAST(:numbers AS integer[]))"
                ),
                {"words": list(self.words), "numbers": list(self.words.values())},
            )
        if self.facets:
            statuses, levels, keys = (list(column) for column in zip(*self.facets, strict=True))
            session.execute(
                text(
                    "INSERT INTO search_facet_count (status, access_level, key, documents)"
                    " SELECT * FROM unnest(CAST(:statuses AS text[]), CAST(:levels AS text[]),"
                    " CAST(:keys AS text[]), CAST(:numbers AS integer[]))"
                ),
                {"statuses": statuses, "levels": levels, "keys": keys, "numbers": list(self.facets.values())},
            )


_COUNT_WORDS = (
    "INSERT INTO search_word (word, documents)"
    f" SELECT w, count(*) FROM search_document d, {_WORDS_OF} AS w {{where}} GROUP BY w {{conflict}}"
)
_COUNT_FACETS = (
    "INSERT INTO search_facet_count (status, access_level, key, documents)"
    f" SELECT d.status, d.access_level, k, count(*) FROM search_document d, {_FACET_COUNTS_OF} AS k"
    " {where} GROUP BY 1, 2, 3 {conflict}"
)


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class PostgresBackend:
    """The PostgreSQL implementation of archive.search.base.SearchBackend."""

    name = "postgresql"

    def __init__(self, get_session: Callable[[], Session]) -> None:
        self._get_session = get_session

    # --- running statements ---------------------------------------------------------------------

    def _session(self) -> Session:
        session = self._get_session()
        if session.get_bind().dialect.name != "postgresql":
            raise IndexUnavailable("missing")
        return session

    def _write(self, work: Callable[[Session], object]):
        """Run *work* in a SAVEPOINT, released on success."""
        session = self._session()
        try:
            with session.begin_nested():
                return work(session)
        except DBAPIError as exc:
            _raise_if_missing(exc)
            raise

    def _read(self, statement, params: dict, settings: dict[str, str] | None = None) -> list:
        """Run a read in a SAVEPOINT with READ_SETTINGS (and *settings*), then roll the savepoint, and
        with it the settings, back."""
        connection = self._session().connection()
        settings = {**READ_SETTINGS, **(settings or {})}
        connection.exec_driver_sql(
            "SAVEPOINT archive_search; "
            + "; ".join(f"SET LOCAL {name} = '{value}'" for name, value in settings.items())
        )
        try:
            return connection.execute(statement, params).all()
        except DBAPIError as exc:
            _raise_if_missing(exc)
            raise
        finally:
            connection.exec_driver_sql(
                "ROLLBACK TO SAVEPOINT archive_search; RELEASE SAVEPOINT archive_search"
            )

    # --- state ----------------------------------------------------------------------------------

    def is_available(self) -> bool:
        statement = text(
            "SELECT to_regclass('search_document') IS NOT NULL AND to_regclass('search_word') IS NOT NULL"
            " AND to_regclass('search_facet_count') IS NOT NULL"
            " AND EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')"
        )
        try:
            return bool(self._read(statement, {})[0][0])
        except IndexUnavailable:
            return False

    def document_count(self) -> int:
        return self._read(text("SELECT count(*) FROM search_document"), {})[0][0]

    # --- writing --------------------------------------------------------------------------------

    def upsert(self, documents: Iterable[SearchDocument]) -> int:
        def work(session: Session) -> int:
            return sum(self._write_batch(session, chunk) for chunk in _chunks(documents, BATCH))

        return self._write(work)

    def delete(self, record_ids: Iterable[int]) -> None:
        ids = sorted({int(i) for i in record_ids})
        if not ids:
            return

        def work(session: Session) -> None:
            for chunk in _chunks(ids, BATCH):
                emptied = self._uncount(session, chunk)
                session.execute(
                    text(f"DELETE FROM search_document WHERE record_id = ANY({_IDS})"), {"ids": chunk}
                )
                self._drop_emptied(session, emptied)

        self._write(work)

    def rebuild(self, documents: Iterable[SearchDocument]) -> int:
        def work(session: Session) -> int:
            for table in ("search_word", "search_facet_count", "search_document"):
                session.execute(text(f"DELETE FROM {table}"))
            tally = _Tally()
            written = sum(self._write_batch(session, chunk, tally) for chunk in _chunks(documents, BATCH))
            tally.write(session)
            # No ANALYZE here: its row counts are written in place, and would stay wrong if the caller
            # rolled back. Autovacuum analyzes the table once the rebuild is committed.
            return written

        return self._write(work)

    def _write_batch(self, session: Session, chunk: list[SearchDocument], tally: _Tally | None = None) -> int:
        """Write one batch; withdrawn documents are removed instead (they are never indexed). Word and
        facet counts are kept in step in the database, or, during a rebuild, added up in *tally*."""
        rows = []
        for doc in chunk:
            if doc.status == "withdrawn":
                continue
            row, vocabulary = _row(doc)
            rows.append(row)
            if tally is not None:
                tally.add(row, vocabulary)
        written = sorted({row["record_id"] for row in rows})
        withdrawn = sorted({d.record_id for d in chunk if d.status == "withdrawn"} - set(written))
        emptied = self._uncount(session, sorted(set(written) | set(withdrawn))) if tally is None else []
        if withdrawn:
            session.execute(
                text(f"DELETE FROM search_document WHERE record_id = ANY({_IDS})"), {"ids": withdrawn}
            )
        if rows:
            session.execute(_UPSERT, rows)
        if tally is None and rows:
            where = f"WHERE d.record_id = ANY({_IDS})"
            add = "ON CONFLICT ({key}) DO UPDATE SET documents = {table}.documents + EXCLUDED.documents"
            conflict = add.format(key="word", table="search_word")
            session.execute(text(_COUNT_WORDS.format(where=where, conflict=conflict)), {"ids": written})
            conflict = add.format(key="status, access_level, key", table="search_facet_count")
            session.execute(text(_COUNT_FACETS.format(where=where, conflict=conflict)), {"ids": written})
        self._drop_emptied(session, emptied)
        return len(rows)

    @staticmethod
    def _uncount(session: Session, ids: list[int]) -> list[str]:
        """Take the indexed documents *ids* out of the word and facet counts; returns the words now at 0."""
        if not ids:
            return []
        session.execute(
            text(
                "UPDATE search_facet_count c SET documents = c.documents - o.n"
                f" FROM (SELECT d.status, d.access_level, k, count(*) AS n FROM search_document d,"
                f" {_FACET_COUNTS_OF} AS k WHERE d.record_id = ANY({_IDS}) GROUP BY 1, 2, 3) AS o"
                " WHERE (c.status, c.access_level, c.key) = (o.status, o.access_level, o.k)"
            ),
            {"ids": ids},
        )
        rows = session.execute(
            text(
                "UPDATE search_word s SET documents = s.documents - o.n"
                f" FROM (SELECT w, count(*) AS n FROM search_document d, {_WORDS_OF} AS w"
                f" WHERE d.record_id = ANY({_IDS}) GROUP BY w) AS o"
                " WHERE s.word = o.w RETURNING s.word, s.documents"
            ),
            {"ids": ids},
        )
        return [word for word, documents in rows if documents <= 0]

    @staticmethod
    def _drop_emptied(session: Session, words: list[str]) -> None:
        """Remove the counts that fell to 0 (the facet counts table is small: scanned whole)."""
        if words:
            session.execute(
                text("DELETE FROM search_word WHERE word = ANY(CAST(:words AS text[])) AND documents <= 0"),
                {"words": words},
            )
        session.execute(text("DELETE FROM search_facet_count WHERE documents <= 0"))

    # --- reading --------------------------------------------------------------------------------

    def search(self, request: SearchRequest, viewer: Viewer) -> BackendResult:
        if request.sort not in SORTS:
            raise ValueError(f"unknown sort {request.sort!r}")
        unknown = sorted(set(request.filters) - set(FACETS))
        if unknown:
            raise ValueError(f"unknown facet {unknown[0]!r}")
        query = _Query(request.query)
        if query.nothing:
            return BackendResult((), 0, {facet: {} for facet in FACETS} if request.with_facets else {})
        params: dict = {"limit": max(0, request.limit), "offset": max(0, request.offset)}
        where = [_visible(viewer, params)]
        if query.match:
            query.bind(params)
            where.append(_MATCH)
        # Facet filters: AND across facets, OR within one. A document failing exactly one facet's filter
        # still counts for that facet's values (multi-select faceting).
        passes = []
        for n, facet in enumerate(FACETS):
            values = request.filters.get(facet)
            if values:
                params[f"f{n}"] = [f"{n}{value}" for value in values]
                passes.append((n, f"(d.facets && CAST(:f{n} AS text[]))"))
        sort = request.sort
        if sort == "relevance" and not query.match:
            sort = "date_desc"  # browsing: newest first, as the Whoosh backend does
        if not query.match and not passes:
            return self._browse(request, viewer, sort, params)
        columns = [
            "d.record_id",
            f"{_cheap_score(query)} AS score" if sort == "relevance" else _SORT_COLUMN[sort],
        ]
        if request.with_facets and passes:
            # Each row keeps the facet keys it counts for: all of them when it passes every filter,
            # only the keys of the one facet whose filter it fails otherwise (facet_starts[n + 1] is
            # where facet n's keys begin in the sorted facets array).
            failed = " + ".join(f"(NOT {flag})::int" for _n, flag in passes)
            slices = " ".join(
                f"WHEN NOT {flag} THEN d.facets[d.facet_starts[{n + 1}] : d.facet_starts[{n + 2}] - 1]"
                for n, flag in passes
            )
            columns += [f"{failed} AS failed", f"CASE WHEN {failed} = 0 THEN d.facets {slices} END AS keys"]
            if sort == "relevance":  # rank only the rows that pass every filter
                columns[1] = f"CASE WHEN {failed} = 0 THEN {_cheap_score(query)} END AS score"
            where.append(f"{failed} <= 1")
            kept = "failed = 0"
        else:
            where += [flag for _n, flag in passes]
            kept = "TRUE"
            if request.with_facets:
                columns.append("d.facets AS keys")

        order = _ORDER[sort]
        sql = [
            "WITH m AS MATERIALIZED (SELECT " + ", ".join(columns),
            " FROM search_document d WHERE " + " AND ".join(where) + "),",
            f" h AS (SELECT * FROM m WHERE {kept}),",
        ]
        if sort == "relevance":
            # The best RERANK_WINDOW by the cheap score, ranked again with every field; the rest after
            # them, by the cheap score.
            params["window"] = RERANK_WINDOW
            ordered = (
                " cand AS (SELECT record_id, score FROM h ORDER BY score DESC, record_id LIMIT :window),"
                f" ranked AS (SELECT d.record_id, 0 AS part, {_full_score(query)} AS score"
                " FROM cand JOIN search_document d ON d.record_id = cand.record_id),"
                " o AS (SELECT * FROM ranked"
            )
            if params["offset"] + params["limit"] > RERANK_WINDOW:
                ordered += (
                    " UNION ALL SELECT record_id, 1 AS part, score FROM"
                    " (SELECT record_id, score FROM h ORDER BY score DESC, record_id OFFSET :window) AS r"
                )
            sql.append(ordered + "),")
            source, order = "o", "part, score DESC, record_id"
        else:
            source = "h"
        sql.append(
            f" page AS (SELECT record_id, row_number() OVER (ORDER BY {order}) AS ord"
            f" FROM (SELECT * FROM {source} ORDER BY {order} LIMIT :limit OFFSET :offset) AS p)"
            " SELECT 0 AS kind, NULL AS k, record_id::bigint AS n, ord FROM page"
            " UNION ALL SELECT 1, NULL, count(*), 0 FROM h"
        )
        if request.with_facets:
            sql.append(
                " UNION ALL SELECT 2, k, count(*), 0 FROM (SELECT unnest(keys) AS k FROM m) AS u GROUP BY k"
            )

        rows = self._read(text("".join(sql)), params, MATCH_SETTINGS if query.match else None)
        return self._result(rows, request.with_facets)

    def _browse(self, request: SearchRequest, viewer: Viewer, sort: str, params: dict) -> BackendResult:
        """Everything visible, no filter: a page read in sort order from an index, and the total and
        facet counts from search_facet_count (plus the viewer's own documents it does not cover)."""
        if viewer.sees_unpublished:
            counted = "f.status <> 'withdrawn'"
        else:
            params["levels"] = sorted(viewer.levels)
            counted = "f.status = 'published' AND f.access_level = ANY(CAST(:levels AS text[]))"
        sql = [f"WITH c AS (SELECT f.key, f.documents AS n FROM search_facet_count f WHERE {counted}"]
        if viewer.user_id is not None and not viewer.sees_unpublished:
            params["user_id"] = viewer.user_id
            sql.append(
                f" UNION ALL SELECT k, 1 FROM search_document d, {_FACET_COUNTS_OF} AS k"
                " WHERE d.owner_id = :user_id AND d.status <> 'withdrawn'"
                " AND NOT (d.status = 'published' AND d.access_level = ANY(CAST(:levels AS text[])))"
            )
        order = _ORDER[sort]
        sql.append(
            f"), page AS (SELECT record_id, row_number() OVER (ORDER BY {order}) AS ord"
            f" FROM (SELECT d.record_id, {_SORT_COLUMN[sort]} FROM search_document d"
            f" WHERE {_visible(viewer, params)} ORDER BY {order} LIMIT :limit OFFSET :offset) AS p)"
            " SELECT 0 AS kind, NULL AS k, record_id::bigint AS n, ord FROM page"
            " UNION ALL SELECT 1, NULL, coalesce(sum(n), 0)::bigint, 0 FROM c WHERE key = ''"
        )
        if request.with_facets:
            sql.append(" UNION ALL SELECT 2, key, sum(n)::bigint, 0 FROM c WHERE key <> '' GROUP BY key")
        return self._result(self._read(text("".join(sql)), params), request.with_facets)

    @staticmethod
    def _result(rows, with_facets: bool) -> BackendResult:
        page: list[tuple[int, int]] = []
        total = 0
        facets: dict[str, dict[str, int]] = {facet: {} for facet in FACETS} if with_facets else {}
        for kind, key, n, ord_ in rows:
            if kind == 0:
                page.append((ord_, n))
            elif kind == 1:
                total = n
            elif n > 0:
                facets[FACETS[int(key[0])]][key[1:]] = n
        return BackendResult(tuple(rid for _ord, rid in sorted(page)), total, facets)

    def count(self, query: ParsedQuery, viewer: Viewer) -> int:
        q = _Query(query)
        if q.nothing:
            return 0
        params: dict = {}
        where = [_visible(viewer, params)]
        if q.match:
            params["q"] = q.match
            where.append(_MATCH)
        statement = text("SELECT count(*) FROM search_document d WHERE " + " AND ".join(where))
        return self._read(statement, params, MATCH_SETTINGS if q.match else None)[0][0]

    def similar_words(self, folded_word: str, limit: int = 5) -> list[str]:
        word = fold(folded_word or "")
        if not word or limit <= 0:
            return []
        # '%' (index-backed) compares with pg_trgm.similarity_threshold, set in the read's savepoint.
        statement = text(
            "SELECT word, documents, similarity(word, :w) AS sml FROM search_word"
            " WHERE word % :w AND word <> :w AND documents > 0"
            " ORDER BY sml DESC, documents DESC, word LIMIT :n"
        )
        candidates = self._read(
            statement,
            {"w": word, "n": SIMILAR_CANDIDATES},
            {"pg_trgm.similarity_threshold": str(SIMILARITY_THRESHOLD)},
        )
        # Best first: fewest edits, then most similar, then most used (the Whoosh backend ranks the same).
        ranked = sorted(
            (distance, -sml, -documents, w)
            for w, documents, sml in candidates
            if (distance := edit_distance(w, word)) <= MAX_EDIT_DISTANCE
        )
        return [w for _d, _s, _n, w in ranked[:limit]]

    def complete_titles(self, prefix: ParsedQuery, viewer: Viewer, limit: int = 8) -> list[int]:
        query = _Query(ParsedQuery(prefix.text, prefix.words, prefix_last=True))
        if not query.match or limit <= 0:
            return []
        # Titles that begin with the words typed first, then by ts_rank of the titles, then A-Z.
        params: dict = {"q": query.match, "limit": limit, "starts": query.starts}
        statement = text(
            "SELECT d.record_id FROM search_document d"
            f" WHERE {_visible(viewer, params)} AND ts_filter(d.head_fts, '{{a}}') @@ CAST(:q AS tsquery)"
            " ORDER BY (E'\\n' || d.titles_folded) LIKE :starts DESC,"
            " ts_rank(ts_filter(d.head_fts, '{a}'), CAST(:q AS tsquery)) DESC,"
            " d.title_sort = '', d.title_sort, d.record_id"
            " LIMIT :limit"
        )
        return [row[0] for row in self._read(statement, params, MATCH_SETTINGS)]


def _raise_if_missing(exc: DBAPIError) -> None:
    """Raise IndexUnavailable when *exc* says the search schema is missing."""
    if getattr(exc.orig, "sqlstate", None) in _MISSING:
        logger.warning("PostgreSQL search index unavailable: %s", exc.orig)
        raise IndexUnavailable("missing") from exc
