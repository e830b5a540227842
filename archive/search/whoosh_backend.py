"""The embedded search backend: a Whoosh index in a directory of the data dir.

Layout: ``<SEARCH_DIR>/CURRENT`` names the live index directory (``index-<timestamp>-<random>``). A
rebuild writes a new directory and then replaces CURRENT atomically, so searches keep answering from
the old index until the new one is complete. Only the single index writer (the ``search.sync`` and
``search.rebuild`` jobs, serialised by a queue lock) ever writes.

Whoosh holds the inverted index (weighted, folded fields), the lexicon for "did you mean" and the
columns for sorting. Everything that must be computed over *all* matches (the access filter, facet
filters, facet counts, totals, sorting, ranking) is done with bitmaps (Python ints, one bit per document
number): the document set of each facet value and access class is read once per index generation, the
set of each query word is the union of its posting lists in the text fields, and counting is
``(a & b).bit_count()``. Ranking is BM25F without term frequencies: per query word, the weight of the
best field holding it (and of an exact accented match), times the word's inverse document frequency,
computed on those bitmaps class by class (see ``WhooshBackend._tiered``); scoring every match through
Whoosh's matchers in Python was 10-50 times slower on broad queries (docs/benchmarks.md).
"""

from __future__ import annotations

import heapq
import io
import itertools
import logging
import math
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from array import array
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

from whoosh import index as windex
from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer
from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter
from whoosh.fields import ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.filedb.structfile import StructFile
from whoosh.formats import Existence

from archive.search.base import (
    FACETS,
    BackendResult,
    IndexUnavailable,
    ParsedQuery,
    SearchDocument,
    SearchRequest,
    Viewer,
)
from metadata.text import edit_distance, fold_word

logger = logging.getLogger(__name__)

POINTER = "CURRENT"
#: Query-time weights of the folded text fields (titles > names > subjects > body > media text).
FIELD_WEIGHTS = {"title_f": 8.0, "names_f": 4.0, "subjects_f": 2.5, "body_f": 1.0, "media_f": 0.4}
#: The folded text fields: a query word matches when it is in any of them.
TEXT_FIELDS = tuple(FIELD_WEIGHTS)
#: Weight of an exact (diacritics as typed) match of a query word that carries diacritics: above any
#: field weight, because in Vietnamese the marks make another word (mà 'but', ma 'ghost', má 'mother').
EXACT_WEIGHT = 40.0
#: The most index words one prefix expands to.
MAX_PREFIX_TERMS = 300
#: Queries of at most this many words are ranked by enumerating their classes (WhooshBackend._tiered);
#: longer ones by scoring each match.
MAX_CLASS_WORDS = 3
#: Word bitmaps kept per index generation (posting lists read again otherwise).
WORD_CACHE_SIZE = 1024


#: Folding the same syllable again and again is most of the analysis time: the folded forms are remembered.
_fold = fold_word


_WORD = re.compile(r"\w+")


class FoldFilter(Filter):
    """Fold each token: lower case, no diacritics or tones, đ -> d (the same fold as queries)."""

    def __call__(self, tokens):
        for token in tokens:
            token.text = _fold(token.text)
            yield token


class AccentedOnlyFilter(Filter):
    """Keep only the tokens whose folded form differs (words typed with diacritics): the exact field
    exists to rank exact matches of accented query words, so other words need not be stored twice."""

    def __call__(self, tokens):
        for token in tokens:
            if _fold(token.text) != token.text:
                yield token


def _folded_analyzer():
    return RegexTokenizer(r"\w+") | FoldFilter()


def _exact_analyzer():
    return RegexTokenizer(r"\w+") | LowercaseFilter() | AccentedOnlyFilter()


class WordSet(TEXT):
    """A text field holding the set of a value's words: folded (or, for the exact field, the lower-case
    words that carry diacritics), each once, without term frequencies and, unless *scorable*, without
    field lengths. Ranking uses neither (see ``WhooshBackend._tiered``).

    ``index`` gives what the field's analyzer (``_folded_analyzer`` or ``_exact_analyzer``) gives, but
    with one ``re.findall`` instead of a Token object per word: through the analyzer chain, analysis
    and the per-posting length lookups were 60 % of a full reindex (docs/benchmarks.md)."""

    def __init__(self, exact: bool = False, scorable: bool = False) -> None:
        super().__init__(analyzer=_exact_analyzer() if exact else _folded_analyzer(), phrase=False)
        self.format = Existence()
        self.scorable = scorable
        self.exact = exact

    def index(self, value, **kwargs):
        words = _WORD.findall(value)
        if self.exact:
            keys = {w for w in map(str.lower, words) if _fold(w) != w}
        else:
            keys = set(map(_fold, words))
            keys.discard("")
        return [(w.encode("utf-8"), 1, 1.0, b"") for w in keys]


class Codec(W3Codec):
    """Whoosh's default codec without per-posting length statistics. Whoosh reads a document's field
    length for every posting it writes (with a stat() call per posting for fields without lengths), only
    to bound BM25 scores per block, which the ranking here does not use."""

    length_stats = False

    def field_writer(self, storage, segment):
        return FieldWriter(self, storage, segment)


class BulkPool:
    """The postings of a full rebuild, held as an array of document numbers per (field, word).

    Stands in for the ``pool`` of Whoosh's SegmentWriter when a new index is written in one go: Whoosh's
    own pool keeps a tuple per posting, estimates its size, sorts and spills runs to disk, which took a
    quarter of a full reindex. Documents arrive in document-number order, so each array is sorted already.
    Postings with a weight or value (fields not made of WordSet or ``Existence`` terms) are kept whole."""

    def __init__(self) -> None:
        self._plain: dict[tuple[str, bytes], array] = {}
        self._other: dict[tuple[str, bytes], list[tuple[int, float, bytes]]] = {}
        self.fieldnames: set[str] = set()

    def add(self, item) -> None:
        fieldname, tbytes, docnum, weight, vbytes = item
        key = (fieldname, tbytes)
        if weight == 1.0 and not vbytes:
            ids = self._plain.get(key)
            if ids is None:
                ids = self._plain[key] = array("I")
                self.fieldnames.add(fieldname)
            ids.append(docnum)
        else:
            self._other.setdefault(key, []).append((docnum, weight, vbytes))
            self.fieldnames.add(fieldname)

    def iter_postings(self) -> BulkPostings:
        return BulkPostings(self)

    def cleanup(self) -> None:
        self._plain.clear()
        self._other.clear()


class BulkPostings:
    """The postings of a BulkPool in (field, word, document) order: iterated as Whoosh's tuples by any
    field writer, or term by term by ``FieldWriter`` (whole arrays of document numbers at a time)."""

    def __init__(self, pool: BulkPool) -> None:
        self.pool = pool

    def terms(self):
        """(field, word, plain document numbers, or None and the sorted full postings) per term."""
        plain_of, other_of = self.pool._plain, self.pool._other
        for key in sorted(plain_of.keys() | other_of.keys()):
            plain = plain_of.get(key, ())
            other = other_of.get(key)
            if other:
                yield key[0], key[1], None, sorted([(d, 1.0, b"") for d in plain] + other)
            else:
                yield key[0], key[1], plain, None

    def __iter__(self):
        for fieldname, tbytes, plain, full in self.terms():
            if full is None:
                for docnum in plain:
                    yield fieldname, tbytes, docnum, 1.0, b""
            else:
                for docnum, weight, vbytes in full:
                    yield fieldname, tbytes, docnum, weight, vbytes


class FieldWriter(W3FieldWriter):
    """Whoosh's W3 field writer, taking a rebuild's postings (BulkPostings) a term at a time: the block
    buffers of the postings writer are filled by slices instead of one ``add()`` call per posting, the
    largest remaining cost of a full reindex. Blocks come out as ``add_posting`` would make them
    (weight 1.0, no values, no lengths); tests compare the result with Whoosh's own path."""

    def add_postings(self, schema, lengths, items) -> None:
        if not isinstance(items, BulkPostings):
            return super().add_postings(schema, lengths, items)
        ones = array("f", [1.0])
        lastfn = None
        for fieldname, tbytes, plain, full in items.terms():
            if fieldname != lastfn:
                if lastfn is not None:
                    self.finish_field()
                self.start_field(fieldname, schema[fieldname])
                lastfn = fieldname
            self.start_term(tbytes)
            if full is not None:
                for docnum, weight, vbytes in full:
                    self.add(docnum, weight, vbytes, 0)
            else:
                writer = self._postwriter
                limit = writer._blocklimit
                done, total = 0, len(plain)
                while done < total:
                    if len(writer._ids) >= limit:
                        writer._write_block()
                    chunk = plain[done : done + limit - len(writer._ids)]
                    writer._ids.extend(chunk)
                    writer._weights.extend(ones * len(chunk))
                    writer._maxweight = max(writer._maxweight, 1.0)
                    done += len(chunk)
            self.finish_term()
        if lastfn is not None:
            self.finish_field()
        return None


def _writer(ix, **kwargs):
    return ix.writer(codec=Codec(), **kwargs)


def _write_index(path: str, batches: Iterable[list[dict]]) -> int:
    """Write a new index at *path* from batches of field dicts (``_fields``); returns the document count."""
    ix = windex.create_in(path, make_schema())
    writer = _writer(ix)
    writer.pool = BulkPool()
    n = 0
    try:
        for batch in batches:
            for fields in batch:
                writer.add_document(**fields)
            n += len(batch)
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    return n


def make_schema() -> Schema:
    fields = {
        "rid": ID(stored=True, unique=True),
        # Title lengths (in distinct words) break ties in ranking: shorter titles first.
        "title_f": WordSet(scorable=True),
        "names_f": WordSet(),
        "subjects_f": WordSet(),
        "body_f": WordSet(),
        "media_f": WordSet(),
        # The words with diacritics of every text value, as written (lower case), for the bonus of exact
        # matches of accented query words.
        "exact": WordSet(exact=True),
        "status": ID(),
        "level": ID(),
        "owner": ID(),
        "title_sort": ID(sortable=True),
        "sort_date": NUMERIC(int, bits=32, sortable=True, default=0),
    }
    for facet in FACETS:
        keyword = KEYWORD(commas=True, lowercase=False, scorable=False)
        keyword.format = Existence()  # document sets only (as in the ID fields)
        fields[f"f_{facet}"] = keyword
    return Schema(**fields)


def _fields(doc: SearchDocument) -> dict:
    def join(values: Iterable[str]) -> str:
        return "\n".join(v for v in values if v)

    every = (*doc.titles, *doc.names, *doc.subjects, *doc.body, *doc.media_text)
    out = {
        "rid": str(doc.record_id),
        "title_f": join(doc.titles),
        "names_f": join(doc.names),
        "subjects_f": join(doc.subjects),
        "body_f": join(doc.body),
        "media_f": join(doc.media_text),
        "exact": join(every),
        "status": doc.status,
        "level": doc.access_level,
        "owner": str(doc.owner_id) if doc.owner_id is not None else "",
        "title_sort": doc.title_sort or "",
        "sort_date": doc.sort_date.toordinal() if doc.sort_date else 0,
    }
    for facet in FACETS:
        values = doc.facets.get(facet, ())
        if values:
            out[f"f_{facet}"] = ",".join(values)
    return {k: v for k, v in out.items() if v != ""}


# --- bitmaps -------------------------------------------------------------------------------------

_BITS = [tuple(j for j in range(8) if b >> j & 1) for b in range(256)]


def ids_to_bits(ids: Iterable[int], size: int) -> int:
    buf = bytearray((size + 7) // 8)
    for d in ids:
        buf[d >> 3] |= 1 << (d & 7)
    return int.from_bytes(buf, "little")


def bits_to_ids(bits: int, size: int) -> list[int]:
    out: list[int] = []
    if not bits:
        return out
    data = bits.to_bytes((size + 7) // 8, "little")
    extend = out.extend
    for i, byte in enumerate(data):
        if byte:
            base = i << 3
            extend([base + j for j in _BITS[byte]])
    return out


class Generation:
    """What is derived from one index generation: bitmaps of facets and access, sort orders, word sets.

    Shared by every thread's searcher of the same generation (document numbers are the same)."""

    def __init__(self, searcher) -> None:
        reader = searcher.reader()
        self.size = reader.doc_count_all()
        self.count = reader.doc_count()
        self._lock = threading.Lock()
        self._words: OrderedDict[tuple[str, str], int] = OrderedDict()
        # Facet and access bitmaps are read per segment and cached by segment: after an update only the
        # new, small segment is read (an index change must be searchable within a second or two).
        merged: dict[tuple[str, str], int] = {}
        leaves = _leaves(reader)
        # Live documents, leaf by leaf: all of a leaf's numbers but its deleted ones (asking is_deleted()
        # for each of 100,000 documents took most of a second after every update).
        self.live = 0
        for leaf, offset in leaves:
            n = leaf.doc_count_all()
            bits = (1 << n) - 1
            if leaf.has_deletions():
                bits &= ~ids_to_bits(leaf.deleted_docs_set, n)
            self.live |= bits << offset
        for leaf, offset in leaves:
            for key, bits in _segment_bits(leaf).items():
                merged[key] = merged.get(key, 0) | (bits << offset)
        self.facets: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
        for (field, term), bits in merged.items():
            if field.startswith("f_"):
                self.facets[field[2:]][term] = bits & self.live
        self.published = merged.get(("status", "published"), 0) & self.live
        self.levels = {term: bits & self.live for (field, term), bits in merged.items() if field == "level"}
        lengths: list[int] = []
        for leaf, _offset in leaves:
            lengths.extend(_segment_title_lengths(leaf))
        self._title_lengths = lengths
        self._owners: dict[int, int] = {}
        self._orders: dict[str, list[int]] = {}

    def _term_bits(self, reader, field: str, term: str) -> int:
        if (field, term) not in reader:
            return 0
        return ids_to_bits(reader.postings(field, term).all_ids(), self.size) & self.live

    def word_bits(self, reader, fields: tuple[str, ...], word: str, prefix: bool) -> int:
        """Documents holding *word* (or a word it is a prefix of) in any of *fields*."""
        key = (fields, word + ("*" if prefix else ""))
        with self._lock:
            if key in self._words:
                self._words.move_to_end(key)
                return self._words[key]
        bits = 0
        for field in fields:
            if prefix:
                for n, term in enumerate(reader.expand_prefix(field, word)):
                    if n >= MAX_PREFIX_TERMS:
                        break
                    bits |= self._term_bits(reader, field, _text(term))
            else:
                bits |= self._term_bits(reader, field, word)
        with self._lock:
            self._words[key] = bits
            while len(self._words) > WORD_CACHE_SIZE:
                self._words.popitem(last=False)
        return bits

    def visible(self, reader, viewer: Viewer) -> int:
        if viewer.sees_unpublished:
            return self.live
        bits = 0
        for level in viewer.levels:
            bits |= self.levels.get(level, 0)
        bits &= self.published
        if viewer.user_id is not None:
            bits |= self.owned(reader, viewer.user_id)
        return bits

    def owned(self, reader, user_id: int) -> int:
        with self._lock:
            if user_id in self._owners:
                return self._owners[user_id]
        bits = self._term_bits(reader, "owner", str(user_id))
        with self._lock:
            self._owners[user_id] = bits
        return bits

    def title_lengths(self, reader) -> list[int]:
        """Number of title words of every document."""
        return self._title_lengths

    def order(self, searcher, sort: str) -> list[int]:
        """rank[docnum] for a sort order (lower comes first)."""
        with self._lock:
            if sort in self._orders:
                return self._orders[sort]
        reader = searcher.reader()
        docs = list(reader.all_doc_ids())
        if sort == "title":
            column = reader.column_reader("title_sort")
            docs.sort(key=lambda d: (column[d] or "\uffff", d))
        else:
            column = reader.column_reader("sort_date")
            sign = -1 if sort == "date_desc" else 1
            docs.sort(key=lambda d: (column[d] == 0, sign * column[d], d))
        rank = [len(docs)] * self.size
        for position, docnum in enumerate(docs):
            rank[docnum] = position
        with self._lock:
            self._orders[sort] = rank
        return rank


#: Per-segment bitmaps and title lengths, by segment id (segments never change once written, except
#: for deletions, which the generation's live bitmap takes care of).
_SEGMENTS: OrderedDict[str, tuple[dict[tuple[str, str], int], list[int]]] = OrderedDict()
_SEGMENTS_LOCK = threading.Lock()
_SEGMENTS_KEPT = 64


def _leaves(reader) -> list[tuple[object, int]]:
    """(segment reader, first document number) of each segment of *reader*."""
    return [(reader, 0)] if reader.is_atomic() else list(reader.leaf_readers())


_SUGGESTIONS: OrderedDict[tuple[str, str], frozenset[str]] = OrderedDict()
_SUGGESTIONS_KEPT = 4096


def _segment_suggestions(leaf, word: str) -> frozenset[str]:
    """Words of one segment's text fields within two edits of *word* (at most 20 per field)."""
    segment = leaf.segment()
    key = (segment.segment_id(), word) if segment is not None else None
    if key is not None:
        with _SEGMENTS_LOCK:
            if key in _SUGGESTIONS:
                _SUGGESTIONS.move_to_end(key)
                return _SUGGESTIONS[key]
    found: set[str] = set()
    fields = set(leaf.indexed_field_names())
    for field in TEXT_FIELDS:
        if field in fields:
            found.update(leaf.corrector(field).suggest(word, limit=20, maxdist=2))
    result = frozenset(found)
    if key is not None:
        with _SEGMENTS_LOCK:
            _SUGGESTIONS[key] = result
            while len(_SUGGESTIONS) > _SUGGESTIONS_KEPT:
                _SUGGESTIONS.popitem(last=False)
    return result


def _segment_cached(leaf) -> tuple[dict[tuple[str, str], int], list[int]]:
    segment = leaf.segment()
    if segment is None:  # an index without any document yet
        return {}, [0] * leaf.doc_count_all()
    # Segment ids are random per segment, so they are unique across index directories too.
    key = segment.segment_id()
    with _SEGMENTS_LOCK:
        if key in _SEGMENTS:
            _SEGMENTS.move_to_end(key)
            return _SEGMENTS[key]
    size = leaf.doc_count_all()
    bits: dict[tuple[str, str], int] = {}
    for field in [f"f_{facet}" for facet in FACETS] + ["status", "level"]:
        for term in _lexicon(leaf, field):
            bits[field, term] = ids_to_bits(leaf.postings(field, term).all_ids(), size)
    lengths = [leaf.doc_field_length(docnum, "title_f", 0) for docnum in range(size)]
    with _SEGMENTS_LOCK:
        _SEGMENTS[key] = (bits, lengths)
        while len(_SEGMENTS) > _SEGMENTS_KEPT:
            _SEGMENTS.popitem(last=False)
    return bits, lengths


def _segment_bits(leaf) -> dict[tuple[str, str], int]:
    return _segment_cached(leaf)[0]


def _segment_title_lengths(leaf) -> list[int]:
    return _segment_cached(leaf)[1]


def _close_files_of(exc: BaseException) -> None:
    """Close the files Whoosh opened in the frames of a failed read (it leaves, for instance, the file of
    a table of contents it could not parse open), so a damaged index does not leak descriptors."""
    tb = exc.__traceback__
    while tb is not None:
        for value in list(tb.tb_frame.f_locals.values()):
            if isinstance(value, StructFile | io.IOBase):
                try:
                    value.close()
                except Exception:  # noqa: BLE001 - best effort on an already failed read
                    pass
        tb = tb.tb_next


def _lexicon(reader, field: str) -> list[str]:
    try:
        return [_text(t) for t in reader.lexicon(field)]
    except KeyError:
        return []


def _text(term) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


class WhooshBackend:
    """The Whoosh implementation of archive.search.base.SearchBackend."""

    name = "whoosh"

    _local = threading.local()
    _generations: dict[tuple[str, int], Generation] = {}
    _generations_lock = threading.Lock()

    def __init__(self, directory: str | os.PathLike) -> None:
        self.root = Path(directory)

    # --- locating and opening -----------------------------------------------------------------

    def _current_dir(self) -> Path:
        try:
            name = (self.root / POINTER).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise IndexUnavailable("missing") from None
        path = self.root / name
        if not name or "/" in name or not path.is_dir():
            raise IndexUnavailable("missing")
        return path

    def _open(self):
        path = self._current_dir()
        try:
            return windex.open_dir(str(path))
        except Exception as exc:  # noqa: BLE001 - any failure to read the index means it is unusable
            logger.warning("search index at %s cannot be opened: %s", path, repr(exc))
            _close_files_of(exc)
            raise IndexUnavailable("corrupt") from None

    def _searcher(self):
        """This thread's searcher on the current index, refreshed when the index has changed."""
        path = self._current_dir()
        cached = getattr(self._local, "searchers", {}).get(str(self.root))
        try:
            if cached is not None and cached[0] == path and cached[1].up_to_date():
                searcher = cached[1]
            else:
                # A new searcher rather than Searcher.refresh(): a refreshed searcher's reused segment
                # readers make later update_document() calls in this process miss their deletions.
                if cached is not None:
                    cached[1].close()
                searcher = self._open().searcher()
            if not hasattr(self._local, "searchers"):
                self._local.searchers = {}
            self._local.searchers[str(self.root)] = (path, searcher)
            key = (str(path), searcher.reader().generation())
            with self._generations_lock:
                generation = self._generations.get(key)
            if generation is None:
                generation = Generation(searcher)
                with self._generations_lock:
                    for old in [k for k in self._generations if k[0] == key[0] or not Path(k[0]).exists()]:
                        del self._generations[old]
                    self._generations[key] = generation
            return searcher, generation
        except IndexUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - a damaged segment surfaces on first read
            self._forget()
            logger.warning("search index at %s cannot be read: %s", path, repr(exc))
            _close_files_of(exc)
            raise IndexUnavailable("corrupt") from None

    def _forget(self) -> None:
        searchers = getattr(self._local, "searchers", {})
        cached = searchers.pop(str(self.root), None)
        if cached is not None:
            try:
                cached[1].close()
            except Exception:  # noqa: BLE001
                pass

    def is_available(self) -> bool:
        try:
            self._searcher()
        except IndexUnavailable:
            return False
        return True

    def document_count(self) -> int:
        return self._searcher()[1].count

    # --- writing ------------------------------------------------------------------------------

    def upsert(self, documents: Iterable[SearchDocument]) -> int:
        ix = self._open()
        writer = _writer(ix, limitmb=128)
        n = 0
        try:
            for doc in documents:
                writer.update_document(**_fields(doc))
                n += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return n

    def delete(self, record_ids: Iterable[int]) -> None:
        ids = [str(i) for i in record_ids]
        if not ids:
            return
        ix = self._open()
        writer = _writer(ix)
        for rid in ids:
            writer.delete_by_term("rid", rid)
        writer.commit()

    #: A rebuild of more documents than this writes the index in a second process while this one builds
    #: the documents from the database (both are pure Python, each about half of the work).
    PARALLEL_FROM = 5000
    #: Documents sent to the writing process at a time.
    BATCH = 250

    def rebuild(self, documents: Iterable[SearchDocument]) -> int:
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"index-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        path = self.root / name
        path.mkdir()
        try:
            documents = iter(documents)
            first = [_fields(doc) for doc in itertools.islice(documents, self.PARALLEL_FROM)]
            if len(first) < self.PARALLEL_FROM:
                n = _write_index(str(path), [first])
            else:
                n = self._write_in_process(path, first, documents)
            tmp = self.root / f".{POINTER}.{uuid.uuid4().hex[:8]}"
            tmp.write_text(name, encoding="utf-8")
            os.replace(tmp, self.root / POINTER)
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        self._remove_old(keep=name)
        return n

    def _write_in_process(self, path: Path, first: list[dict], rest: Iterable[SearchDocument]) -> int:
        """Write the index in a child Python (``python -m archive.search.whoosh_backend PATH``), sending it
        pickled batches of documents on its standard input as they are built here; the pipe's buffer keeps
        the two in step. A new interpreter rather than fork: the worker that rebuilds is threaded."""
        with tempfile.TemporaryFile() as errors:
            process = subprocess.Popen(  # noqa: S603 - our own module, run by this interpreter
                [sys.executable, "-m", __name__, str(path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
            )
            try:
                try:
                    for start in range(0, len(first), self.BATCH):
                        pickle.dump(first[start : start + self.BATCH], process.stdin)
                    first.clear()
                    while batch := [_fields(doc) for doc in itertools.islice(rest, self.BATCH)]:
                        pickle.dump(batch, process.stdin)
                    pickle.dump(None, process.stdin)
                    process.stdin.close()
                except BrokenPipeError:
                    pass  # the child failed: its exit code and message say why
                output = process.stdout.read()
                code = process.wait()
            finally:
                if process.poll() is None:  # an error on this side: the child waits for more batches
                    process.kill()
                    process.wait()
                for stream in (process.stdin, process.stdout):
                    if not stream.closed:
                        try:
                            stream.close()
                        except BrokenPipeError:
                            pass
            if code != 0:
                errors.seek(0)
                message = errors.read().decode("utf-8", "replace").strip().splitlines()
                raise RuntimeError(f"the index writing process failed ({code}): {message[-1:] or ''}")
        return int(output)

    def _remove_old(self, keep: str, grace_seconds: float = 600) -> None:
        """Remove index directories other than the live one, once no process can still be reading them."""
        now = time.time()
        for child in self.root.iterdir():
            if child.is_dir() and child.name.startswith("index-") and child.name != keep:
                if now - child.stat().st_mtime > grace_seconds:
                    shutil.rmtree(child, ignore_errors=True)

    # --- reading ------------------------------------------------------------------------------

    def _matched(
        self, searcher, gen: Generation, query: ParsedQuery, fields: tuple[str, ...] = TEXT_FIELDS
    ) -> int:
        if query.is_empty:
            return gen.live
        reader = searcher.reader()
        bits = gen.live
        last = len(query.words) - 1
        for i, word in enumerate(query.words):
            bits &= gen.word_bits(reader, fields, word.folded, prefix=query.prefix_last and i == last)
            if not bits:
                break
        return bits

    def _filters(self, gen: Generation, filters: dict[str, tuple[str, ...]]) -> dict[str, int]:
        out = {}
        for facet, values in filters.items():
            if not values:
                continue
            bits = 0
            for value in values:
                bits |= gen.facets.get(facet, {}).get(value, 0)
            out[facet] = bits
        return out

    def search(self, request: SearchRequest, viewer: Viewer) -> BackendResult:
        searcher, gen = self._searcher()
        try:
            base = self._matched(searcher, gen, request.query) & gen.visible(searcher.reader(), viewer)
            filters = self._filters(gen, request.filters)
            final = base
            for bits in filters.values():
                final &= bits
            total = final.bit_count()
            facets: dict[str, dict[str, int]] = {}
            if request.with_facets:
                for facet in FACETS:
                    scope = base
                    for other, bits in filters.items():
                        if other != facet:
                            scope &= bits
                    counts = {}
                    if scope:
                        for value, bits in gen.facets[facet].items():
                            n = (scope & bits).bit_count()
                            if n:
                                counts[value] = n
                    facets[facet] = counts
            wanted = request.offset + request.limit
            if not total or request.offset >= total:
                docnums: list[int] = []
            elif request.sort == "relevance" and not request.query.is_empty:
                docnums = self._ranked(searcher, gen, request.query, final, total, wanted)
            else:
                sort = request.sort if request.sort != "relevance" else "date_desc"
                rank = gen.order(searcher, sort)
                docnums = heapq.nsmallest(wanted, bits_to_ids(final, gen.size), key=rank.__getitem__)
            docnums = docnums[request.offset : wanted]
            ids = tuple(int(searcher.stored_fields(d)["rid"]) for d in docnums)
        except IndexUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - a damaged segment surfaces on first read
            self._forget()
            logger.warning("search index read failed: %s", repr(exc))
            _close_files_of(exc)
            raise IndexUnavailable("corrupt") from None
        return BackendResult(record_ids=ids, total=total, facets=facets)

    def _ranked(self, searcher, gen: Generation, query: ParsedQuery, final: int, total: int, wanted: int):
        return self._tiered(searcher, gen, query, final, wanted)

    def _tiered(self, searcher, gen: Generation, query: ParsedQuery, final: int, wanted: int) -> list[int]:
        """Rank the matches without scoring each one in Whoosh (too slow in Python on large sets).

        Each document gets, per query word, the weight of the best field holding the word (plus the
        exact-accent weight), times the word's inverse document frequency: BM25F without term frequencies.
        Documents with the same sum form a class; classes are bitmaps, combined best first until the page
        is full. Within a class, shorter titles come first (the length norm of BM25), then index order."""
        reader = searcher.reader()
        per_word = []
        for word in query.words:
            df = gen.word_bits(reader, TEXT_FIELDS, word.folded, False).bit_count()
            idf = math.log(1 + (gen.count - df + 0.5) / (df + 0.5))
            parts, covered = [], 0
            for field, weight in FIELD_WEIGHTS.items():
                bits = gen.word_bits(reader, (field,), word.folded, False) & ~covered & final
                covered |= bits
                if bits:
                    parts.append((weight, bits))
            if word.has_diacritics:
                exact = gen.word_bits(reader, ("exact",), word.exact, False)
                split = [(w + EXACT_WEIGHT, b & exact) for w, b in parts]
                parts = [(w, b) for w, b in split + [(w, b & ~exact) for w, b in parts] if b]
            per_word.append([(idf * w, b) for w, b in parts])
        lengths = gen.title_lengths(reader)
        if len(per_word) > MAX_CLASS_WORDS:
            # Too many words to enumerate their classes: score each match (the set is small, as every
            # word must match) with the same weights, through sets of document numbers.
            sets = [[(w, set(bits_to_ids(b, gen.size))) for w, b in parts] for parts in per_word]

            def score(d: int) -> float:
                return sum(next((w for w, members in parts if d in members), 0.0) for parts in sets)

            ids = bits_to_ids(final, gen.size)
            return heapq.nsmallest(wanted, ids, key=lambda d: (-score(d), lengths[d], d))
        combos = sorted(itertools.product(*per_word), key=lambda c: -sum(w for w, _ in c))
        found: list[int] = []
        for combo in combos:
            bits = final
            for _w, part in combo:
                bits &= part
                if not bits:
                    break
            if bits:
                ids = bits_to_ids(bits, gen.size)
                need = wanted - len(found)
                found += heapq.nsmallest(need, ids, key=lambda d: (lengths[d], d))
                if len(found) >= wanted:
                    break
        return found

    def count(self, query: ParsedQuery, viewer: Viewer) -> int:
        searcher, gen = self._searcher()
        return (self._matched(searcher, gen, query) & gen.visible(searcher.reader(), viewer)).bit_count()

    def similar_words(self, folded_word: str, limit: int = 5) -> list[str]:
        searcher, _ = self._searcher()
        reader = searcher.reader()
        candidates: set[str] = set()
        # Segment by segment: a segment's reader finds words within an edit distance by walking its
        # sorted word list with an automaton, while a reader of several segments (any index that has
        # been updated since its last rebuild) computes the distance to every word (13 s at 100,000
        # records against 0.4 s).
        # Segments never change once written, so their suggestions are remembered: after an update only
        # the new, small segment is searched.
        for leaf, _offset in _leaves(reader):
            candidates.update(_segment_suggestions(leaf, folded_word))
        candidates.discard(folded_word)

        def frequency(word: str) -> int:
            return sum(reader.doc_frequency(field, word) for field in TEXT_FIELDS)

        ranked = sorted(candidates, key=lambda w: (edit_distance(w, folded_word), -frequency(w), w))
        return ranked[:limit]

    def complete_titles(self, prefix: ParsedQuery, viewer: Viewer, limit: int = 8) -> list[int]:
        if prefix.is_empty:
            return []
        searcher, gen = self._searcher()
        bits = self._matched(searcher, gen, prefix, ("title_f",)) & gen.visible(searcher.reader(), viewer)
        rank = gen.order(searcher, "title")
        docnums = heapq.nsmallest(limit, bits_to_ids(bits, gen.size), key=rank.__getitem__)
        return [int(searcher.stored_fields(d)["rid"]) for d in docnums]


def _main(argv: list[str]) -> int:
    """``python -m archive.search.whoosh_backend PATH``: a rebuild's writing process (see
    ``WhooshBackend._write_in_process``). Reads pickled batches of field dicts from standard input until
    None, writes the index at PATH and prints the number of documents."""
    source = sys.stdin.buffer

    def batches():
        while (batch := pickle.load(source)) is not None:  # noqa: S301 - from the parent process
            yield batch

    print(_write_index(argv[1], batches()), flush=True)
    return 0


if __name__ == "__main__":
    # Through the module's own name, so the schema pickled into the index names
    # archive.search.whoosh_backend's classes rather than __main__'s.
    from archive.search import whoosh_backend

    sys.exit(whoosh_backend._main(sys.argv))
