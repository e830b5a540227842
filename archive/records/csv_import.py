"""Import and export of records as CSV: a dry run that reports every bad row, and an all-or-nothing run."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from archive.accounts.models import User
from archive.core.extensions import db
from archive.records import services
from archive.vocab.services import LookupError_
from metadata.csv_records import CellError, parse_csv, write_csv

logger = logging.getLogger(__name__)

#: Messages for every problem the importer can report, translated into the user's language.
MESSAGES = {
    "empty_file": _l("The file is empty."),
    "not_utf8": _l("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again."),
    "too_large": _l("The file is larger than the limit of %(limit)s bytes."),
    "malformed_csv": _l("The file is not valid CSV (%(detail)s)."),
    "no_rows": _l("The file has a header but no records."),
    "unknown_column": _l("Unknown column."),
    "duplicate_column": _l("A column name appears twice in the header."),
    "missing_column": _l("This column is required."),
    "bad_language_tag": _l("“%(tag)s” is not a valid language tag (use vi, en, tyz, hnj...)."),
    "wrong_cell_count": _l("The row has %(found)s cells but the header has %(expected)s."),
    "required": _l("This value is required."),
    "bad_identifier": _l("“%(value)s” is not a valid identifier (4–32 lowercase letters and digits)."),
    "bad_slug": _l("“%(value)s” is not a valid slug (lowercase letters, digits and hyphens)."),
    "unknown_category": _l("Unknown category “%(value)s”; use one of: %(allowed)s."),
    "unknown_status": _l("Unknown status “%(value)s”; use one of: %(allowed)s."),
    "unknown_access": _l("Unknown access level “%(value)s”; use one of: %(allowed)s."),
    "subject_mismatch": _l("The subject columns must list the same number of subjects in each language."),
    "bad_agent": _l("“%(value)s” must be written as “Name (role)”."),
    "bad_role": _l("Unknown role “%(value)s”; use one of: %(allowed)s."),
    "bad_timing": _l(
        "“%(value)s” is not a valid date rule; write e.g. lunar:01-08, lunar:06L-01+3 or gregorian:04-14+3."
    ),
    "bad_date": _l(
        "“%(value)s” is not a valid date; write e.g. recorded:2019-02-12 or held:2019-02-12/2019-02-14."
    ),
    "bad_uri": _l("“%(value)s” is not a web address (http:// or https://)."),
    "duplicate_identifier": _l("The same identifier is already used in row %(other_row)s."),
    "duplicate_slug": _l("The same slug is already used in row %(other_row)s."),
    "identifier_taken": _l("The identifier “%(value)s” has already been issued in this archive."),
    "slug_taken": _l("The slug “%(value)s” is already used by another record."),
    "unknown_ethnic_group": _l("No ethnic group is called “%(value)s”."),
    "ambiguous_ethnic_group": _l(
        "“%(value)s” could mean several ethnic groups (%(candidates)s); write the identifier."
    ),
    "unknown_place": _l(
        "No place is called “%(value)s”; write “Commune, District, Province” or a place code."
    ),
    "ambiguous_place": _l("“%(value)s” could mean several places: %(candidates)s. Write the code."),
    "unknown_collection": _l("No collection has the identifier “%(value)s”."),
}


@dataclass
class ImportReport:
    """What an import found and did."""

    dry_run: bool
    rows: int = 0
    errors: list[CellError] = field(default_factory=list)
    imported: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no row had a problem."""
        return not self.errors


def message(error: CellError) -> str:
    """The translated sentence for one problem, in the current language."""
    text = MESSAGES.get(error.code)
    if text is None:  # pragma: no cover - every code the parser emits has a message
        return error.code
    return str(text) % error.params if error.params else str(text)


def describe_error(error: CellError) -> str:
    """'Row 3, column “category”: Unknown category...' in the current language."""
    from flask_babel import gettext as _

    if error.column:
        return _(
            "Row %(row)s, column “%(column)s”: %(message)s",
            row=error.row,
            column=error.column,
            message=message(error),
        )
    return _("Row %(row)s: %(message)s", row=error.row, message=message(error))


def decode_upload(raw: bytes, limit: int) -> tuple[str | None, list[CellError]]:
    """Decode uploaded bytes as UTF-8 (with or without BOM) within a size limit."""
    if len(raw) > limit:
        return None, [CellError(1, "", "too_large", {"limit": limit})]
    if not raw.strip():
        return None, [CellError(1, "", "empty_file")]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        return None, [CellError(1, "", "not_utf8")]


def import_records(text: str, actor: User | None, dry_run: bool) -> ImportReport:
    """Check every row; unless *dry_run* and only if every row is good, create all records.

    Writes happen inside a SAVEPOINT: any failure rolls back every row of the file, so an import is
    all or nothing. The caller commits.
    """
    parsed, errors = parse_csv(text)
    report = ImportReport(dry_run=dry_run, rows=len(parsed) + len({e.row for e in errors if e.row > 1}))
    report.errors.extend(errors)
    savepoint = db.session.begin_nested()
    try:
        for data in parsed:
            try:
                record = services.create_record(data, actor)
                report.imported.append(record.public_id)
            except LookupError_ as exc:
                params = dict(exc.params)
                column = params.pop("column", "")
                report.errors.append(CellError(data.row, column, exc.code, params))
            except services.RecordError as exc:
                column = "identifier" if exc.code == "identifier_taken" else "slug"
                report.errors.append(CellError(data.row, column, exc.code, exc.params))
        if dry_run or report.errors:
            savepoint.rollback()
            report.imported = [] if report.errors or dry_run else report.imported
        else:
            savepoint.commit()
    except Exception:
        savepoint.rollback()
        raise
    report.errors.sort(key=lambda e: (e.row, e.column))
    logger.info(
        "CSV import (dry_run=%s): %d rows, %d errors, %d imported",
        dry_run,
        report.rows,
        len(report.errors),
        len(report.imported),
    )
    return report


def export_csv(records) -> str:
    """CSV text for the given records, in the archive's import format."""
    return write_csv([services.describe(r) for r in records])
