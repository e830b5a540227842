"""The single language fallback rule: requested -> vi -> any."""

from metadata.languages import LangString, is_valid_tag, normalize_tag, pick, pick_value

VALUES = [
    LangString("Lễ hội Lồng Tồng", "vi"),
    LangString("Lồng Tồng Festival", "en"),
    LangString("Lồng tồng", "tyz"),
]


def test_requested_language_wins():
    assert pick(VALUES, "en").value == "Lồng Tồng Festival"
    assert pick(VALUES, "tyz").value == "Lồng tồng"
    assert not pick(VALUES, "en").fell_back


def test_region_subtag_matches_primary_language():
    assert pick(VALUES, "en-GB").value == "Lồng Tồng Festival"


def test_falls_back_to_vietnamese_then_to_any():
    picked = pick(VALUES, "fr")
    assert (picked.value, picked.lang, picked.fell_back) == ("Lễ hội Lồng Tồng", "vi", True)
    only_minority = [LangString("Gầu tào", "hnj"), LangString("Gau Tao", "en")]
    picked = pick(only_minority, "fr")
    assert (picked.value, picked.fell_back) == ("Gầu tào", True)


def test_empty_values_are_ignored():
    assert pick([LangString("", "en"), LangString("Xên bản", "vi")], "en").value == "Xên bản"
    assert pick([], "vi") is None
    assert pick_value([], "vi", default="—") == "—"


def test_language_tags():
    assert normalize_tag("EN_gb") == "en-GB"
    assert normalize_tag("zh-hant-tw") == "zh-Hant-TW"
    assert is_valid_tag("hnj") and is_valid_tag("vi-VN") and is_valid_tag("rad")
    assert not is_valid_tag("vietnamese") and not is_valid_tag("") and not is_valid_tag("e")
