"""The PostgreSQL search backend on its own: documents written directly, queries parsed here.

Every test replaces the index inside the test's transaction (rolled back afterwards), so the demo index
the session fixture committed is left as it was.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
import sqlalchemy as sa

from archive.search import postgres
from archive.search.base import (
    ANONYMOUS,
    FACETS,
    IndexUnavailable,
    ParsedQuery,
    QueryWord,
    SearchDocument,
    SearchRequest,
    Viewer,
)
from archive.search.postgres import PostgresBackend, is_search_schema_object
from metadata.text import fold, words
from tests.conftest import ON_POSTGRES

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not ON_POSTGRES, reason="needs ARCHIVE_TEST_DATABASE_URL on PostgreSQL"),
]

RESEARCHER = Viewer(frozenset({"public", "researchers"}))
COMMUNITY = Viewer(frozenset({"public", "community"}))
CURATOR = Viewer(frozenset({"public", "researchers", "community", "private"}), sees_unpublished=True)


def owner(user_id: int) -> Viewer:
    return Viewer(frozenset({"public"}), user_id=user_id)


def doc(
    record_id: int,
    title: str = "",
    *,
    titles: tuple[str, ...] = (),
    names: tuple[str, ...] = (),
    subjects: tuple[str, ...] = (),
    body: tuple[str, ...] = (),
    media: tuple[str, ...] = (),
    status: str = "published",
    level: str = "public",
    owner_id: int | None = None,
    date: dt.date | None = None,
    title_sort: str | None = None,
    **facets: tuple[str, ...] | list[str],
) -> SearchDocument:
    titles = (title, *titles) if title else titles
    return SearchDocument(
        record_id=record_id,
        public_id=f"r{record_id:05d}",
        status=status,
        access_level=level,
        owner_id=owner_id,
        titles=titles,
        names=names,
        subjects=subjects,
        body=body,
        media_text=media,
        title_sort=fold(titles[0]) if title_sort is None and titles else (title_sort or ""),
        sort_date=date,
        facets={k: tuple(v) for k, v in facets.items()},
    )


def parse(text: str, prefix: bool = False) -> ParsedQuery:
    """Words as the service parses them: NFC, lower-case, with their folded forms."""
    out: list[QueryWord] = []
    for _s, _e, word in words(text):
        if word not in {w.exact for w in out}:
            out.append(QueryWord(word, fold(word)))
    return ParsedQuery(text, tuple(out), prefix_last=prefix and bool(out))


@pytest.fixture
def backend(db):
    return PostgresBackend(lambda: db.session)


@pytest.fixture
def index(backend):
    """index(*documents): replace the whole index with these documents (in the test's transaction)."""

    def write(*documents: SearchDocument) -> PostgresBackend:
        assert backend.rebuild(documents) == len(documents)
        return backend

    return write


def ids(backend, text="", viewer=ANONYMOUS, prefix=False, **options) -> list[int]:
    options.setdefault("limit", 100)
    return list(backend.search(SearchRequest(parse(text, prefix), **options), viewer).record_ids)


def result(backend, text="", viewer=ANONYMOUS, **options):
    options.setdefault("limit", 100)
    return backend.search(SearchRequest(parse(text), **options), viewer)


# --- folding: PostgreSQL and Python agree ---------------------------------------------------------

VIETNAMESE = [
    "Lễ hội Lồng Tồng",
    "đàn tính",
    "Ê Đê",
    "Mường",
    "Thái",
    "Hà Giang",
    "Tuyên Quang",
    "Bắc Kạn",
    "Đặng Ữ Ỹ Ỷ Ỵ Ở ễ ồ ặ ự",
]


def all_vietnamese_letters() -> list[str]:
    """Every vowel with every tone (stacked marks included), upper and lower case, and đ/Đ; NFC."""
    vowels = {"a": "a", "ă": "a\u0306", "â": "a\u0302", "e": "e", "ê": "e\u0302", "i": "i", "o": "o",
              "ô": "o\u0302", "ơ": "o\u031b", "u": "u", "ư": "u\u031b", "y": "y"}  # fmt: skip
    tones = ["", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]
    letters = ["đ", "Đ"]
    for base in vowels.values():
        for tone in tones:
            letter = unicodedata.normalize("NFC", base + tone)
            assert len(letter) == 1
            letters += [letter, letter.upper()]
    return letters


def test_unaccent_folds_vietnamese_exactly_as_fold(db):
    texts = VIETNAMESE + all_vietnamese_letters()
    texts += [unicodedata.normalize("NFD", t) for t in VIETNAMESE]  # decomposed input too
    for text in texts:
        folded = db.session.execute(sa.text("SELECT lower(unaccent(:t))"), {"t": text}).scalar_one()
        assert folded == fold(text), text


def test_the_archive_folded_configuration_gives_the_index_lexemes(db):
    sentence = "Lễ hội Lồng Tồng của người Tày, Nùng ở Bắc Kạn; đàn tính và hát Then của người Ê Đê, Mường"
    lexemes = db.session.execute(
        sa.text("SELECT tsvector_to_array(to_tsvector('archive_folded', :t))"), {"t": sentence}
    ).scalar_one()
    assert sorted(lexemes) == sorted({fold(w) for _s, _e, w in words(sentence)})


@pytest.mark.parametrize(
    "text",
    [
        "Lễ hội Lồng-Tồng, 2019: e-mail a@b.vn, 3.5 ha; snake_case",
        "ΟΔΟΣ ΚΑΙ Σ İstanbul",  # final sigma, dotted capital I
        unicodedata.normalize("NFD", "Bắc Kạn Đê"),
        "",
        "!!! ...",
    ],
)
def test_words_are_cut_and_folded_as_metadata_text_does(text):
    tokens = postgres._tokens(text)
    assert tokens == [w for _s, _e, w in words(text)]
    assert postgres._folded(tokens) == [fold(w) for w in tokens]


# --- matching and ranking ------------------------------------------------------------------------


def test_words_typed_without_diacritics_find_the_document(index):
    backend = index(
        doc(1, "Lễ hội Lồng Tồng", body=("Lễ hội xuống đồng của người Tày",)),
        doc(2, "Thực hành Then của người Tày, Nùng, Thái (hát Then – đàn tính)"),
        doc(3, "Hát Then", body=("Một bài hát",)),
    )
    assert ids(backend, "le hoi long tong") == [1]
    assert ids(backend, "dan tinh") == [2]
    assert ids(backend, "Đàn Tính") == [2]
    assert ids(backend, unicodedata.normalize("NFD", "Lễ hội Lồng Tồng")) == [1]
    assert ids(backend, "nguoi tay") == [2, 1]  # in a title first, then in a body
    assert backend.count(parse("hat then"), ANONYMOUS) == 2


def test_every_word_must_match_in_some_field(index):
    backend = index(
        doc(1, "Alpha", body=("beta gamma",)),
        doc(2, "Alpha", names=("Gamma",)),
        doc(3, "Other", media=("alpha beta",)),
    )
    assert ids(backend, "alpha beta") == [1, 3]
    assert ids(backend, "alpha gamma") == [2, 1]  # names rank above body
    assert ids(backend, "alpha beta gamma") == [1]
    assert ids(backend, "alpha delta") == []


def test_a_word_with_diacritics_ranks_exact_matches_first(index):
    backend = index(
        doc(1, "Bản ghi ma"),
        doc(2, "Bản ghi má"),
        doc(3, "Bản ghi", body=("Có chữ mà ở đây",)),  # exact, but only in the body
        doc(4, "Bản ghi mà"),
    )
    assert ids(backend, "mà") == [4, 3, 1, 2]
    assert ids(backend, "má") == [2, 1, 4, 3]
    assert ids(backend, "ma") == [1, 2, 4, 3]  # no diacritics: no exact bonus, titles before body
    assert ids(backend, "bản ghi má") == [2, 1, 4, 3]


def test_field_weights_titles_names_subjects_body_media(index):
    word = "zqword"
    backend = index(
        doc(1, "Media", media=(f"caption {word}",)),
        doc(2, "Body", body=(f"description {word}",)),
        doc(3, "Subject", subjects=(f"subject {word}",)),
        doc(4, "Name", names=(f"name {word}",)),
        doc(5, "Other", titles=(f"alternative {word}",)),
        doc(6, f"Title {word}"),
    )
    assert ids(backend, word) == [5, 6, 4, 3, 2, 1]


def test_documents_holding_the_phrase_rank_higher(index):
    backend = index(
        doc(1, "Đồng bào xuống núi"),  # both words, apart
        doc(2, "Bản xuống", titles=("đồng ruộng",)),  # one title ends, the next begins: not a phrase
        doc(3, "Ghi chép", body=("Ngày hội xuống đồng của bản",)),  # the phrase, in the body
        doc(4, "Xuống đồng"),  # the phrase, in the title
    )
    found = ids(backend, "xuống đồng")
    assert found[:2] == [4, 3]
    assert set(found) == {1, 2, 3, 4}


def test_the_last_word_matches_as_a_prefix_when_asked(index):
    backend = index(doc(1, "Lễ hội Lồng Tồng"), doc(2, "Lồng đèn"), doc(3, "Hội làng"))
    assert ids(backend, "lồng tồ", prefix=True) == [1]
    assert ids(backend, "lồng tồ") == []
    assert ids(backend, "lo tong", prefix=True) == []  # only the last word is a prefix
    assert sorted(ids(backend, "lon", prefix=True)) == [1, 2]
    assert backend.count(parse("hoi", prefix=True), ANONYMOUS) == 2


def test_an_empty_query_lists_everything_visible_and_punctuation_matches_nothing(index):
    backend = index(doc(1, "Một"), doc(2, "Hai", status="draft"), doc(3, "Ba"))
    assert ids(backend, "") == [1, 3]
    assert backend.count(parse(""), ANONYMOUS) == 2
    no_words = ParsedQuery("!!!", (QueryWord("!!!", "!!!"),))
    assert backend.search(SearchRequest(no_words), ANONYMOUS).total == 0
    assert backend.count(no_words, ANONYMOUS) == 0


def test_long_documents_are_indexed_within_postgresql_limits(index):
    long_body = " ".join(f"từ{n % 3000}" for n in range(40_000)) + " cuốicùng"
    backend = index(doc(1, "Dài", body=(long_body,), media=("x" * 3000 + " ngắn",)), doc(2, "Ngắn"))
    assert ids(backend, "cuoicung") == [1]
    assert ids(backend, "tu2999") == [1]
    assert ids(backend, "ngan") == [2, 1]  # the word of more than 500 letters is left out, not the rest


# --- access --------------------------------------------------------------------------------------

ACCESS_DOCS = [
    doc(1, "Chung công khai", level="public"),
    doc(2, "Chung nhà nghiên cứu", level="researchers"),
    doc(3, "Chung cộng đồng", level="community"),
    doc(4, "Chung riêng tư", level="private"),
    doc(5, "Chung nháp của bảy", status="draft", level="private", owner_id=7),
    doc(6, "Chung chờ duyệt của tám", status="in_review", owner_id=8),
    doc(7, "Chung nháp", status="draft"),
    doc(8, "Chung công khai của tám", level="researchers", owner_id=8),
]
VIEWERS = {
    "anonymous": ANONYMOUS,
    "researcher": RESEARCHER,
    "community": COMMUNITY,
    "owner 7": owner(7),
    "owner 8": owner(8),
    "curator": CURATOR,
    "nobody": Viewer(frozenset()),
}


@pytest.mark.parametrize("name", list(VIEWERS))
def test_every_read_shows_exactly_what_the_viewer_may_see(index, name):
    viewer = VIEWERS[name]
    backend = index(*ACCESS_DOCS)
    visible = sorted(d.record_id for d in ACCESS_DOCS if viewer.can_see(d.status, d.access_level, d.owner_id))
    for text in ("", "chung"):
        page = backend.search(SearchRequest(parse(text), limit=100), viewer)
        assert sorted(page.record_ids) == visible
        assert page.total == len(visible) == backend.count(parse(text), viewer)
    assert sorted(backend.complete_titles(parse("chu", prefix=True), viewer, limit=20)) == visible


def test_expected_visibility_of_each_viewer(index):
    backend = index(*ACCESS_DOCS)
    assert sorted(ids(backend)) == [1]
    assert sorted(ids(backend, viewer=RESEARCHER)) == [1, 2, 8]
    assert sorted(ids(backend, viewer=COMMUNITY)) == [1, 3]
    assert sorted(ids(backend, viewer=owner(7))) == [1, 5]
    assert sorted(ids(backend, viewer=owner(8))) == [1, 6, 8]
    assert sorted(ids(backend, viewer=CURATOR)) == [1, 2, 3, 4, 5, 6, 7, 8]


def test_facet_counts_only_count_visible_documents(index):
    backend = index(
        doc(1, "Một", ethnic_group=["tay"]),
        doc(2, "Hai", ethnic_group=["tay"], level="private"),
        doc(3, "Ba", ethnic_group=["hmong"], status="draft", owner_id=5),
    )
    assert result(backend).facets["ethnic_group"] == {"tay": 1}
    assert result(backend, viewer=owner(5)).facets["ethnic_group"] == {"tay": 1, "hmong": 1}
    assert result(backend, viewer=CURATOR).facets["ethnic_group"] == {"tay": 2, "hmong": 1}


# --- facets and filters --------------------------------------------------------------------------

FACETED = [
    doc(1, "Lễ một", ethnic_group=["tay", "nung"], category=["festival"], decade=["1990"]),
    doc(2, "Lễ hai", ethnic_group=["tay"], category=["ritual"], decade=["2000"]),
    doc(3, "Lễ ba", ethnic_group=["hmong"], category=["festival"], decade=["2000"]),
    doc(4, "Lễ bốn", ethnic_group=["hmong"], category=["ritual"], media_type=["audio"]),
    doc(5, "Lễ năm", ethnic_group=["thai"], category=["festival"], collection=["a:b"]),
    doc(6, "Khác", ethnic_group=["tay"], category=["festival"]),
]


def test_facet_counts_without_filters(index):
    page = result(index(*FACETED), "le")
    assert page.total == 5
    assert page.facets["ethnic_group"] == {"tay": 2, "nung": 1, "hmong": 2, "thai": 1}
    assert page.facets["category"] == {"festival": 3, "ritual": 2}
    assert page.facets["decade"] == {"1990": 1, "2000": 2}
    assert page.facets["media_type"] == {"audio": 1}
    assert page.facets["collection"] == {"a:b": 1}
    assert page.facets["province"] == {} and page.facets["language"] == {}
    assert set(page.facets) == set(FACETS)


@pytest.mark.parametrize("sort", ["relevance", "date_desc", "title"])
def test_filters_combine_and_facets_count_with_the_other_filters(index, sort):
    backend = index(*FACETED)
    tay = result(backend, "le", filters={"ethnic_group": ("tay",)}, sort=sort)
    assert sorted(tay.record_ids) == [1, 2] and tay.total == 2
    # The facet's own alternatives stay visible with their full counts (multi-select).
    assert tay.facets["ethnic_group"] == {"tay": 2, "nung": 1, "hmong": 2, "thai": 1}
    assert tay.facets["category"] == {"festival": 1, "ritual": 1}
    # OR within a facet.
    either = result(backend, "le", filters={"ethnic_group": ("tay", "thai")}, sort=sort)
    assert sorted(either.record_ids) == [1, 2, 5]
    # AND across facets; each facet counted with the other facets' filters only.
    both = result(
        backend, "le", filters={"ethnic_group": ("tay", "hmong"), "category": ("festival",)}, sort=sort
    )
    assert sorted(both.record_ids) == [1, 3] and both.total == 2
    assert both.facets["ethnic_group"] == {"tay": 1, "nung": 1, "hmong": 1, "thai": 1}
    assert both.facets["category"] == {"festival": 2, "ritual": 2}
    assert both.facets["decade"] == {"1990": 1, "2000": 1}
    # Values no visible match has are not listed; an unknown value matches nothing.
    assert result(backend, "le", filters={"ethnic_group": ("kinh",)}, sort=sort).total == 0
    assert result(backend, "le", filters={"collection": ("a:b",)}, sort=sort).record_ids == (5,)


def test_three_filters_and_a_document_failing_two_of_them(index):
    backend = index(*FACETED)
    page = result(
        backend, "", filters={"ethnic_group": ("tay",), "category": ("festival",), "decade": ("1990",)}
    )
    assert page.record_ids == (1,)
    assert page.facets["ethnic_group"] == {"tay": 1, "nung": 1}  # festival + 1990
    assert page.facets["category"] == {"festival": 1}  # tay + 1990: doc 2 is from 2000
    assert page.facets["decade"] == {"1990": 1}  # tay + festival: docs 1 and 6, only 1 has a decade


def test_facets_can_be_left_out(index):
    page = index(*FACETED).search(
        SearchRequest(parse("le"), filters={"category": ("ritual",)}, with_facets=False), ANONYMOUS
    )
    assert sorted(page.record_ids) == [2, 4] and page.total == 2 and page.facets == {}


def test_unknown_facets_and_sorts_are_refused(index):
    backend = index(*FACETED)
    with pytest.raises(ValueError):
        backend.search(SearchRequest(parse("le"), filters={"colour": ("red",)}), ANONYMOUS)
    with pytest.raises(ValueError):
        backend.search(SearchRequest(parse("le"), sort="price"), ANONYMOUS)


# --- sorting and pages ---------------------------------------------------------------------------


def test_sorting_by_date_and_title_with_ties_broken_by_record_id(index):
    backend = index(
        doc(1, "Cồng chiêng", date=dt.date(2001, 1, 1)),
        doc(2, "Ăn cơm mới", date=None),
        doc(3, "Bài ca", date=dt.date(1999, 5, 1)),
        doc(4, "Bài ca", date=dt.date(2001, 1, 1)),
        doc(5, "Zô", date=None, title_sort=""),
    )
    assert ids(backend, sort="date_desc") == [1, 4, 3, 2, 5]
    assert ids(backend, sort="date_asc") == [3, 1, 4, 2, 5]
    assert ids(backend, sort="title") == [2, 3, 4, 1, 5]  # folded A-Z, ties by id, no title last
    assert ids(backend) == [1, 4, 3, 2, 5]  # browsing without words: newest first
    assert ids(backend, "bai ca", sort="date_desc") == [4, 3]


def test_pages_are_stable_and_do_not_overlap(index):
    backend = index(
        *[
            doc(n, f"Hội {n % 4}", body=("hội " * (n % 3),), date=dt.date(2000 + n % 5, 1, 1))
            for n in range(1, 41)
        ]
    )
    for sort in ("relevance", "date_desc", "date_asc", "title"):
        everything = ids(backend, "hoi", sort=sort, limit=100)
        assert sorted(everything) == list(range(1, 41))
        pages = [ids(backend, "hoi", sort=sort, offset=offset, limit=7) for offset in range(0, 40, 7)]
        assert [i for page in pages for i in page] == everything
        assert ids(backend, "hoi", sort=sort, offset=14, limit=7) == pages[2]


def test_relevance_order_beyond_the_rerank_window_is_one_stable_order(index, monkeypatch):
    monkeypatch.setattr(postgres, "RERANK_WINDOW", 5)
    documents = [
        doc(n, "Chiêng" if n % 3 else "Chiêng chiêng", body=("chiêng " * (n % 4),)) for n in range(1, 31)
    ]
    backend = index(*documents)
    everything = ids(backend, "chieng", limit=100)
    assert sorted(everything) == list(range(1, 31))
    pages = [ids(backend, "chieng", offset=offset, limit=4) for offset in range(0, 30, 4)]
    assert [i for page in pages for i in page] == everything
    # The window holds the best by the head fields; it is ranked again with the body too.
    assert set(everything[:5]) == {3, 6, 9, 12, 15}
    assert everything[:5] == sorted(everything[:5], key=lambda n: (-(n % 4), n))


def test_an_offset_past_the_end_gives_an_empty_page_and_the_total(index):
    page = index(doc(1, "Một"), doc(2, "Một nữa")).search(SearchRequest(parse("mot"), offset=10), ANONYMOUS)
    assert page.record_ids == () and page.total == 2


# --- suggestions and autocomplete -----------------------------------------------------------------


def test_similar_words_are_index_words_close_to_the_word(index):
    backend = index(
        doc(1, "Lễ hội Lồng Tồng"), doc(2, "Tồng và tông"), doc(3, "Lang thang"), doc(4, "Festival")
    )
    assert backend.similar_words("tongg")[0] == "tong"
    assert "tong" not in backend.similar_words("tong")  # never the word itself
    assert backend.similar_words("lang")[:1] == ["long"]  # one letter apart in a short word
    assert backend.similar_words("festivl") == ["festival"]
    assert backend.similar_words("qqqqqq") == []
    assert len(backend.similar_words("long", limit=1)) == 1


def test_the_words_follow_upserts_and_deletes(index, db):
    backend = index(doc(1, "Alpha beta"), doc(2, "Beta gamma"))

    def counts():
        rows = db.session.execute(sa.text("SELECT word, documents FROM search_word")).all()
        return dict(rows)

    assert counts() == {"alpha": 1, "beta": 2, "gamma": 1}
    backend.upsert([doc(1, "Beta delta")])
    assert counts() == {"beta": 2, "gamma": 1, "delta": 1}
    backend.delete([2, 999])
    assert counts() == {"beta": 1, "delta": 1}
    assert backend.similar_words("gamm") == []
    backend.upsert([doc(1, "Beta delta", status="withdrawn"), doc(3, "Epsilon")])
    assert counts() == {"epsilon": 1}


def test_browsing_counts_follow_upserts_and_deletes(index):
    """Browsing without words or filters reads kept counts; searching a word all documents share counts
    the matches: both must agree for every viewer after any sequence of writes."""
    backend = index(
        doc(1, "Chung một", ethnic_group=["tay"], category=["festival"]),
        doc(2, "Chung hai", ethnic_group=["hmong"], status="draft", owner_id=7),
        doc(3, "Chung ba", ethnic_group=["tay", "nung"], level="researchers", owner_id=8),
    )
    backend.upsert([doc(1, "Chung một", ethnic_group=["hmong"]), doc(4, "Chung bốn", ethnic_group=["tay"])])
    backend.delete([2])
    backend.upsert([doc(5, "Chung năm", ethnic_group=["dao"], status="in_review", owner_id=7)])
    backend.upsert([doc(4, "Chung bốn", ethnic_group=["tay"], status="withdrawn")])
    for name, viewer in VIEWERS.items():
        browsing, searching = result(backend, "", viewer), result(backend, "chung", viewer)
        assert browsing.total == searching.total, name
        assert browsing.facets == searching.facets, name
        assert sorted(browsing.record_ids) == sorted(searching.record_ids), name
    assert result(backend, "", CURATOR).facets["ethnic_group"] == {"hmong": 1, "tay": 1, "nung": 1, "dao": 1}
    assert result(backend, "", owner(7)).total == 2


def test_a_document_given_twice_to_rebuild_is_counted_once(index, db):
    backend = index(doc(1, "Alpha", ethnic_group=["tay"]), doc(1, "Beta", ethnic_group=["hmong"]))
    assert backend.document_count() == 1
    assert dict(db.session.execute(sa.text("SELECT word, documents FROM search_word")).all()) == {"beta": 1}
    assert result(backend).facets["ethnic_group"] == {"hmong": 1} and result(backend).total == 1


def test_complete_titles_matches_titles_only_beginnings_first(index):
    backend = index(
        doc(1, "Về lễ hội Lồng Tồng"),
        doc(2, "Lễ hội Lồng Tồng"),
        doc(3, "Hát", body=("lễ hội lồng tồng",)),
        doc(4, "Lễ hội Lồng Tồng riêng", level="private"),
        doc(5, "Khác", titles=("Lễ hội lồng đèn",)),
    )
    found = backend.complete_titles(parse("le hoi lon", prefix=True), ANONYMOUS)
    assert sorted(found[:2]) == [2, 5] and found[2:] == [1]  # titles beginning with the words first
    assert backend.complete_titles(parse("le hoi lon", prefix=True), ANONYMOUS, limit=1) == found[:1]
    assert backend.complete_titles(parse("tồng"), CURATOR) == [2, 4, 1]  # then A-Z
    assert backend.complete_titles(parse("hat"), ANONYMOUS) == [3]
    assert backend.complete_titles(parse(""), ANONYMOUS) == []


# --- writing -------------------------------------------------------------------------------------


def test_rebuild_replaces_the_index_and_readers_keep_the_old_one_until_commit(backend, db):
    before = backend.document_count()
    assert before > 0  # the demo, indexed and committed by the session fixture
    assert backend.rebuild([doc(1, "Mới"), doc(2, "Mới nữa")]) == 2
    assert backend.document_count() == 2
    assert ids(backend, "moi") == [1, 2]
    with db.engine.connect() as other:  # another transaction still reads the committed index
        assert other.execute(sa.text("SELECT count(*) FROM search_document")).scalar_one() == before
    assert backend.rebuild([]) == 0
    assert backend.document_count() == 0 and ids(backend) == []


def test_upsert_replaces_by_record_id_and_withdrawn_documents_leave(index):
    backend = index(doc(1, "Cũ"), doc(2, "Khác"))
    assert backend.upsert([doc(1, "Mới", ethnic_group=["tay"])]) == 1
    assert ids(backend, "cu") == [] and ids(backend, "moi") == [1]
    assert result(backend).facets["ethnic_group"] == {"tay": 1}
    assert backend.upsert([doc(2, "Khác", status="withdrawn")]) == 0
    assert ids(backend) == [1] and backend.document_count() == 1
    assert backend.upsert(iter([])) == 0


def test_delete_removes_documents_and_ignores_unknown_ids(index):
    backend = index(doc(1, "Một"), doc(2, "Hai"), doc(3, "Ba"))
    backend.delete([2, 12345])
    backend.delete([])
    assert ids(backend) == [1, 3] and backend.document_count() == 2


def test_a_missing_index_is_unavailable_and_the_transaction_stays_usable(backend, db):
    assert backend.is_available()
    db.session.execute(sa.text("ALTER TABLE search_document RENAME TO search_document_gone"))
    assert not backend.is_available()
    with pytest.raises(IndexUnavailable):
        backend.search(SearchRequest(parse("le")), ANONYMOUS)
    with pytest.raises(IndexUnavailable):
        backend.document_count()
    with pytest.raises(IndexUnavailable):
        backend.upsert([doc(1, "Một")])
    assert db.session.execute(sa.text("SELECT 1")).scalar_one() == 1


def test_on_another_database_the_index_is_unavailable():
    from sqlalchemy.orm import Session

    engine = sa.create_engine("sqlite://")
    with Session(engine) as session:
        backend = PostgresBackend(lambda: session)
        assert not backend.is_available()
        with pytest.raises(IndexUnavailable):
            backend.search(SearchRequest(parse("le")), ANONYMOUS)
    engine.dispose()


def test_reads_leave_no_setting_behind(index, db):
    backend = index(doc(1, "Lồng Tồng"))
    before = db.session.execute(sa.text("SHOW enable_seqscan")).scalar_one()
    ids(backend, "long")
    backend.similar_words("tongg")
    assert db.session.execute(sa.text("SHOW enable_seqscan")).scalar_one() == before
    threshold = db.session.execute(sa.text("SELECT current_setting('pg_trgm.similarity_threshold')"))
    assert float(threshold.scalar_one()) == pytest.approx(0.3)


# --- the schema ----------------------------------------------------------------------------------


def test_the_search_schema_is_invisible_to_autogenerate(db):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    assert is_search_schema_object("search_document") and is_search_schema_object("ix_search_document_match")
    assert not is_search_schema_object("search_outbox") and not is_search_schema_object("heritage_record")

    def include_name(name, type_, parent_names):
        return not (type_ == "table" and is_search_schema_object(name))

    with db.engine.connect() as conn:
        plain = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        hooked = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name}),
            db.metadata,
        )
    removed = {diff[1].name for diff in plain if diff[0] == "remove_table"}
    assert removed == {"search_document", "search_facet_count", "search_word"}
    assert hooked == []
