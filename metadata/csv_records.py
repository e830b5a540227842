"""The archive's CSV format for heritage records: export, parsing and row validation.

One row per record. Multilingual fields have one column per language, named ``field@lang``
(``title@vi``, ``title@en``, ``alternative@tyz``); several values of one field in one language are
separated by `` || ``. Lists of vocabulary references are separated by ``; ``. The optional ``files``
column lists media files of a bundle imported with the rows (paths inside the bundle separated by
``|``, e.g. ``photos/longtong-1.jpg|audio/then.wav``). The format is documented in docs/csv-format.md.
Vocabulary look-ups (ethnic groups, places, collections) need the database and are done by the
application; this module checks everything else.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field

from metadata.categories import CATEGORIES
from metadata.languages import FALLBACK_LANGUAGE, LangString, is_valid_tag, nfc, normalize_tag, pick
from metadata.model import DocDate, RecordDescription, Timing

MULTI = " || "
LIST = "; "
STATUSES = ("draft", "in_review", "published", "withdrawn")
ACCESS_LEVELS = ("public", "researchers", "community", "private")
AGENT_ROLES = ("ritual_master", "artisan", "informant", "performer", "recorder", "researcher", "office")
TEXT_FIELDS = ("title", "alternative", "summary", "description", "provenance")
LANG_FIELDS = (*TEXT_FIELDS, "subjects", "timing_note", "consent_note")
#: Column order of the format; "@field" stands for one column per language of that field.
COLUMN_LAYOUT = (
    "identifier", "slug", "category", "status", "access_level",
    *(f"@{name}" for name in TEXT_FIELDS),
    "ethnic_groups", "places", "place_labels", "@subjects", "agents", "collections",
    "timing", "@timing_note", "dates", "rights_uri", "rights_holder", "@consent_note",
)  # fmt: skip
#: Columns written only when a record has a value for them: ``files`` (media of an import bundle).
OPTIONAL_COLUMNS = ("files",)
PLAIN_COLUMNS = (*(c for c in COLUMN_LAYOUT if not c.startswith("@")), *OPTIONAL_COLUMNS)
#: Separator of the paths in the ``files`` column.
FILES = "|"
#: Columns written for people to read and ignored on import.
READ_ONLY_COLUMNS = ("place_labels",)

_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ID_RE = re.compile(r"^[a-z0-9]{4,32}$")
_TIMING_RE = re.compile(r"^(lunar|gregorian):(\d{1,2})(L?)(?:-(\d{1,2}))?(?:\+(\d{1,2}))?$")
_AGENT_RE = re.compile(r"^(?P<name>.+?)\s*\((?P<role>[a-z_]+)(?:,\s*(?P<kind>person|organisation))?\)$")


@dataclass(frozen=True)
class CellError:
    """A problem in one cell: row number (1 = header), column name, a message code and its parameters."""

    row: int
    column: str
    code: str
    params: dict = field(default_factory=dict)


@dataclass
class RecordInput:
    """A record as read from CSV, with vocabulary references still unresolved."""

    row: int
    identifier: str | None
    slug: str | None
    category: str
    status: str
    access_level: str
    texts: dict[str, list[LangString]]
    ethnic_groups: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    subjects: list[list[LangString]] = field(default_factory=list)
    agents: list[tuple[str, str, str]] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)
    timings: list[Timing] = field(default_factory=list)
    dates: list[DocDate] = field(default_factory=list)
    rights_uri: str | None = None
    rights_holder: str | None = None
    consent_note: list[LangString] = field(default_factory=list)
    #: Media files of the import bundle for this record: normalised paths inside the bundle.
    files: list[str] = field(default_factory=list)

    @classmethod
    def titled(cls, title: str, lang: str = "vi", **fields) -> RecordInput:
        """An input with only a title: a published, public festival unless *fields* say otherwise."""
        values = dict(row=0, identifier=None, slug=None, category="festival", status="published",
                      access_level="public", texts={"title": [LangString(title, lang)]})  # fmt: skip
        values.update(fields)
        return cls(**values)


def _lang_order(tag: str) -> tuple:
    return (tag != FALLBACK_LANGUAGE, tag != "en", tag)


def _timing_cell(t: Timing) -> str:
    text = f"{t.calendar}:{t.month:02d}{'L' if t.leap else ''}" + (f"-{t.day:02d}" if t.day else "")
    return text + (f"+{t.duration_days}" if t.duration_days != 1 else "")


def header_for(records: list[RecordDescription]) -> list[str]:
    """The CSV header for a set of records: plain columns plus one column per field and language."""
    langs: dict[str, set[str]] = {f: set() for f in LANG_FIELDS}
    langs["title"].add(FALLBACK_LANGUAGE)
    for r in records:
        for name in TEXT_FIELDS:
            langs[name].update(v.lang for v in r.values(name))
        for s in r.subjects:
            langs["subjects"].update(v.lang for v in s.labels)
        for t in r.timings:
            langs["timing_note"].update(v.lang for v in t.note)
        langs["consent_note"].update(v.lang for v in r.consent_note)

    def cols(name: str) -> list[str]:
        return [f"{name}@{lang}" for lang in sorted(langs[name], key=_lang_order)]

    header = [col for item in COLUMN_LAYOUT for col in (cols(item[1:]) if item.startswith("@") else [item])]
    if any(getattr(r, "files", None) for r in records):
        header.append("files")
    return header


def record_row(r: RecordDescription, header: list[str]) -> list[str]:
    """One record as a CSV row under *header*."""
    cells: dict[str, str] = {
        "identifier": r.identifier,
        "slug": r.slug,
        "category": r.category,
        "status": r.status,
        "access_level": r.access_level,
        "ethnic_groups": LIST.join(pick(g.labels, "vi").value for g in r.ethnic_groups),
        "places": LIST.join(p.code for p in r.places),
        "place_labels": LIST.join(p.label for p in r.places),
        "agents": LIST.join(
            f"{a.name} ({a.role}{', organisation' if a.kind == 'organisation' else ''})" for a in r.agents
        ),
        "collections": LIST.join(c.id for c in r.collections),
        "timing": LIST.join(_timing_cell(t) for t in r.timings),
        "dates": LIST.join(f"{d.kind}:{d.iso()}" for d in r.dates),
        "rights_uri": r.rights_uri or "",
        "rights_holder": r.rights_holder or "",
        "files": FILES.join(getattr(r, "files", None) or ()),
    }
    for name in TEXT_FIELDS:
        for v in r.values(name):
            key = f"{name}@{v.lang}"
            cells[key] = cells[key] + MULTI + v.value if key in cells else v.value
    for col in header:
        if col.startswith("subjects@"):
            lang = col.split("@", 1)[1]
            cells[col] = LIST.join(
                next((v.value for v in s.labels if v.lang == lang), "") for s in r.subjects
            )
        elif col.startswith("timing_note@"):
            lang = col.split("@", 1)[1]
            cells[col] = next((v.value for t in r.timings[:1] for v in t.note if v.lang == lang), "")
        elif col.startswith("consent_note@"):
            lang = col.split("@", 1)[1]
            cells[col] = MULTI.join(v.value for v in r.consent_note if v.lang == lang)
    return [cells.get(col, "") for col in header]


def write_csv(records: list[RecordDescription]) -> str:
    """A whole CSV document (UTF-8 text, CRLF line ends as RFC 4180 says) for *records*."""
    header = header_for(records)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for r in records:
        writer.writerow(record_row(r, header))
    return out.getvalue()


def _split(cell: str, sep: str) -> list[str]:
    return [part.strip() for part in cell.split(sep.strip())] if cell.strip() else []


def bundle_path(value: str) -> tuple[str | None, str | None]:
    """Normalise one path of the ``files`` column: (path, None), or (None, error code) for a path that
    could leave the bundle: ``absolute_path``, ``parent_path`` or ``backslash_path``."""
    value = nfc(value.strip())
    if "\\" in value:
        return None, "backslash_path"
    if value.startswith("/") or re.match(r"^[A-Za-z]:", value):
        return None, "absolute_path"
    parts = [part for part in value.split("/") if part not in ("", ".")]
    if ".." in parts:
        return None, "parent_path"
    return "/".join(parts) or None, None


def _parse_files(cell: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The normalised paths of a ``files`` cell, and (value, code) for each refused one."""
    paths: list[str] = []
    refused: list[tuple[str, str]] = []
    for part in cell.split(FILES):
        if not part.strip():
            continue
        path, code = bundle_path(part)
        if code:
            refused.append((part.strip(), code))
        elif path:
            paths.append(path)
    return paths, refused


def files_by_row(text: str) -> dict[int, list[str]]:
    """The valid paths of the ``files`` column of every row (also rows with other errors), by row number."""
    reader = csv.reader(io.StringIO(nfc(text.lstrip("\ufeff")), newline=""))
    out: dict[int, list[str]] = {}
    try:
        header = [h.strip() for h in next(reader)]
        if "files" not in header:
            return out
        index = header.index("files")
        for row_number, raw in enumerate(reader, start=2):
            if len(raw) == len(header) and raw[index].strip():
                out[row_number] = _parse_files(raw[index])[0]
    except (StopIteration, csv.Error):
        pass
    return out


def parse_csv(text: str) -> tuple[list[RecordInput], list[CellError]]:
    """Parse and check a CSV document; returns the rows that passed and every error found."""
    errors: list[CellError] = []
    text = nfc(text.lstrip("\ufeff"))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return [], [CellError(1, "", "empty_file")]
    except csv.Error as exc:
        return [], [CellError(1, "", "malformed_csv", {"detail": str(exc)})]
    for col in header:
        base, _, lang = col.partition("@")
        if lang:
            if base not in LANG_FIELDS:
                errors.append(CellError(1, col, "unknown_column"))
            elif not is_valid_tag(lang):
                errors.append(CellError(1, col, "bad_language_tag", {"tag": lang}))
        elif col not in PLAIN_COLUMNS:
            errors.append(CellError(1, col, "unknown_column"))
    if len(set(header)) != len(header):
        errors.append(CellError(1, "", "duplicate_column"))
    for required in ("category",):
        if required not in header:
            errors.append(CellError(1, required, "missing_column"))
    if not any(h.startswith("title@") for h in header):
        errors.append(CellError(1, "title@vi", "missing_column"))
    if errors:
        return [], errors

    records: list[RecordInput] = []
    seen_ids: dict[str, int] = {}
    seen_slugs: dict[str, int] = {}
    try:
        for row_number, raw in enumerate(reader, start=2):
            if not any(cell.strip() for cell in raw):
                continue
            if len(raw) != len(header):
                errors.append(
                    CellError(
                        row_number, "", "wrong_cell_count", {"found": len(raw), "expected": len(header)}
                    )
                )
                continue
            row = dict(zip(header, (c.strip() for c in raw), strict=True))
            record, row_errors = _parse_row(row_number, row, header)
            for key, seen, code in (
                (record.identifier, seen_ids, "duplicate_identifier"),
                (record.slug, seen_slugs, "duplicate_slug"),
            ):
                if key and key in seen:
                    column = "identifier" if code == "duplicate_identifier" else "slug"
                    row_errors.append(CellError(row_number, column, code, {"other_row": seen[key]}))
                elif key:
                    seen[key] = row_number
            errors += row_errors
            if not row_errors:
                records.append(record)
    except csv.Error as exc:
        errors.append(CellError(reader.line_num, "", "malformed_csv", {"detail": str(exc)}))
    if not records and not errors:
        errors.append(CellError(1, "", "no_rows"))
    return records, errors


def _parse_row(n: int, row: dict[str, str], header: list[str]) -> tuple[RecordInput, list[CellError]]:
    errors: list[CellError] = []

    def err(column: str, code: str, **params) -> None:
        errors.append(CellError(n, column, code, params))

    identifier = row.get("identifier") or None
    if identifier and not _ID_RE.match(identifier):
        err("identifier", "bad_identifier", value=identifier)
    slug = row.get("slug") or None
    if slug and not _SLUG_RE.match(slug):
        err("slug", "bad_slug", value=slug)
    category = row.get("category", "")
    if not category:
        err("category", "required")
    elif category not in CATEGORIES:
        err("category", "unknown_category", value=category, allowed=", ".join(CATEGORIES))
    status = row.get("status") or "draft"
    if status not in STATUSES:
        err("status", "unknown_status", value=status, allowed=", ".join(STATUSES))
    access = row.get("access_level") or "public"
    if access not in ACCESS_LEVELS:
        err("access_level", "unknown_access", value=access, allowed=", ".join(ACCESS_LEVELS))

    texts: dict[str, list[LangString]] = {}
    for col in header:
        base, _, lang = col.partition("@")
        if base in TEXT_FIELDS and lang and row[col]:
            values = _split(row[col], MULTI)
            texts.setdefault(base, []).extend(LangString(v, normalize_tag(lang)) for v in values if v)
    if not texts.get("title"):
        err("title@vi", "required")

    subjects: list[list[LangString]] = []
    subject_cols = [c for c in header if c.startswith("subjects@")]
    columns = {c: _split(row[c], LIST) for c in subject_cols}
    lengths = {len(v) for v in columns.values() if v}
    if len(lengths) > 1:
        err(subject_cols[0], "subject_mismatch")
    elif lengths:
        for i in range(lengths.pop()):
            labels = [
                LangString(columns[c][i], normalize_tag(c.split("@", 1)[1]))
                for c in subject_cols
                if columns[c] and columns[c][i]
            ]
            if labels:
                subjects.append(labels)

    agents = []
    for part in _split(row.get("agents", ""), LIST):
        m = _AGENT_RE.match(part)
        if not m:
            err("agents", "bad_agent", value=part)
        elif m["role"] not in AGENT_ROLES:
            err("agents", "bad_role", value=m["role"], allowed=", ".join(AGENT_ROLES))
        else:
            agents.append((m["name"].strip(), m["role"], m["kind"] or "person"))

    notes = [
        LangString(row[c], normalize_tag(c.split("@", 1)[1]))
        for c in header
        if c.startswith("timing_note@") and row[c]
    ]
    timings = []
    for i, part in enumerate(_split(row.get("timing", ""), LIST)):
        m = _TIMING_RE.match(part)
        if not m:
            err("timing", "bad_timing", value=part)
            continue
        calendar, month, leap, duration = m.group(1), int(m[2]), bool(m[3]), int(m[5] or 1)
        day = int(m[4]) if m[4] else None
        valid = 1 <= month <= 12 and (day is None or 1 <= day <= 30) and 1 <= duration <= 60
        if calendar == "gregorian":
            valid = valid and day is not None and not leap and _gregorian_ok(month, day)
        elif day is None:
            valid = valid and duration == 1
        if not valid:
            err("timing", "bad_timing", value=part)
            continue
        timings.append(Timing(calendar, month, day, leap, duration, notes if i == 0 else []))

    dates = []
    for part in _split(row.get("dates", ""), LIST):
        kind, _, value = part.partition(":")
        start_text, _, end_text = value.partition("/")
        try:
            if kind not in ("recorded", "held"):
                raise ValueError(kind)
            start = dt.date.fromisoformat(start_text)
            end = dt.date.fromisoformat(end_text) if end_text else None
            if end is not None and end < start:
                raise ValueError(value)
            dates.append(DocDate(kind, start, end))
        except ValueError:
            err("dates", "bad_date", value=part)

    rights_uri = row.get("rights_uri") or None
    if rights_uri and not re.match(r"^https?://\S+$", rights_uri):
        err("rights_uri", "bad_uri", value=rights_uri)
    files, refused = _parse_files(row.get("files", ""))
    for value, code in refused:
        err("files", code, value=value)

    consent = [
        LangString(v, normalize_tag(c.split("@", 1)[1]))
        for c in header
        if c.startswith("consent_note@")
        for v in _split(row[c], MULTI)
    ]

    record = RecordInput(
        row=n,
        identifier=identifier,
        slug=slug,
        category=category,
        status=status,
        access_level=access,
        texts=texts,
        ethnic_groups=_split(row.get("ethnic_groups", ""), LIST),
        places=_split(row.get("places", ""), LIST),
        subjects=subjects,
        agents=agents,
        collections=_split(row.get("collections", ""), LIST),
        timings=timings,
        dates=dates,
        rights_uri=rights_uri,
        rights_holder=row.get("rights_holder") or None,
        consent_note=consent,
        files=files,
    )
    return record, errors


def _gregorian_ok(month: int, day: int) -> bool:
    try:
        dt.date(2024, month, day)  # a leap year, so 29 February is allowed
    except ValueError:
        return False
    return True
