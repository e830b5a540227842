"""Text folding for matching Vietnamese names typed with or without diacritics."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w\s]", re.UNICODE)


def fold(text: str) -> str:
    """Lowercase, strip diacritics and tones, map đ to d, collapse spaces: 'Bắc Kạn' -> 'bac kan'."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return _SPACES.sub(" ", text).strip().lower()


def name_key(text: str) -> str:
    """A key for looking names up: folded, punctuation dropped ('Bà Rịa - Vũng Tàu' -> 'ba ria vung tau')."""
    return _SPACES.sub(" ", _NON_WORD.sub(" ", fold(text))).strip()


def slugify(text: str, max_length: int = 80) -> str:
    """An ASCII slug for URLs: 'Lễ hội Lồng Tồng' -> 'le-hoi-long-tong'."""
    slug = name_key(text).replace(" ", "-")
    slug = re.sub(r"[^a-z0-9-]", "", slug)
    return slug[:max_length].strip("-") or "record"
