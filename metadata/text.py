"""Text folding for matching Vietnamese names typed with or without diacritics."""

from __future__ import annotations

import functools
import re
import unicodedata

_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w\s]", re.UNICODE)


def _fold_slow(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in text if unicodedata.category(ch) != "Mn")


def _fold_table() -> dict[int, str | None]:
    """Every character whose fold differs from itself -> its folded form (combining marks -> deleted), so
    that folding is one str.translate in C. Built from _fold_slow, so both always agree."""
    table: dict[int, str | None] = {}
    for cp in range(0x00C0, 0x20000):
        ch = chr(cp)
        if 0xD800 <= cp <= 0xDFFF:
            continue
        if unicodedata.category(ch) == "Mn":
            table[cp] = None
        elif unicodedata.decomposition(ch) or ch in "đĐ":
            folded = _fold_slow(ch)
            if folded != ch:
                table[cp] = folded
    return table


_FOLD_TABLE = _fold_table()


def fold(text: str) -> str:
    """Lowercase, strip diacritics and tones, map đ to d, collapse spaces: 'Bắc Kạn' -> 'bac kan'."""
    folded = text.translate(_FOLD_TABLE)
    return _SPACES.sub(" ", folded).strip().lower()


@functools.lru_cache(maxsize=200_000)
def fold_word(word: str) -> str:
    """:func:`fold` of one word, remembered (search folds the same syllables again and again)."""
    return fold(word)


def name_key(text: str) -> str:
    """A key for looking names up: folded, punctuation dropped ('Bà Rịa - Vũng Tàu' -> 'ba ria vung tau')."""
    return _SPACES.sub(" ", _NON_WORD.sub(" ", fold(text))).strip()


def slugify(text: str, max_length: int = 80) -> str:
    """An ASCII slug for URLs: 'Lễ hội Lồng Tồng' -> 'le-hoi-long-tong'."""
    slug = name_key(text).replace(" ", "-")
    slug = re.sub(r"[^a-z0-9-]", "", slug)
    return slug[:max_length].strip("-") or "record"


_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> list[tuple[int, int, str]]:
    """The words of NFC *text* with their offsets, lower-cased: the tokens every search backend indexes."""
    text = unicodedata.normalize("NFC", text)
    return [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text)]


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (adjacent transpositions count as one edit)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]
