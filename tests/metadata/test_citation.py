"""The "Cite this record" text: creators, title, year, archive, URL and accessed date, in vi and en."""

import datetime as dt

import pytest

from metadata.citation import build_citation, format_date, join_creators

ACCESSED = dt.date(2026, 12, 2)


def _cite(lang, creators=("Lò Văn Tài",), year=2024, title="Lễ hội Lồng Tồng"):
    return build_citation(
        creators=list(creators),
        title=title,
        year=year,
        archive="Lưu trữ Di sản",
        url="https://archive.example/records/r123",
        accessed=ACCESSED,
        lang=lang,
    )


def test_english_citation():
    citation = _cite("en", creators=("Lò Văn Tài", "Hà Thị Mai"))
    assert citation.text == (
        "Lò Văn Tài and Hà Thị Mai (2024). Lễ hội Lồng Tồng. Lưu trữ Di sản. "
        "Available at: https://archive.example/records/r123 (accessed 2 December 2026)."
    )
    assert citation.lang == "en"


def test_vietnamese_citation():
    citation = _cite("vi", creators=("Lò Văn Tài", "Hà Thị Mai"))
    assert citation.text == (
        "Lò Văn Tài và Hà Thị Mai (2024). Lễ hội Lồng Tồng. Lưu trữ Di sản. "
        "https://archive.example/records/r123 (truy cập ngày 2 tháng 12 năm 2026)."
    )


def test_parts_let_a_page_italicise_the_title():
    citation = _cite("en")
    assert citation.lead == "Lò Văn Tài (2024). " and citation.title == "Lễ hội Lồng Tồng"
    assert citation.lead + citation.title + citation.tail == citation.text


def test_without_creators_the_title_leads():
    assert _cite("en", creators=()).text.startswith("Lễ hội Lồng Tồng (2024). Lưu trữ Di sản. Available at:")
    assert _cite("vi", creators=(), year=None).text.startswith("Lễ hội Lồng Tồng (không rõ năm). ")
    assert _cite("en", creators=(), year=None).text.startswith("Lễ hội Lồng Tồng (n.d.). ")


def test_a_title_ending_in_punctuation_gets_no_second_full_stop():
    assert "Hát then? Lưu trữ" in _cite("en", title="Hát then?").text


@pytest.mark.parametrize(
    ("names", "lang", "expected"),
    [
        ([], "en", ""),
        (["A"], "en", "A"),
        (["A", "B"], "vi", "A và B"),
        (["A", "B", "C"], "en", "A, B and C"),
        (["A", "B", "C", "D"], "en", "A et al."),
        (["A", "B", "C", "D"], "vi", "A và cộng sự"),
        (["A", " A ", "", "B"], "en", "A and B"),  # one person in two roles is named once
    ],
)
def test_join_creators(names, lang, expected):
    assert join_creators(names, lang) == expected


def test_dates_and_other_languages_fall_back_to_english():
    assert format_date(dt.date(2025, 1, 9), "vi") == "ngày 9 tháng 1 năm 2025"
    assert format_date(dt.date(2025, 1, 9), "en-GB") == "9 January 2025"
    assert _cite("fr").lang == "en" and "Available at:" in _cite("fr").text
