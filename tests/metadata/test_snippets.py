"""Snippets and the text helpers of search: folding, words, edit distance."""

from hypothesis import given
from hypothesis import strategies as st

from metadata.snippets import snippet, to_html
from metadata.text import edit_distance, fold, words


def test_words_are_nfc_lower_case_with_offsets():
    text = "Lễ HỘI, Lồng-Tồng!"
    assert [w for _s, _e, w in words(text)] == ["lễ", "hội", "lồng", "tồng"]
    assert all(text[s:e].lower() == w for s, e, w in words(text))


def test_the_window_with_most_distinct_matches_wins_and_matches_are_marked():
    texts = [
        "Không liên quan gì.",
        "Mở đầu. " + "chữ " * 40 + "Người Tày mở lễ hội Lồng Tồng vào tháng Giêng.",
    ]
    html = to_html(snippet(texts, ["le", "hoi", "long", "tong"]))
    assert "<mark>lễ</mark> <mark>hội</mark> <mark>Lồng</mark> <mark>Tồng</mark>" in html
    assert html.startswith("… ")


def test_prefix_of_the_last_word_is_marked():
    assert to_html(snippet(["Mùa xuân ở Hà Giang"], ["ha", "gi"], prefix_last=True)) == (
        "Mùa xuân ở <mark>Hà</mark> <mark>Giang</mark>"
    )


def test_without_a_match_the_start_of_the_first_text_is_shown():
    long = " ".join(f"w{i}" for i in range(100))
    html = to_html(snippet([long], ["zzz"], size=10))
    assert html == " ".join(f"w{i}" for i in range(10)) + " …"
    assert snippet([], ["x"]) == []


@given(st.text(max_size=200), st.lists(st.text(min_size=1, max_size=5), max_size=3))
def test_snippets_are_always_escaped(text, query):
    html = to_html(snippet([text], [fold(q) for q in query]))
    stripped = html.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in stripped and ">" not in stripped


def test_edit_distance():
    assert edit_distance("tongg", "tong") == 1
    assert edit_distance("tong", "trong") == 1
    assert edit_distance("hoi", "hio") == 1  # a transposition
    assert edit_distance("", "abc") == 3
    assert edit_distance("le hoi", "le hoi") == 0
