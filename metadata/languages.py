"""Language-tagged values and the archive's single language fallback rule.

The rule, used everywhere a value is shown in one language:
requested language (exact tag, then the same primary language) -> Vietnamese (``vi``) -> any value,
in the order the values were entered.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

#: The archive's fallback language: the national language.
FALLBACK_LANGUAGE = "vi"

#: Languages the archive knows by name, for pickers and labels: (tag, Vietnamese name, English name).
KNOWN_LANGUAGES: dict[str, tuple[str, str]] = {
    "vi": ("Tiếng Việt", "Vietnamese"),
    "en": ("Tiếng Anh", "English"),
    "fr": ("Tiếng Pháp", "French"),
    "tyz": ("Tiếng Tày", "Tày"),
    "nut": ("Tiếng Nùng", "Nùng"),
    "hnj": ("Tiếng Mông (Mông Lềnh)", "Hmong Njua"),
    "blu": ("Tiếng Mông (Mông Đơ)", "Hmong Daw"),
    "hmn": ("Tiếng Mông", "Hmong"),
    "rad": ("Tiếng Ê Đê", "Rade (Ê Đê)"),
    "jra": ("Tiếng Gia Rai", "Jarai"),
    "bdq": ("Tiếng Ba Na", "Bahnar"),
    "sed": ("Tiếng Xơ Đăng", "Sedang"),
    "cja": ("Tiếng Chăm (Tây)", "Western Cham"),
    "cjm": ("Tiếng Chăm (Đông)", "Eastern Cham"),
    "km": ("Tiếng Khmer", "Khmer"),
    "blt": ("Tiếng Thái Đen", "Tai Dam"),
    "tdd": ("Tiếng Thái", "Tai Nüa"),
    "twh": ("Tiếng Thái Trắng", "Tai Dón"),
    "mtq": ("Tiếng Mường", "Muong"),
    "ium": ("Tiếng Dao (Iu Miền)", "Iu Mien"),
    "mji": ("Tiếng Dao (Kim Miền)", "Kim Mun"),
    "zh": ("Tiếng Hoa", "Chinese"),
    "cdi": ("Tiếng Sán Dìu", "San Diu"),
    "kjm": ("Tiếng Khơ Mú", "Khmu"),
    "cbn": ("Tiếng Cao Lan", "Cao Lan"),
    "mnw": ("Tiếng Mnông", "Mnong"),
    "kpm": ("Tiếng Cơ Ho", "Koho"),
    "kuf": ("Tiếng Cơ Tu", "Katu"),
    "hni": ("Tiếng Hà Nhì", "Hani"),
    "lo": ("Tiếng Lào", "Lao"),
}

# BCP 47 language tag, simplified: a 2-3 letter primary language, then subtags of 2-8 letters/digits.
_TAG_RE = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")


def normalize_tag(tag: str) -> str:
    """Return the canonical form of a BCP 47 tag (lowercase language, title-case script, upper region)."""
    parts = tag.strip().replace("_", "-").split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif len(part) == 2 and part.isalpha():
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


def is_valid_tag(tag: str) -> bool:
    """True when *tag* is a syntactically valid (simplified) BCP 47 language tag."""
    return bool(tag) and bool(_TAG_RE.match(tag.strip().replace("_", "-")))


def nfc(text: str) -> str:
    """Normalise text to Unicode NFC: decomposed Vietnamese would split syllables and break matching."""
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True)
class LangString:
    """A text value tagged with the BCP 47 language it is written in."""

    value: str
    lang: str

    def to_dict(self) -> dict[str, str]:
        """Plain dict form used in JSON files and exports."""
        return {"lang": self.lang, "value": self.value}


@dataclass(frozen=True)
class Picked:
    """The value chosen by the fallback rule, and whether it is in the language asked for."""

    value: str
    lang: str
    fell_back: bool


def primary(tag: str) -> str:
    """The primary language subtag of a tag: ``en`` for ``en-GB``."""
    return tag.split("-", 1)[0].lower()


def pick(values: Iterable[LangString], lang: str | None) -> Picked | None:
    """Choose one value by the fallback rule: requested -> same primary language -> vi -> first value."""
    values = [v for v in values if v.value]
    if not values:
        return None
    wanted = normalize_tag(lang) if lang else FALLBACK_LANGUAGE
    for v in values:
        if normalize_tag(v.lang) == wanted:
            return Picked(v.value, v.lang, False)
    for v in values:
        if primary(v.lang) == primary(wanted):
            return Picked(v.value, v.lang, False)
    for v in values:
        if primary(v.lang) == FALLBACK_LANGUAGE:
            return Picked(v.value, v.lang, True)
    return Picked(values[0].value, values[0].lang, True)


def pick_value(values: Iterable[LangString], lang: str | None, default: str = "") -> str:
    """Like :func:`pick` but returns only the text (or *default* when there is none)."""
    chosen = pick(values, lang)
    return chosen.value if chosen else default


def from_mapping(mapping: dict[str, str] | None) -> list[LangString]:
    """Turn a ``{"vi": "...", "en": "..."}`` mapping into language-tagged values (vi first)."""
    if not mapping:
        return []
    items = sorted(mapping.items(), key=lambda kv: (kv[0] != FALLBACK_LANGUAGE, kv[0] != "en", kv[0]))
    return [LangString(nfc(v), normalize_tag(k)) for k, v in items if v]


def language_name(tag: str, in_lang: str) -> str:
    """The name of language *tag*, in Vietnamese or English (the tag itself when unknown)."""
    names = KNOWN_LANGUAGES.get(normalize_tag(tag)) or KNOWN_LANGUAGES.get(primary(tag))
    if not names:
        return tag
    return names[0] if primary(in_lang) == "vi" else names[1]
