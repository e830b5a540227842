"""The Whoosh backend's fast word fields index exactly what its analyzer chains would."""

import datetime as dt
import os
from pathlib import Path

import pytest
from whoosh import index as windex

from archive.search.base import SearchDocument
from archive.search.whoosh_backend import (
    WhooshBackend,
    WordSet,
    _exact_analyzer,
    _fields,
    _folded_analyzer,
)

TEXTS = [
    "Lễ hội Lồng Tồng của người Tày ở Bắc Kạn",
    "LỄ CẤP SẮC (Pựt Tày) — đàn tính, then; Đắk Lắk / Buôn Ma Thuột",
    "mà ma má mả mã mạ",
    "New Rice Festival of the Ê Đê, recorded 1998-03-02 by a@b.vn",
    "Straße Æsir naïve ល្ខោន",
    "Hmong: Nplooj Siab, Tết H'Mông, Mèo Vạc",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_folded_word_set_is_the_folded_analyzer(text):
    analysed = {t.text for t in _folded_analyzer()(text)} - {""}
    indexed = {term.decode("utf-8") for term, *_rest in WordSet().index(text)}
    assert indexed == analysed
    assert bool(indexed) == bool(text)


@pytest.mark.parametrize("text", TEXTS)
def test_exact_word_set_is_the_exact_analyzer(text):
    analysed = {t.text for t in _exact_analyzer()(text)}
    indexed = {term.decode("utf-8") for term, *_rest in WordSet(exact=True).index(text)}
    assert indexed == analysed
    assert bool(indexed) == bool(text)


def test_word_sets_keep_each_word_once_without_frequencies():
    terms = WordSet().index("then Then THEN thén")
    assert terms == [(b"then", 1, 1.0, b"")]
    assert WordSet(exact=True).index("then Then thén THÉN") == [("thén".encode(), 1, 1.0, b"")]


def _document(n: int) -> SearchDocument:
    words = ["lễ", "hội", "xuống", "đồng", "then", "Tày", "Mông", "gầu", "tào", "khèn", "rice", "spring"]
    pick = [words[(n * k + k) % len(words)] for k in range(1, 7)]
    return SearchDocument(
        record_id=n,
        public_id=f"rec-{n}",
        status="published" if n % 3 else "draft",
        access_level=("public", "researchers", "community")[n % 3],
        owner_id=n % 2 or None,
        titles=(" ".join(pick[:3]).capitalize(), f"Record {n}"),
        names=("Tày", "Bắc Kạn") if n % 2 else ("Hmong", "Mèo", "Hà Giang"),
        subjects=(pick[3],),
        body=(" ".join(pick) + f" số {n}.",),
        media_text=("Ảnh minh họa",) if n % 4 == 0 else (),
        title_sort=f"record {n:03d}",
        sort_date=dt.date(1990 + n % 30, 1 + n % 12, 1) if n % 5 else None,
        facets={
            "ethnic_group": ("tay",) if n % 2 else ("hmong",),
            "decade": (f"{1990 + n % 30 // 10 * 10}",),
        },
    )


def _postings(directory) -> dict:
    ix = windex.open_dir(str(directory))
    with ix.reader() as reader:
        rids = {d: int(stored["rid"]) for d, stored in reader.iter_docs()}
        out = {}
        for fieldname, term in reader.all_terms():
            ids = reader.postings(fieldname, term).all_ids()
            out[fieldname, term] = sorted(rids[d] for d in ids)
        titles = {rids[d]: reader.doc_field_length(d, "title_f") for d in rids}
    return out, titles


def test_a_rebuilt_index_holds_the_postings_an_updated_one_does(tmp_path):
    """The bulk pool of a rebuild (archive.search.whoosh_backend.BulkPool) and Whoosh's own pool, used
    by updates, give the same terms, document sets and title lengths."""
    documents = [_document(n) for n in range(1, 301)]
    rebuilt = WhooshBackend(tmp_path / "rebuilt")
    assert rebuilt.rebuild(documents) == 300
    updated = WhooshBackend(tmp_path / "updated")
    updated.rebuild([])
    for start in range(0, 300, 100):  # several segments, merged by Whoosh's merge policy
        updated.upsert(documents[start : start + 100])
    bulk, bulk_titles = _postings(rebuilt._current_dir())
    pooled, pooled_titles = _postings(updated._current_dir())
    assert len(bulk) > 500
    # Posting lists longer than two of Whoosh's 128-posting blocks, and short ones stored inline.
    assert max(map(len, bulk.values())) == 300 and min(map(len, bulk.values())) == 1
    assert bulk == pooled
    assert bulk_titles == pooled_titles
    assert set(bulk_titles.values()) >= {4, 5}  # distinct title words: three picked words, "record", n


def test_a_large_rebuild_writes_in_a_second_process_with_the_same_result(tmp_path):
    documents = [_document(n) for n in range(1, 121)]
    here = WhooshBackend(tmp_path / "here")
    assert here.rebuild(documents) == 120
    spawned = WhooshBackend(tmp_path / "spawned")
    spawned.PARALLEL_FROM, spawned.BATCH = 30, 7  # the process path, with a partial last batch
    assert spawned.rebuild(iter(documents)) == 120
    assert _postings(spawned._current_dir()) == _postings(here._current_dir())
    assert spawned.document_count() == 120


def test_a_rebuild_that_fails_midway_leaves_the_live_index_and_no_process(tmp_path):
    backend = WhooshBackend(tmp_path)
    backend.rebuild([_document(1)])
    live = backend._current_dir()
    backend.PARALLEL_FROM, backend.BATCH = 10, 5

    def failing():
        for n in range(1, 40):
            if n == 27:
                raise OSError("the database went away")
            yield _document(n)

    with pytest.raises(OSError, match="went away"):
        backend.rebuild(failing())
    assert backend._current_dir() == live
    assert [p.name for p in tmp_path.glob("index-*")] == [live.name]
    assert backend.document_count() == 1
    assert _children() == []


def test_a_writing_process_that_fails_is_reported(tmp_path):
    backend = WhooshBackend(tmp_path)
    with pytest.raises(
        RuntimeError, match=r"index writing process failed \(1\).*(No such file|EmptyIndex|exist)"
    ):
        backend._write_in_process(tmp_path / "gone" / "index", [_fields(_document(1))], iter([_document(2)]))
    assert _children() == []


def _children() -> list[int]:
    """Processes whose parent is this one (still running or not yet reaped)."""
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(os.getpid()):
            out.append(int(status.parent.name))
    return out


def test_similar_words_come_from_every_segment(tmp_path):
    backend = WhooshBackend(tmp_path)
    backend.rebuild([_document(n) for n in range(1, 40)])
    later = _document(40)
    later = SearchDocument(**{**later.__dict__, "titles": ("Lễ hội cầu mùa của người Giáy",)})
    backend.upsert([later])  # a second segment, as after any update
    assert len(_leaves_of(backend)) == 2
    assert "giay" in backend.similar_words("giayy")  # only in the new segment
    assert "spring" in backend.similar_words("sprinng")  # only in the first one
    assert backend.similar_words("giayy") == backend.similar_words("giayy")  # remembered per segment


def _leaves_of(backend):
    searcher, _generation = backend._searcher()
    reader = searcher.reader()
    return [reader] if reader.is_atomic() else list(reader.leaf_readers())
