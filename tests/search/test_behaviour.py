"""The search behaviour every backend must show. Each test runs against Whoosh, and against PostgreSQL
full-text search when the suite runs on PostgreSQL (both, in CI).

The demo's 57 records are indexed in both backends by the session fixture; records a test creates
are indexed through the outbox as they are committed (jobs run immediately in tests) and taken out
again when the test is rolled back.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid

import pytest

from archive.search import service
from archive.search.base import ANONYMOUS, Viewer
from metadata.csv_records import DocDate
from metadata.languages import LangString
from tests.conftest import ON_POSTGRES, use_search_backend

BACKENDS = ["whoosh", "postgresql"] if ON_POSTGRES else ["whoosh"]


@pytest.fixture(params=BACKENDS)
def backend(request, app, db):
    """Run the test with this search backend."""
    with use_search_backend(app, request.param):
        yield request.param


@pytest.fixture
def search(app, backend):
    """search(text, viewer=..., **options) -> SearchPage, in a Vietnamese request."""

    def run(text, viewer=ANONYMOUS, lang="vi", **options):
        options.setdefault("per_page", 20)
        with app.test_request_context(f"/?lang={lang}"):
            return service.search_records(text, viewer=viewer, **options)

    return run


@pytest.fixture
def complete(app, backend):
    def run(prefix, viewer=ANONYMOUS):
        with app.test_request_context("/?lang=vi"):
            return service.autocomplete(prefix, viewer)

    return run


def token() -> str:
    """A word found in no other record (letters only, so every tokenizer keeps it whole)."""
    return "zq" + "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:8])


def vi(text):
    return [LangString(text, "vi")]


def titles(page) -> list[str]:
    return [h.title for h in page.hits]


def facet_counts(page, name) -> dict[str, int]:
    return {v.key: v.count for f in page.facets if f.name == name for v in f.values}


def user_viewer(user):
    from archive.core.access import search_viewer

    return search_viewer(user)


# --- folding and ranking -------------------------------------------------------------------------


def test_words_without_diacritics_find_the_record(search):
    page = search("le hoi long tong")
    assert page.hits and page.hits[0].title == "Lễ hội Lồng Tồng"
    page = search("dan tinh")
    assert "Thực hành Then của người Tày, Nùng, Thái (hát Then – đàn tính)" in titles(page)[:3]


def test_d_with_stroke_and_nfd_input_are_folded(search):
    assert search("Đàn tính").total == search("dan tinh").total > 0
    nfd = unicodedata.normalize("NFD", "Lễ hội Lồng Tồng")
    assert nfd != "Lễ hội Lồng Tồng"
    assert search(nfd).hits[0].title == "Lễ hội Lồng Tồng"


def test_exact_diacritics_rank_above_folded_matches(search, make_record):
    word = token()
    for syllable in ("ma", "mà", "má"):
        make_record(title=f"Bản ghi {word} {syllable}")
    exact = search(f"mà {word}")
    assert exact.total == 3
    assert exact.hits[0].title == f"Bản ghi {word} mà"
    acute = search(f"má {word}")
    assert acute.hits[0].title == f"Bản ghi {word} má"


def test_field_weights_rank_title_then_names_then_subjects_then_body(search, make_record):
    word = token()
    body = make_record(
        texts={"title": vi(f"Ghi chép {token()}"), "description": vi(f"Có nhắc đến {word} trong bài.")}
    )
    subject = make_record(texts={"title": vi(f"Chủ đề {token()}")}, subjects=[vi(f"chủ đề {word}")])
    title = make_record(texts={"title": vi(f"Lễ {word}")})
    alternative = make_record(texts={"title": vi(f"Khác {token()}"), "alternative": vi(f"tên {word}")})
    page = search(word)
    order = [h.public_id for h in page.hits]
    assert order.index(title.public_id) < order.index(subject.public_id) < order.index(body.public_id)
    assert order.index(alternative.public_id) < order.index(subject.public_id)


def test_every_word_must_match(search, make_record):
    a, b = token(), token()
    both = make_record(texts={"title": vi(f"{a} {b}")})
    make_record(texts={"title": vi(f"{a} khác")})
    page = search(f"{a} {b}")
    assert [h.public_id for h in page.hits] == [both.public_id]


def test_all_languages_are_searched(search):
    english = search("going down to the fields")
    assert "Lễ hội Lồng Tồng" in titles(english)[:3]
    minority = search("Lồng tồng")  # the Tày alternative title
    assert minority.hits[0].title == "Lễ hội Lồng Tồng"


def test_a_vietnamese_query_finds_english_only_records_through_vocabularies(search, make_record):
    word = token()
    record = make_record(
        texts={"title": [LangString(f"Spring gathering {word}", "en")]},
        ethnic_groups=["hmong"],
        places=["pre2025-p02"],  # Hà Giang (before 2025), now part of Tuyên Quang
    )
    for query in (f"Mông {word}", f"mong {word}", f"Hà Giang {word}", f"Tuyên Quang {word}", f"Mèo {word}"):
        page = search(query)
        assert [h.public_id for h in page.hits] == [record.public_id], query


def test_captions_are_searched_but_rank_last(search, make_record, db):
    from archive.media.models import MediaFile

    word = token()
    in_body = make_record(texts={"title": vi(f"Bài {token()}"), "summary": vi(f"Tóm tắt {word}")})
    in_caption = make_record(texts={"title": vi(f"Ảnh {token()}")})
    db.session.add(
        MediaFile(
            public_id=f"m{uuid.uuid4().hex[:10]}",
            record=in_caption,
            kind="image",
            original_filename="a.jpg",
            storage_key="x/a.jpg",
            sha256="0" * 64,
            size_bytes=1,
            mime_type="image/jpeg",
            caption=[{"lang": "vi", "value": f"Chú thích {word}"}],
            state="ready",
        )
    )
    db.session.commit()
    page = search(word)
    assert [h.public_id for h in page.hits] == [in_body.public_id, in_caption.public_id]
    assert "<mark>" in page.hits[1].snippet_html
    assert facet_counts(page, "media_type") == {"image": 1}


def test_snippets_are_escaped_and_highlighted(search, make_record):
    word = token()
    make_record(
        texts={"title": vi(f"Thử {token()}"), "description": vi(f"<script>alert(1)</script> lễ {word} & đêm")}
    )
    hit = search(word).hits[0]
    assert "<script>" not in hit.snippet_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hit.snippet_html
    assert f"<mark>{word}</mark>" in hit.snippet_html
    assert "&amp;" in hit.snippet_html


# --- facets, filters, sorting, pages ---------------------------------------------------------------


def public_count(db) -> int:
    from sqlalchemy import func, select

    from archive.records.models import HeritageRecord

    return db.session.scalar(
        select(func.count()).where(
            HeritageRecord.status == "published", HeritageRecord.access_level == "public"
        )
    )


def test_facets_count_visible_matches_and_combine_as_filters(search, db):
    page = search("")
    assert page.total == public_count(db) >= 50
    groups = facet_counts(page, "ethnic_group")
    assert groups["tay"] >= 3 and sum(groups.values()) >= page.total
    for name in ("ethnic_group", "province", "category", "language", "decade", "collection"):
        assert facet_counts(page, name), name
    tay = search("", filters={"ethnic_group": ["tay"]})
    assert tay.total == groups["tay"]
    # Within one facet, values are alternatives (OR); the facet keeps showing the other values.
    both = search("", filters={"ethnic_group": ["tay", "hmong"]})
    union = set()
    for slug in ("tay", "hmong"):
        union |= {h.public_id for h in search("", filters={"ethnic_group": [slug]}, per_page=100).hits}
    assert both.total == len(union)
    assert facet_counts(tay, "ethnic_group")["hmong"] == groups["hmong"]
    # Across facets, filters combine (AND), and the other facets' counts follow.
    festival_tay = search("", filters={"ethnic_group": ["tay"], "category": ["festival"]})
    assert festival_tay.total == facet_counts(tay, "category")["festival"]
    selected = [v for f in festival_tay.facets for v in f.values if v.selected]
    assert {(v.key) for v in selected} == {"tay", "festival"}


def test_province_facet_holds_current_and_historical_provinces(search):
    page = search("", filters={"province": ["pre2025-p02"]})  # Hà Giang before 2025
    assert page.total > 0
    current = search("", filters={"province": ["2025-p08"]})  # Tuyên Quang since 2025
    assert current.total >= page.total
    ids = {h.public_id for h in page.hits}
    assert ids <= {h.public_id for h in search("", filters={"province": ["2025-p08"]}, per_page=100).hits}
    labels = {v.key: v.label for f in current.facets if f.name == "province" for v in f.values}
    assert "trước 2025" in labels["pre2025-p02"]


def test_decade_and_language_facets(search, make_record):
    word = token()
    make_record(
        texts={"title": [LangString(f"Hmong title {word}", "hnj"), LangString(f"Tiêu đề {word}", "vi")]},
        dates=[DocDate("recorded", dt.date(1987, 5, 1))],
    )
    page = search(word)
    assert facet_counts(page, "decade") == {"1980": 1}
    assert facet_counts(page, "language") == {"hnj": 1, "vi": 1}
    assert search(word, filters={"decade": ["1990"]}).total == 0


def test_sorting_by_title_and_date_and_stable_pages(search):
    by_title = search("", sort="title", per_page=100)
    from metadata.text import fold

    keys = [fold(h.title) for h in by_title.hits]
    assert keys == sorted(keys)
    by_date = search("", sort="date_desc", per_page=100)
    dates = [h.date for h in by_date.hits if h.date]
    assert dates == sorted(dates, reverse=True)
    assert [h.date for h in by_date.hits][-1] is None or all(h.date for h in by_date.hits)
    oldest = search("", sort="date_asc", per_page=100)
    assert [h.date for h in oldest.hits if h.date] == sorted(dates)
    pages = [search("le hoi", page=n, per_page=5) for n in (1, 2, 3)]
    seen = [h.public_id for p in pages for h in p.hits]
    assert len(seen) == len(set(seen)) == min(15, pages[0].total)
    assert [h.public_id for h in search("le hoi", page=2, per_page=5).hits] == [
        h.public_id for h in pages[1].hits
    ]


def test_bad_requests_raise_value_errors(search):
    with pytest.raises(ValueError):
        search("le hoi", sort="price")
    with pytest.raises(ValueError):
        search("le hoi", filters={"colour": ["red"]})
    with pytest.raises(ValueError):
        search("le hoi", page=999)


def test_empty_and_zero_result_searches(search, db):
    assert search("").total == public_count(db)
    nothing = search(token())
    assert nothing.total == 0 and nothing.hits == [] and not nothing.unavailable
    punctuation = search("!!! ??? ...")
    assert punctuation.total == public_count(db)  # no words: everything visible, like an empty search


def test_did_you_mean_corrects_a_misspelling(search):
    page = search("long tongg")
    assert page.total == 0
    assert page.suggestion == "long tong"
    assert search(page.suggestion).hits[0].title == "Lễ hội Lồng Tồng"
    assert search("le hoi long tong").suggestion is None
    # Words with digits are numbers, years or identifiers, not misspellings: "tong2" is left alone.
    assert search("long tong2").total == 0 and search("long tong2").suggestion is None


def test_autocomplete_offers_titles_groups_and_places(complete):
    titles_ = [c for c in complete("long t") if c.kind == "title"]
    assert titles_ and titles_[0].label == "Lễ hội Lồng Tồng"
    groups = [c for c in complete("tày") if c.kind == "ethnic_group"]
    assert any(c.label == "Tày" and c.count >= 3 for c in groups)
    places = [c for c in complete("ha gia") if c.kind == "place"]
    assert any("Hà Giang" in c.label and c.count > 0 for c in places)
    assert complete("x") == []


# --- access ----------------------------------------------------------------------------------------

HIDDEN = [
    ("published", "researchers"),
    ("published", "community"),
    ("published", "private"),
    ("draft", "public"),
    ("in_review", "public"),
    ("withdrawn", "public"),
]


@pytest.mark.parametrize(("status", "level"), HIDDEN)
def test_visitors_never_learn_of_records_they_may_not_see(
    search, complete, make_record, make_user, status, level
):
    owner = make_user("contributor")
    word = token()
    baseline = search("")
    make_record(
        created_by=owner,
        status=status,
        access_level=level,
        ethnic_groups=["si-la"],
        texts={"title": vi(f"Bí mật {word}"), "summary": vi(f"Nội dung {word}")},
    )
    page = search(word)
    assert page.total == 0 and page.hits == []
    assert all(not f.values for f in page.facets)
    assert page.suggestion is None
    assert search(word[:-1] + "x").suggestion is None  # no correction leads to it
    everything = search("")
    assert everything.total == baseline.total
    assert {f.name: facet_counts(everything, f.name) for f in everything.facets} == {
        f.name: facet_counts(baseline, f.name) for f in baseline.facets
    }
    assert not [c for c in complete(word) if c.kind == "title"]
    assert not [c for c in complete("si la") if c.kind == "ethnic_group"]

    researcher = user_viewer(make_user("researcher"))
    curator = user_viewer(make_user("curator"))
    sees = {
        "owner": search(word, viewer=user_viewer(owner)).total,
        "researcher": search(word, viewer=researcher).total,
        "curator": search(word, viewer=curator).total,
    }
    if status == "withdrawn":
        assert sees == {"owner": 0, "researcher": 0, "curator": 0}
    elif status != "published":
        assert sees == {"owner": 1, "researcher": 0, "curator": 1}
    else:
        assert sees == {"owner": 1, "researcher": int(level == "researchers"), "curator": 1}


def test_a_signed_in_owner_sees_counts_of_own_hidden_records(search, make_record, make_user):
    owner = make_user("contributor")
    word = token()
    make_record(created_by=owner, access_level="private", ethnic_groups=["si-la"], texts={"title": vi(word)})
    page = search(word, viewer=user_viewer(owner))
    assert page.total == 1 and facet_counts(page, "ethnic_group") == {"si-la": 1}
    other = user_viewer(make_user("contributor"))
    assert search(word, viewer=other).total == 0


def test_viewer_rule_matches_the_access_module(make_record, make_user, db):
    from archive.core.access import can_view_record

    users = [None, make_user("researcher"), make_user("contributor"), make_user("curator")]
    for status in ("published", "draft", "in_review", "withdrawn"):
        for level in ("public", "researchers", "community", "private"):
            record = make_record(created_by=users[2], status=status, access_level=level)
            for user in users:
                viewer = user_viewer(user) if user else ANONYMOUS
                assert viewer.can_see(status, level, record.created_by_id) == can_view_record(record, user), (
                    status,
                    level,
                    user and user.role,
                )


# --- index maintenance -----------------------------------------------------------------------------


def test_publish_edit_withdraw_and_delete_update_the_index(search, make_record, db):
    from archive.records.models import RecordText

    word, new_word = token(), token()
    record = make_record(status="draft", texts={"title": vi(f"Bản nháp {word}")})
    assert search(word).total == 0
    record.status = "published"
    db.session.commit()
    assert search(word).total == 1
    title = next(t for t in record.texts if t.field == "title")
    title.value = f"Đã sửa {new_word}"
    db.session.commit()
    assert search(word).total == 0 and search(new_word).hits[0].title == f"Đã sửa {new_word}"
    record.texts.append(RecordText(field="summary", lang="en", value=f"added {word}", position=0))
    db.session.commit()
    assert search(word).total == 1
    record.status = "withdrawn"
    db.session.commit()
    assert search(new_word).total == 0
    assert search(new_word, viewer=Viewer(frozenset({"public"}), sees_unpublished=True)).total == 0
    record.status = "published"
    db.session.commit()
    assert search(new_word).total == 1
    db.session.delete(record)
    db.session.commit()
    assert search(new_word).total == 0


def test_reindex_command_rebuilds_from_the_database(runner, search, backend):
    before = search("le hoi").total
    result = runner.invoke(args=["archive", "reindex"])
    assert result.exit_code == 0, result.output
    assert "57" in result.output
    assert search("le hoi").total == before
