"""Import and export of records as CSV: a dry run that reports every bad row, and an all-or-nothing run.

An import may come with a bundle of media files (a directory; the web stages an uploaded ZIP file or
folder into one): the ``files`` column names each record's files inside it. The dry run puts every
file through the same checks as an upload; the real run ingests them with their records, and a
failure anywhere rolls back every row and removes every original the import had stored.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

from flask_babel import lazy_gettext as _l

from archive.accounts.models import User
from archive.core.extensions import db
from archive.media import services as media_services
from archive.records import services
from archive.vocab.services import LookupError_
from media.checks import MediaRejected
from metadata.csv_records import CellError, RecordInput, files_by_row, parse_csv, write_csv

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
    "absolute_path": _l(
        "“%(value)s” is an absolute path; write the path inside the ZIP file or folder, e.g. photos/a.jpg."
    ),
    "parent_path": _l("“%(value)s” points outside the ZIP file or folder (“..”)."),
    "backslash_path": _l("“%(value)s” contains a backslash; separate folders with “/”, e.g. photos/a.jpg."),
    "draft_instead": _l(
        "The file asks for the status “%(value)s”; the record will be created as a draft, for a curator "
        "to review."
    ),
    # Problems with the files of a media bundle (FileProblem).
    "missing_file": _l("There is no such file in the ZIP file or folder."),
    "file_used_twice": _l("The file is also listed in row %(other_row)s; each file belongs to one record."),
    "same_content": _l("The file has the same content as “%(other)s”."),
    "unreferenced_file": _l("No row lists this file; it will not be imported."),
    "not_a_file": _l("Links and special files are not accepted."),
}


@dataclass(frozen=True)
class FileProblem:
    """A problem with one file of a media bundle: the row that lists it (0: no row does), its path in
    the bundle, a message code and its parameters. ``refusal`` marks the media pipeline's own reasons
    (archive.media.views.REASONS: empty, truncated, type_mismatch, duplicate...)."""

    row: int
    file: str
    code: str
    params: dict = field(default_factory=dict)
    refusal: bool = False

    @property
    def column(self) -> str:
        """The CSV column the problem belongs to: ``files`` for a row's file, none for the bundle."""
        return "files" if self.row else ""


Problem = CellError | FileProblem


@dataclass(frozen=True)
class PlannedRecord:
    """A row that passed the checks: what it would create."""

    row: int
    title: str
    status: str
    files: list[str]


@dataclass
class MediaBundle:
    """Media files offered with a CSV: their paths inside the bundle and where they are on disk.

    ``consumable`` bundles (a staged upload) are moved into the store by the ingest; others (a directory
    named on the command line) are copied first, so the user's files stay where they are.
    """

    files: dict[str, Path] = field(default_factory=dict)
    consumable: bool = False
    problems: list[FileProblem] = field(default_factory=list)

    @classmethod
    def from_directory(cls, root: Path, references: set[str], consumable: bool = False) -> MediaBundle:
        """Every regular file under *root* (dot-files and __MACOSX/ left out). When all files sit in
        one folder that no reference names, that folder is left out of the paths (a zipped or chosen
        folder)."""
        files: dict[str, Path] = {}
        problems: list[FileProblem] = []
        for directory, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__MACOSX")
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                path = Path(directory) / name
                relative = unicodedata.normalize("NFC", path.relative_to(root).as_posix())
                if path.is_symlink() or not path.is_file():
                    problems.append(FileProblem(0, relative, "not_a_file"))
                else:
                    files[relative] = path
        tops = {name.split("/", 1)[0] for name in files}
        if len(tops) == 1 and all("/" in name for name in files):
            top = tops.pop() + "/"
            if not any(ref.startswith(top) for ref in references):
                files = {name[len(top) :]: path for name, path in files.items()}
        return cls(files, consumable, problems)


@dataclass
class ImportReport:
    """What an import found and did."""

    dry_run: bool
    rows: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    imported: list[str] = field(default_factory=list)
    #: The rows that passed the checks and what they would create.
    planned: list[PlannedRecord] = field(default_factory=list)
    #: Files in the media bundle, and the ids of the media rows created.
    files: int = 0
    media: list[int] = field(default_factory=list)
    #: Storage keys of the originals this import stored (to remove them if the commit fails).
    stored: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no row and no file had a problem."""
        return not self.errors


def message(error: Problem) -> str:
    """The translated sentence for one problem, in the current language."""
    if isinstance(error, FileProblem) and error.refusal:
        from archive.media.views import reason_text

        return reason_text(error.code, error.params)
    text = MESSAGES.get(error.code)
    if text is None:  # pragma: no cover - every code the parser emits has a message
        return error.code
    return str(text) % error.params if error.params else str(text)


def describe_error(error: Problem) -> str:
    """'Row 3, column “category”: Unknown category...' in the current language."""
    from flask_babel import gettext as _

    if isinstance(error, FileProblem):
        if error.row:
            return _(
                "Row %(row)s, file “%(file)s”: %(message)s",
                row=error.row,
                file=error.file,
                message=message(error),
            )
        return _("File “%(file)s”: %(message)s", file=error.file, message=message(error))
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


def import_records(
    text: str, actor: User | None, dry_run: bool, media: MediaBundle | None = None
) -> ImportReport:
    """Check every row (and every file of *media* a row lists); unless *dry_run* and only if everything
    is good, create all records and ingest their files.

    Writes happen inside a SAVEPOINT: any failure rolls back every row of the file and removes every
    original stored meanwhile, so an import is all or nothing. A contributor's rows become drafts owned
    by them whatever the file says; curators and administrators (and the command line) keep its status.
    The caller commits, then queues the derivatives of ``report.media``.
    """
    parsed, errors = parse_csv(text)
    report = ImportReport(dry_run=dry_run, rows=len(parsed) + len({e.row for e in errors if e.row > 1}))
    report.errors.extend(errors)
    if actor is not None and not actor.is_curator:
        for i, data in enumerate(parsed):
            if data.status != "draft":
                report.warnings.append(CellError(data.row, "status", "draft_instead", {"value": data.status}))
                parsed[i] = replace(data, status="draft")
    bundle = media or MediaBundle()
    listed = _check_listing(files_by_row(text), bundle, report)
    report.planned = [
        PlannedRecord(d.row, d.texts["title"][0].value, d.status, list(d.files)) for d in parsed
    ]
    writing = not dry_run and report.ok
    checked: set[str] = set()
    digests: dict[str, str] = {}
    if not writing:  # check every listed file up front: no write (and on SQLite no lock) meanwhile
        for name, row in listed.items():
            _check_one(row, name, bundle.files[name], digests, report)
        checked.update(listed)
    savepoint = db.session.begin_nested()
    try:
        for data in parsed:
            record = _create(data, actor, report)
            writing = writing and record is not None
            for name in data.files:
                if name in checked or name not in bundle.files:
                    continue
                checked.add(name)
                if writing:
                    writing = _ingest(record, data.row, name, bundle, actor, report)
                else:  # something failed: keep checking, without storing, to report every problem
                    _check_one(data.row, name, bundle.files[name], digests, report)
        if dry_run or report.errors:
            savepoint.rollback()
            media_services.discard_originals(report.stored)
            report.imported, report.media, report.stored = [], [], []
        else:
            savepoint.commit()
    except Exception:
        savepoint.rollback()
        media_services.discard_originals(report.stored)
        raise
    report.errors.sort(key=_order)
    report.warnings.sort(key=_order)
    logger.info(
        "CSV import (dry_run=%s): %d rows, %d files, %d errors, %d imported, %d media",
        dry_run,
        report.rows,
        report.files,
        len(report.errors),
        len(report.imported),
        len(report.media),
    )
    return report


def _order(problem: Problem) -> tuple:
    return (problem.row, problem.column, getattr(problem, "file", ""))


def _check_listing(
    listing: dict[int, list[str]], bundle: MediaBundle, report: ImportReport
) -> dict[str, int]:
    """Files listed twice or missing (errors), files no row lists (warnings); returns the bundle's files
    that rows list, each with the first row listing it."""
    report.files = len(bundle.files)
    report.errors.extend(bundle.problems)
    first: dict[str, int] = {}
    for row, names in sorted(listing.items()):
        for name in names:
            if name in first:
                report.errors.append(FileProblem(row, name, "file_used_twice", {"other_row": first[name]}))
                continue
            first[name] = row
            if name not in bundle.files:
                report.errors.append(FileProblem(row, name, "missing_file"))
    for name in sorted(set(bundle.files) - set(first)):
        report.warnings.append(FileProblem(0, name, "unreferenced_file"))
    return {name: row for name, row in first.items() if name in bundle.files}


def _check_one(row: int, name: str, path: Path, digests: dict[str, str], report: ImportReport) -> None:
    """Put one file through the ingest checks without storing it; report a refusal or a second copy."""
    try:
        facts = media_services.check_file(path, name)
    except MediaRejected as exc:
        report.errors.append(FileProblem(row, name, exc.code, exc.params, refusal=True))
        return
    if facts.sha256 in digests:
        report.errors.append(FileProblem(row, name, "same_content", {"other": digests[facts.sha256]}))
    else:
        digests[facts.sha256] = name


def _create(data: RecordInput, actor: User | None, report: ImportReport):
    """Create one record; a problem with it is reported and None returned."""
    try:
        record = services.create_record(data, actor)
    except LookupError_ as exc:
        params = dict(exc.params)
        column = params.pop("column", "")
        report.errors.append(CellError(data.row, column, exc.code, params))
        return None
    except services.RecordError as exc:
        column = "identifier" if exc.code == "identifier_taken" else "slug"
        report.errors.append(CellError(data.row, column, exc.code, exc.params))
        return None
    report.imported.append(record.public_id)
    return record


def _ingest(
    record, row: int, name: str, bundle: MediaBundle, actor: User | None, report: ImportReport
) -> bool:
    """Ingest one file into *record*; False (and the refusal reported) when the pipeline refuses it."""
    source = bundle.files[name]
    if bundle.consumable:
        path = source
    else:  # ingest_file consumes its file: give it a copy, next to the store
        fd, temp = tempfile.mkstemp(dir=media_services.incoming_dir(), prefix="import-")
        os.close(fd)
        path = Path(temp)
        try:
            shutil.copyfile(source, path)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    try:
        media = media_services.ingest_file(record, path, name, actor)
    except MediaRejected as exc:
        report.errors.append(FileProblem(row, name, exc.code, exc.params, refusal=True))
        return False
    report.media.append(media.id)
    report.stored.append(media.storage_key)
    return True


def export_csv(records) -> str:
    """CSV text for the given records, in the archive's import format."""
    return write_csv([services.describe(r) for r in records])
