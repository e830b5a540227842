"""Tabular data for the open datasets: reading uploads, Frictionless Table Schemas, validation, typed rows.

Framework-free. An upload (CSV or XLSX) is read into a header and rows of text, refused early when it is
not what it claims to be or too large, and written back as normalised CSV (UTF-8, comma, one header
row). Schemas are Frictionless Table Schema descriptors; validation runs the ``frictionless`` library on
the normalised CSV and returns plain error values (type, row, column, field, cell...) that the
application translates. Typed rows, filtering and paging serve the preview and the downloads.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

#: Field types the archive offers (a subset of Table Schema's, the ones a spreadsheet holds).
FIELD_TYPES = ("string", "integer", "number", "boolean", "date", "year")
#: Constraints the schema editor offers.
CONSTRAINTS = ("required", "unique", "minimum", "maximum", "enum", "pattern", "minLength", "maxLength")
#: Missing-value markers accepted unless a schema says otherwise.
DEFAULT_MISSING_VALUES = ("",)
#: How many validation errors are kept and shown, and how many are counted (Frictionless stops there).
MAX_ERRORS_KEPT = 200
MAX_ERRORS_COUNTED = 10_000
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
FIELD_NAME_MAX = 100


class TableRefused(ValueError):
    """The upload cannot be read as a table. ``code`` names the reason, ``params`` its details."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Limits:
    """Bounds on what an upload may hold."""

    max_bytes: int = 20 * 1024 * 1024
    max_rows: int = 200_000
    max_columns: int = 200
    max_cell_chars: int = 10_000
    #: For XLSX (a zip): the most its parts may expand to, and the highest expansion ratio.
    max_unzipped_bytes: int = 200 * 1024 * 1024
    max_zip_ratio: int = 200


@dataclass
class RawTable:
    """A table read from an upload: header and rows as text (NFC), rows padded to the header's width."""

    header: list[str]
    rows: list[list[str]]
    #: Row numbers as the officer sees them in the file (header = row 1), for each row kept.
    source_rows: list[int] = field(default_factory=list)


def slugify_name(text: str) -> str:
    """A Frictionless resource name from a file name or title: lower-case ASCII, digits and '-'."""
    from metadata.text import slugify

    return slugify(text, 80) if slugify(text) != "record" else "table"


def sniff_format(head: bytes, filename: str) -> str:
    """'csv' or 'xlsx' from the first bytes (the name's extension only has to agree)."""
    suffix = Path(filename).suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        if suffix not in (".xlsx", ""):
            raise TableRefused("format_mismatch", filename=filename)
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise TableRefused("old_excel")
    if suffix in (".xlsx", ".xls", ".xlsm", ".ods"):
        raise TableRefused("format_mismatch", filename=filename)
    if b"\x00" in head:
        raise TableRefused("binary")
    return "csv"


def read_upload(
    path: Path, filename: str, limits: Limits = Limits(), sheet: str | None = None
) -> tuple[str, RawTable]:
    """Read an uploaded CSV or XLSX into a :class:`RawTable`; returns (format, table)."""
    size = path.stat().st_size
    if size == 0:
        raise TableRefused("empty")
    if size > limits.max_bytes:
        raise TableRefused("too_large", limit=limits.max_bytes)
    with path.open("rb") as fh:
        head = fh.read(8)
    fmt = sniff_format(head, filename)
    table = _read_xlsx(path, limits, sheet) if fmt == "xlsx" else _read_csv(path, limits)
    _check_header(table.header)
    if not table.rows:
        raise TableRefused("no_rows")
    return fmt, table


def _nfc(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFC", text)


def _read_csv(path: Path, limits: Limits) -> RawTable:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TableRefused("not_utf8", row=line) from None
    # The sniffer gives up on samples with blank lines (common in exported spreadsheets).
    sample = "\n".join(line for line in text[:65536].splitlines() if line.strip())
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        return _collect(reader, limits)
    except csv.Error as exc:
        raise TableRefused("csv_syntax", row=reader.line_num, detail=str(exc)) from None


def _check_zip(path: Path, limits: Limits) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set()
            total = 0
            for info in archive.infolist():
                names.add(info.filename)
                total += info.file_size
                if info.compress_size and info.file_size / max(info.compress_size, 1) > limits.max_zip_ratio:
                    raise TableRefused("zip_bomb")
            if total > limits.max_unzipped_bytes:
                raise TableRefused("zip_bomb")
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise TableRefused("not_xlsx")
    except zipfile.BadZipFile:
        raise TableRefused("not_xlsx") from None


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return _nfc(str(value)).strip()


def _read_xlsx(path: Path, limits: Limits, sheet: str | None) -> RawTable:
    _check_zip(path, limits)
    import openpyxl

    # A file object: openpyxl refuses paths without an .xlsx extension (uploads are temporary files).
    handle = path.open("rb")
    try:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken workbooks
        handle.close()
        raise TableRefused("not_xlsx", detail=type(exc).__name__) from None
    try:
        if sheet:
            if sheet not in workbook.sheetnames:
                raise TableRefused("no_sheet", sheet=sheet, sheets=", ".join(workbook.sheetnames))
            worksheet = workbook[sheet]
        else:
            worksheet = workbook.worksheets[0]
        rows = ([_cell_text(v) for v in row] for row in worksheet.iter_rows(values_only=True))
        return _collect(rows, limits)
    finally:
        workbook.close()
        handle.close()


def _collect(rows: Iterable[list[str]], limits: Limits) -> RawTable:
    header: list[str] | None = None
    kept: list[list[str]] = []
    numbers: list[int] = []
    for number, row in enumerate(rows, start=1):
        row = [_nfc(cell).strip() for cell in row]
        if header is None:
            if not any(row):
                continue  # leading blank rows (common in spreadsheets)
            while row and not row[-1]:
                row.pop()
            if len(row) > limits.max_columns:
                raise TableRefused("too_many_columns", limit=limits.max_columns)
            header = row
            continue
        if len(row) > len(header):
            extra = row[len(header) :]
            if any(extra):
                # Keep the extra cells so validation reports them by row and column.
                row = row[: len(header)] + extra
            else:
                row = row[: len(header)]
        if not any(row):
            continue  # trailing or separating blank rows
        for column, cell in enumerate(row, start=1):
            if len(cell) > limits.max_cell_chars:
                raise TableRefused("cell_too_long", row=number, column=column, limit=limits.max_cell_chars)
        kept.append(row + [""] * (len(header) - len(row)))
        numbers.append(number)
        if len(kept) > limits.max_rows:
            raise TableRefused("too_many_rows", limit=limits.max_rows)
    if header is None:
        raise TableRefused("no_header")
    return RawTable(header=header, rows=kept, source_rows=numbers)


def _check_header(header: list[str]) -> None:
    seen: dict[str, int] = {}
    for column, name in enumerate(header, start=1):
        if not name:
            raise TableRefused("blank_header", column=column)
        if len(name) > FIELD_NAME_MAX:
            raise TableRefused("long_header", column=column, limit=FIELD_NAME_MAX)
        if name in seen:
            raise TableRefused("duplicate_header", column=column, name=name, first=seen[name])
        seen[name] = column


def to_csv_bytes(table: RawTable) -> bytes:
    """The normalised CSV of a table: UTF-8 without BOM, comma-separated, CRLF as RFC 4180 says."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.header)
    writer.writerows(table.rows)
    return buffer.getvalue().encode("utf-8")


def read_csv_bytes(data: bytes) -> RawTable:
    """Read a normalised CSV back (as written by :func:`to_csv_bytes`)."""
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    header = next(reader, [])
    rows = [row for row in reader]
    return RawTable(header=header, rows=rows, source_rows=list(range(2, len(rows) + 2)))


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of *data*."""
    return hashlib.sha256(data).hexdigest()


# --- Schemas ---------------------------------------------------------------------------------------


def infer_schema(csv_path: Path) -> dict:
    """A Table Schema inferred by Frictionless from every row of a normalised CSV (archive types only)."""
    from frictionless import Detector, Resource

    detector = Detector(
        sample_size=100_000, field_confidence=1.0, field_missing_values=list(DEFAULT_MISSING_VALUES)
    )
    resource = Resource(path=csv_path.name, basepath=str(csv_path.parent), detector=detector)
    resource.infer()
    fields = []
    for item in resource.schema.to_descriptor().get("fields", []):
        kind = item.get("type", "string")
        if kind not in FIELD_TYPES:
            kind = "string"
        fields.append({"name": item["name"], "type": kind})
    return {"fields": fields, "missingValues": list(DEFAULT_MISSING_VALUES)}


def check_schema(schema: dict, header: list[str] | None = None) -> list[dict]:
    """Problems with a schema descriptor as plain values ({"code", ...}); empty when it is usable.

    Beyond what Frictionless checks: only the archive's field types, names that match the table's header
    in order, and constraints of the right kind.
    """
    from frictionless import Schema
    from frictionless.exception import FrictionlessException

    problems: list[dict] = []
    if not isinstance(schema, dict) or not isinstance(schema.get("fields"), list) or not schema["fields"]:
        return [{"code": "schema_no_fields"}]
    names = []
    for position, item in enumerate(schema["fields"], start=1):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            problems.append({"code": "schema_field_name", "column": position})
            continue
        names.append(item["name"])
        if item.get("type", "string") not in FIELD_TYPES:
            problems.append(
                {"code": "schema_field_type", "field": item["name"], "type": str(item.get("type"))}
            )
        constraints = item.get("constraints", {})
        if not isinstance(constraints, dict):
            problems.append({"code": "schema_constraints", "field": item["name"]})
            continue
        for key in constraints:
            if key not in CONSTRAINTS:
                problems.append(
                    {"code": "schema_constraint_unknown", "field": item["name"], "constraint": key}
                )
    if len(set(names)) != len(names):
        problems.append({"code": "schema_duplicate_names"})
    if header is not None and names != header:
        problems.append(
            {"code": "schema_header_mismatch", "expected": ", ".join(names), "found": ", ".join(header)}
        )
    if not problems:
        try:
            Schema.from_descriptor(_frictionless_schema(schema))
        except FrictionlessException as exc:
            problems.append({"code": "schema_invalid", "detail": exc.error.note})
    return problems


def _frictionless_schema(schema: dict) -> dict:
    """The descriptor Frictionless reads: the archive's multilingual extras left out."""
    fields = []
    for item in schema["fields"]:
        fields.append({k: v for k, v in item.items() if k not in ("titles", "descriptions", "unit")})
    out = {"fields": fields, "missingValues": list(schema.get("missingValues", DEFAULT_MISSING_VALUES))}
    if schema.get("primaryKey"):
        out["primaryKey"] = schema["primaryKey"]
    return out


def public_schema(schema: dict, lang: str = "vi") -> dict:
    """The schema as published in datapackage.json: standard properties, plus the multilingual extras
    (``titles``, ``descriptions``, ``unit``) that Table Schema allows as custom properties."""
    out = json.loads(json.dumps(schema))
    for item in out.get("fields", []):
        titles = item.get("titles") or {}
        if titles and "title" not in item:
            item["title"] = titles.get(lang) or next(iter(titles.values()))
        descriptions = item.get("descriptions") or {}
        if descriptions and "description" not in item:
            item["description"] = descriptions.get(lang) or next(iter(descriptions.values()))
    out.setdefault("missingValues", list(DEFAULT_MISSING_VALUES))
    return out


# --- Validation ------------------------------------------------------------------------------------


@dataclass
class Validation:
    """The outcome of validating a table: valid or not, the number of errors, the first errors."""

    valid: bool
    error_count: int
    errors: list[dict]


def validate_csv(csv_path: Path, schema: dict, source_rows: list[int] | None = None) -> Validation:
    """Validate a normalised CSV against *schema* with Frictionless; errors as plain values.

    Row numbers are the file's own when *source_rows* maps data rows back to the upload (an XLSX with
    blank rows, say); columns are 1-based.
    """
    from frictionless import Checklist, Resource, Schema

    resource = Resource(
        path=csv_path.name,
        basepath=str(csv_path.parent),
        schema=Schema.from_descriptor(_frictionless_schema(schema)),
    )
    report = resource.validate(checklist=Checklist(), limit_errors=MAX_ERRORS_COUNTED)
    task = report.tasks[0]
    errors = []
    for error in task.errors[:MAX_ERRORS_KEPT]:
        value = {"type": error.type, "detail": error.note}
        row = getattr(error, "row_number", None)
        if row is not None:
            # Frictionless counts the header as row 1, like a spreadsheet; map to the upload's numbering.
            if source_rows and 2 <= row <= len(source_rows) + 1:
                row = source_rows[row - 2]
            value["row"] = row
        column = getattr(error, "field_number", None)
        if column is not None:
            value["column"] = column
        name = getattr(error, "field_name", None)
        if name:
            value["field"] = name
        cell = getattr(error, "cell", None)
        if cell is not None:
            value["cell"] = str(cell)[:200]
        if error.type == "constraint-error":
            match = re.match(r'constraint "(\w+)" is "(.*)"', error.note or "")
            if match:
                value["constraint"], value["limit"] = match.group(1), match.group(2)
        if error.type == "type-error":
            match = re.match(r'type is "(\w+)', error.note or "")
            if match:
                value["field_type"] = match.group(1)
        errors.append(value)
    return Validation(valid=task.valid, error_count=len(task.errors), errors=errors)


# --- Typed rows, filtering, paging -------------------------------------------------------------------


def cast(value: str, kind: str, missing: Iterable[str] = DEFAULT_MISSING_VALUES):
    """The typed value of one cell (None when missing or unreadable)."""
    if value in missing:
        return None
    try:
        if kind == "integer" or kind == "year":
            return int(value)
        if kind == "number":
            number = decimal.Decimal(value)
            return int(number) if number == number.to_integral_value() and "." not in value else float(number)
        if kind == "boolean":
            lowered = value.lower()
            if lowered in ("true", "1", "yes"):
                return True
            if lowered in ("false", "0", "no"):
                return False
            return None
        if kind == "date":
            return dt.date.fromisoformat(value)
    except (ValueError, decimal.InvalidOperation):
        return None
    return value


def typed_rows(table: RawTable, schema: dict) -> list[list]:
    """Every row with its cells cast to the schema's types."""
    fields = schema.get("fields", [])
    kinds = [f.get("type", "string") for f in fields]
    missing = tuple(schema.get("missingValues", DEFAULT_MISSING_VALUES))
    return [
        [cast(cell, kinds[i] if i < len(kinds) else "string", missing) for i, cell in enumerate(row)]
        for row in table.rows
    ]


def json_value(value):
    """A typed cell as a JSON value (dates as ISO text)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def keyed_rows(names: list[str], rows: Iterable[list]) -> Iterator[dict]:
    """Rows as objects keyed by field name, JSON-ready."""
    for row in rows:
        yield {name: json_value(value) for name, value in zip(names, row, strict=False)}


@dataclass(frozen=True)
class RowFilter:
    """A preview's filters: words to find in any cell, exact values per field, a sort."""

    text: str = ""
    equals: tuple[tuple[str, str], ...] = ()
    sort: str | None = None
    descending: bool = False


def filter_rows(names: list[str], rows: list[list], raw: list[list[str]], wanted: RowFilter) -> list[int]:
    """Indexes of the rows matching *wanted*, in the asked order."""
    from metadata.text import fold

    words = [fold(w).lower() for w in wanted.text.split() if w.strip()]
    position = {name: i for i, name in enumerate(names)}
    equals = [(position[n], v) for n, v in wanted.equals if n in position]
    matched = []
    for index, cells in enumerate(raw):
        if any(cells[i] != v for i, v in equals):
            continue
        if words:
            haystack = fold(" ".join(cells)).lower()
            if not all(w in haystack for w in words):
                continue
        matched.append(index)
    if wanted.sort in position:
        column = position[wanted.sort]

        def key(i: int):
            value = rows[i][column]
            # Missing values sort last either way.
            if value is None:
                return (1, "")
            if isinstance(value, str):
                return (0, fold(value).lower())
            return (0, value)

        present = [i for i in matched if rows[i][column] is not None]
        absent = [i for i in matched if rows[i][column] is None]
        present.sort(key=key, reverse=wanted.descending)
        matched = present + absent
    return matched


def checksum_of_version(tables: Iterable[tuple[str, str, dict]]) -> str:
    """SHA-256 over a version's tables: (name, content SHA-256, schema) in order, canonical JSON."""
    canonical = json.dumps(
        [[n, s, schema] for n, s, schema in tables], sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return sha256_bytes(canonical.encode("utf-8"))
