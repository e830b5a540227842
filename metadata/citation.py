"""A human-readable citation of a heritage record ("Cite this record"), in Vietnamese or English.

Pure functions on plain values: the application picks the creators (recorders, researchers), the title
in the reader's language, the year and the stable URL; this module only formats them. The style is a
short author–date form close to what Vietnamese and English humanities journals ask for::

    Lò Văn A và Hà Thị B (2024). Lễ hội Lồng Tồng. Lưu trữ... http://... (truy cập ngày 2 tháng 12 năm 2026).
    Lò Văn A and Hà Thị B (2024). Lồng Tồng festival. Archive. Available at: http://... (accessed 2 May 2026).

The machine-readable citations of issue 7 live here too: :func:`to_bibtex` (a BibTeX ``@misc`` entry)
and :func:`to_csl_json` (a CSL-JSON item), both built from a :class:`metadata.model.RecordDescription`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from metadata.dublin_core import CREATOR_ROLES
from metadata.languages import language_name, pick
from metadata.model import RecordDescription

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


# --- machine-readable citations: BibTeX and CSL-JSON ---------------------------------------------

#: CSL item type of a heritage record. CSL 1.0.2 (Appendix III) defines ``entry`` as "an entry in a
#: database, directory, or catalog": a record is one entry of the archive's online catalogue, with the
#: archive as its container. ``dataset`` is "(mostly) raw data", ``collection`` a whole archival
#: collection, ``manuscript`` an unpublished work, and ``document``/``webpage`` are catch-alls the
#: specification asks to avoid when a more specific type fits.
CSL_TYPE = "entry"

#: Media type of CSL-JSON (registered with IANA by the CSL project).
CSL_JSON_MIMETYPE = "application/vnd.citationstyles.csl+json"

#: BibTeX specials and their LaTeX text-mode spellings. Braces become commands rather than ``\{``:
#: BibTeX counts every brace, escaped or not, so an unbalanced ``\{`` would break the entry.
_BIBTEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "$": r"\$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_BIBTEX_SPECIALS_RE = re.compile("|".join(re.escape(c) for c in _BIBTEX_SPECIALS))

_RECORD_WORD = {"vi": "Mã bản ghi", "en": "Record"}
_HOW_PUBLISHED = {"vi": "Bản ghi lưu trữ trực tuyến", "en": "Online archive record"}


def bibtex_escape(text: str) -> str:
    """*text* as a BibTeX field value: specials escaped, white space collapsed to single spaces.

    Vietnamese diacritics stay as UTF-8 characters. Stacked marks such as "ễ" (e + circumflex + tilde)
    have no portable LaTeX accent-command spelling, and biber/biblatex, bibtexu and every current
    reference manager read UTF-8 .bib files; the download is served as UTF-8.
    """
    text = " ".join(text.split())
    return _BIBTEX_SPECIALS_RE.sub(lambda m: _BIBTEX_SPECIALS[m.group(0)], text)


def bibtex_key(identifier: str) -> str:
    """A BibTeX citation key from a record's public identifier (only letters, digits, ``-_:``)."""
    key = re.sub(r"[^A-Za-z0-9_:-]+", "-", identifier).strip("-")
    return key or "record"


def _bibtex_url(url: str) -> str:
    """A URL for a verbatim BibTeX field: braces, backslashes and white space are percent-encoded."""
    # Not "%": the URL is already percent-encoded, and a verbatim field takes it as it is.
    return "".join(f"%{ord(c):02X}" if c in "{}\\" or c.isspace() else c for c in url)


def citation_creators(record: RecordDescription) -> list[tuple[str, str]]:
    """The record's authors for a citation: (name, kind) of recorders and researchers, each named once."""
    seen: set[str] = set()
    out = []
    for agent in record.agents:
        name = " ".join(agent.name.split())
        if agent.role in CREATOR_ROLES and name and name not in seen:
            seen.add(name)
            out.append((name, agent.kind))
    return out


def _title(record: RecordDescription, lang: str) -> tuple[str, str]:
    """The title in *lang* by the archive's fallback rule, and its language tag."""
    chosen = pick(record.values("title"), lang)
    if chosen is None:
        return record.slug, "und"
    return " ".join(chosen.value.split()), chosen.lang


def to_bibtex(record: RecordDescription, *, issued: dt.date | None, accessed: dt.date, lang: str) -> str:
    """A BibTeX ``@misc`` entry citing *record*, with its title in *lang* (fallback rule).

    ``@misc`` is read by classic BibTeX and by biblatex alike (``@dataset`` and ``@online`` are
    biblatex only). Every name is braced as one unit: the archive stores names as written, and
    BibTeX's "First Last" parsing would make "Tài" the family name of "Lò Văn Tài" (Vietnamese order
    is family name first) and split organisations at an inner "and". The title is double-braced so
    that styles which lower-case titles keep the capitals of proper names.
    """
    lang = _lang(lang)
    title, title_lang = _title(record, lang)
    fields: list[tuple[str, str]] = []
    authors = citation_creators(record)
    if authors:
        fields.append(("author", " and ".join("{" + bibtex_escape(name) + "}" for name, _kind in authors)))
    fields.append(("title", "{" + bibtex_escape(title) + "}"))
    if issued is not None:
        fields.append(("year", str(issued.year)))
        fields.append(("date", issued.isoformat()))
    if record.publisher:
        fields.append(("publisher", bibtex_escape(record.publisher)))
    fields.append(("howpublished", _HOW_PUBLISHED[lang]))
    fields.append(("url", _bibtex_url(record.url)))
    fields.append(("urldate", accessed.isoformat()))
    fields.append(("note", bibtex_escape(f"{_RECORD_WORD[lang]} {record.identifier}")))
    if title_lang != "und":
        fields.append(("language", bibtex_escape(language_name(title_lang, "en"))))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{bibtex_key(record.identifier)},\n{body}\n}}\n"


def bibtex_document(entries: Iterable[str], comment: str = "") -> bytes:
    """A UTF-8 .bib file of *entries*, after an optional ``@comment`` (e.g. that a list was cut)."""
    parts = []
    if comment:
        parts.append("@comment{" + bibtex_escape(comment) + "}\n")
    parts.extend(entries)
    return "\n".join(parts).encode("utf-8")


def _date_parts(day: dt.date) -> dict:
    return {"date-parts": [[day.year, day.month, day.day]]}


def to_csl_json(record: RecordDescription, *, issued: dt.date | None, accessed: dt.date, lang: str) -> dict:
    """A CSL-JSON item citing *record* (type ``entry``, see :data:`CSL_TYPE`), title in *lang*.

    Names are CSL ``literal`` names, never split into family and given parts, for the reason given in
    :func:`to_bibtex`. The archive is the container, publisher and archive; the public identifier is
    the location within the archive.
    """
    lang = _lang(lang)
    title, title_lang = _title(record, lang)
    item: dict = {"id": record.identifier, "type": CSL_TYPE, "title": title}
    authors = citation_creators(record)
    if authors:
        item["author"] = [{"literal": name} for name, _kind in authors]
    if issued is not None:
        item["issued"] = _date_parts(issued)
    item["accessed"] = _date_parts(accessed)
    if record.publisher:
        item["container-title"] = record.publisher
        item["publisher"] = record.publisher
        item["archive"] = record.publisher
    item["archive_location"] = record.identifier
    item["URL"] = record.url
    if title_lang != "und":
        item["language"] = title_lang
    return item


def csl_json_document(items: Iterable[dict]) -> bytes:
    """A CSL-JSON file: a JSON array of items, UTF-8 (what Zotero, Pandoc and citeproc read)."""
    return json.dumps(list(items), ensure_ascii=False, indent=2).encode("utf-8")
