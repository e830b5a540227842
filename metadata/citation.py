"""A human-readable citation of a heritage record ("Cite this record"), in Vietnamese or English.

Pure functions on plain values: the application picks the creators (recorders, researchers), the title
in the reader's language, the year and the stable URL; this module only formats them. The style is a
short author–date form close to what Vietnamese and English humanities journals ask for::

    Lò Văn A và Hà Thị B (2024). Lễ hội Lồng Tồng. Lưu trữ... http://... (truy cập ngày 2 tháng 12 năm 2026).
    Lò Văn A and Hà Thị B (2024). Lồng Tồng festival. Archive. Available at: http://... (accessed 2 May 2026).

Machine-readable exports (BibTeX, CSL-JSON) are another matter (issue 7).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

#: Citation languages; any other interface language falls back to English.
CITATION_LANGUAGES = ("vi", "en")

#: How many creators are named before "et al."
MAX_NAMED_CREATORS = 3

_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

_WORDS = {
    "vi": {
        "and": "và",
        "et_al": "và cộng sự",
        "available": "",
        "accessed": "truy cập",
        "no_date": "không rõ năm",
    },
    "en": {
        "and": "and",
        "et_al": "et al.",
        "available": "Available at: ",
        "accessed": "accessed",
        "no_date": "n.d.",
    },
}


def _lang(lang: str) -> str:
    primary = (lang or "").split("-")[0].lower()
    return primary if primary in CITATION_LANGUAGES else "en"


def format_date(day: dt.date, lang: str) -> str:
    """A date written out in full: "ngày 2 tháng 12 năm 2026" or "2 December 2026"."""
    if _lang(lang) == "vi":
        return f"ngày {day.day} tháng {day.month} năm {day.year}"
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def join_creators(names: Sequence[str], lang: str) -> str:
    """Creator names joined as a reader expects: "A", "A and B", "A, B and C", "A et al."."""
    words = _WORDS[_lang(lang)]
    names = [n.strip() for n in names if n and n.strip()]
    names = list(dict.fromkeys(names))  # one person with two roles is named once
    if not names:
        return ""
    if len(names) > MAX_NAMED_CREATORS:
        return f"{names[0]} {words['et_al']}"
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} {words['and']} {names[-1]}"


def _sentence(text: str) -> str:
    """End a citation element with a full stop unless it already ends with punctuation."""
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text + "."


@dataclass(frozen=True)
class Citation:
    """A formatted citation in three parts, so that a page can set the title in italics."""

    #: Creators and year ("Nguyễn Văn A (2024). "), or "" when no creator is known.
    lead: str
    #: The record's title.
    title: str
    #: What follows the title: punctuation, (the year,) the archive, the URL and the accessed date.
    tail: str
    lang: str

    @property
    def text(self) -> str:
        """The whole citation as plain text."""
        return f"{self.lead}{self.title}{self.tail}"


def build_citation(
    *,
    creators: Sequence[str],
    title: str,
    year: int | None,
    archive: str,
    url: str,
    accessed: dt.date,
    lang: str,
) -> Citation:
    """The citation of a record in *lang* ("vi" or "en"; others fall back to English).

    Without creators the title leads and the year follows it, as author–date styles do for anonymous
    works.
    """
    lang = _lang(lang)
    words = _WORDS[lang]
    title = " ".join(title.split())
    when = str(year) if year else words["no_date"]
    who = join_creators(creators, lang)
    rest = (
        f"{_sentence(archive)} {words['available']}{url} ({words['accessed']} {format_date(accessed, lang)})."
    )
    if who:
        lead = f"{who} ({when}). "
        tail = ("" if title.endswith((".", "!", "?")) else ".") + " " + rest
    else:
        lead = ""
        tail = f" ({when}). {rest}"
    return Citation(lead=lead, title=title, tail=tail, lang=lang)
