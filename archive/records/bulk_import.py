"""Bulk import on the web: a CSV of records with a ZIP file or a folder of media, checked before anything
is written.

The upload is staged in a private directory under the data directory, named by a random token and bound
to the person who sent it. The dry run puts every row and every file through the same checks as the
real import (archive.records.csv_import) and keeps its report there; only a confirmation writes, all or
nothing. Staged imports expire after BULK_IMPORT_STAGING_HOURS; a periodic job removes them.

ZIP files are extracted defensively: no absolute paths, no "..", no links or special files, no more than
BULK_IMPORT_MAX_FILES entries, no more than BULK_IMPORT_MAX_BYTES once expanded (counted while
extracting, not trusted from the headers) and no entry that expands far more than media ever do.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import shutil
import stat
import time
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from archive.accounts.models import User
from archive.core.jobs import huey_for, periodic
from archive.records.csv_import import (
    CellError,
    FileProblem,
    ImportReport,
    MediaBundle,
    PlannedRecord,
    import_records,
)
from metadata.csv_records import bundle_path, files_by_row

logger = logging.getLogger(__name__)

CHUNK = 1 << 20
TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
#: Entries expanding more than this many times their compressed size are refused as ZIP bombs; media
#: files hardly compress at all. Small entries are not held to it.
MAX_RATIO = 200
RATIO_FLOOR = 1 << 20
PURGE_JOB = "purge_bulk_imports"
PURGE_SCHEDULE = {"minute": "23"}

#: Why a bundle is refused before any check, in the user's language.
REFUSALS = {
    "no_csv": _l("Choose the CSV file of the records."),
    "zip_and_folder": _l("Send either a ZIP file or a folder, not both."),
    "zip_unreadable": _l("The ZIP file cannot be read; make it again and send it."),
    "zip_encrypted": _l("“%(name)s” in the ZIP file is protected by a password; send it without one."),
    "unsafe_path": _l(
        "“%(name)s” would be written outside the import (an absolute path, “..” or a backslash); "
        "nothing was extracted."
    ),
    "unusable_name": _l(
        "“%(name)s” is not a usable file name (too long, or with control characters); rename it and send "
        "the bundle again."
    ),
    "not_a_file": _l("“%(name)s” in the ZIP file is a link or a special file; send only folders and files."),
    "same_name": _l("“%(name)s” appears twice in the bundle."),
    "too_many_files": _l("The bundle holds %(found)s files, more than the limit of %(limit)s."),
    "too_large": _l("The bundle expands to more than the limit of %(limit)s bytes."),
    "zip_bomb": _l(
        "“%(name)s” in the ZIP file expands to far more than its compressed size; it looks like a ZIP bomb "
        "and was refused."
    ),
}
STATUS_FOR = {"too_many_files": 413, "too_large": 413, "zip_bomb": 413}


class BundleRefused(Exception):
    """An upload refused as a whole before any check (unsafe or oversized ZIP file or folder)."""

    def __init__(self, code: str, **params) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params

    @property
    def status(self) -> int:
        """The HTTP status that fits the refusal."""
        return STATUS_FOR.get(self.code, 400)


def refusal_text(error: BundleRefused) -> str:
    """The translated sentence for a refused bundle."""
    return str(REFUSALS[error.code]) % error.params


@dataclass(frozen=True)
class StagedImport:
    """A checked upload waiting for its confirmation."""

    token: str
    directory: Path
    user_id: int
    created: float

    @property
    def csv_path(self) -> Path:
        """The records' CSV (UTF-8)."""
        return self.directory / "records.csv"

    @property
    def media_dir(self) -> Path:
        """The extracted ZIP file or the folder's files."""
        return self.directory / "media"

    @property
    def report_path(self) -> Path:
        """The dry run's report (JSON)."""
        return self.directory / "report.json"


def staging_root() -> Path:
    """Where staged imports live (same filesystem as the originals, so files move into the store)."""
    path = Path(current_app.config["DATA_DIR"]) / "bulk-imports"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _lifetime() -> float:
    return current_app.config["BULK_IMPORT_STAGING_HOURS"] * 3600.0


def stage(
    user: User,
    csv_text: str,
    zip_stream: BinaryIO | None = None,
    folder: Iterable[tuple[str, BinaryIO]] = (),
) -> StagedImport:
    """Stage a CSV with a ZIP file or a folder's files (relative name, stream) for *user*; raises
    BundleRefused (and keeps nothing) when the bundle is unsafe or too large."""
    folder = list(folder)
    if zip_stream is not None and folder:
        raise BundleRefused("zip_and_folder")
    token = secrets.token_hex(16)
    staged = StagedImport(token, staging_root() / token, user.id, time.time())
    staged.directory.mkdir(mode=0o700)
    try:
        staged.media_dir.mkdir()
        staged.csv_path.write_text(csv_text, encoding="utf-8")
        if zip_stream is not None:
            archive = staged.directory / "upload.zip"
            _receive(zip_stream, archive, current_app.config["BULK_IMPORT_MAX_BYTES"])
            extract_zip(archive, staged.media_dir)
            archive.unlink()
        elif folder:
            save_folder(folder, staged.media_dir)
        meta = {"user_id": user.id, "created": staged.created}
        (staged.directory / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    except BaseException:
        shutil.rmtree(staged.directory, ignore_errors=True)
        raise
    logger.info("bulk import %s staged by %s", token, user.email)
    return staged


def _receive(stream: BinaryIO, target: Path, limit: int) -> None:
    total = 0
    with target.open("xb") as out:
        while chunk := stream.read(CHUNK):
            total += len(chunk)
            if total > limit:
                raise BundleRefused("too_large", limit=limit)
            out.write(chunk)


def _entry_path(name: str) -> str | None:
    """The bundle path of a ZIP entry or folder file; None for what is left out (dot-files, __MACOSX/,
    folders). Raises BundleRefused for a name that would leave the staging directory."""
    if any(not ch.isprintable() for ch in name) or any(len(part.encode()) > 255 for part in name.split("/")):
        # NUL, control characters or a name longer than a file system takes: the OS would refuse it
        shown = "".join(ch if ch.isprintable() else "\ufffd" for ch in name[:100])
        raise BundleRefused("unusable_name", name=shown)
    path, code = bundle_path(name)
    if code:
        raise BundleRefused("unsafe_path", name=name)
    if path is None:
        return None
    parts = path.split("/")
    if parts[0] == "__MACOSX" or any(part.startswith(".") for part in parts):
        return None
    return path


def _target(root: Path, path: str, name: str) -> Path:
    target = root.joinpath(*path.split("/"))
    if not target.resolve().is_relative_to(root.resolve()):  # defence in depth: bundle_path refused it
        raise BundleRefused("unsafe_path", name=name)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):  # "a" is a file and "a/b" is wanted
        raise BundleRefused("same_name", name=name) from None
    if target.exists():
        raise BundleRefused("same_name", name=name)
    return target


def extract_zip(archive: Path, root: Path) -> int:
    """Extract a ZIP file into *root* under the limits; returns the number of files written. Every entry
    is checked before anything is extracted; sizes are counted again while extracting."""
    max_files = current_app.config["BULK_IMPORT_MAX_FILES"]
    max_bytes = current_app.config["BULK_IMPORT_MAX_BYTES"]
    try:
        bundle = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise BundleRefused("zip_unreadable") from None
    with bundle:
        entries = bundle.infolist()
        if len(entries) > max_files:
            raise BundleRefused("too_many_files", found=len(entries), limit=max_files)
        plan: list[tuple[zipfile.ZipInfo, str]] = []
        declared = 0
        for info in entries:
            path = _entry_path(info.filename)
            kind = stat.S_IFMT(info.external_attr >> 16)  # Unix file type; 0 when the zipper wrote none
            if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
                raise BundleRefused("not_a_file", name=info.filename)
            if path is None or info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise BundleRefused("zip_encrypted", name=info.filename)
            declared += info.file_size
            if declared > max_bytes:
                raise BundleRefused("too_large", limit=max_bytes)
            if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise BundleRefused("zip_bomb", name=info.filename)
            plan.append((info, path))
        written = 0
        for info, path in plan:
            target = _target(root, path, info.filename)
            size = 0
            try:
                with bundle.open(info) as source, target.open("xb") as out:
                    while chunk := source.read(CHUNK):
                        size += len(chunk)
                        written += len(chunk)
                        if written > max_bytes:
                            raise BundleRefused("too_large", limit=max_bytes)
                        if size > RATIO_FLOOR and size > MAX_RATIO * max(info.compress_size, 1):
                            raise BundleRefused("zip_bomb", name=info.filename)
                        out.write(chunk)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError):
                raise BundleRefused("zip_unreadable") from None
    logger.info("ZIP file extracted: %d files, %d bytes", len(plan), written)
    return len(plan)


def save_folder(files: list[tuple[str, BinaryIO]], root: Path) -> int:
    """Write a folder's files (sent with their relative names) into *root* under the limits."""
    max_files = current_app.config["BULK_IMPORT_MAX_FILES"]
    max_bytes = current_app.config["BULK_IMPORT_MAX_BYTES"]
    if len(files) > max_files:
        raise BundleRefused("too_many_files", found=len(files), limit=max_files)
    written = count = 0
    for name, stream in files:
        path = _entry_path(name)
        if path is None:
            continue
        target = _target(root, path, name)
        with target.open("xb") as out:
            while chunk := stream.read(CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise BundleRefused("too_large", limit=max_bytes)
                out.write(chunk)
        count += 1
    return count


def _bundle(staged: StagedImport, text: str) -> MediaBundle:
    references = {name for names in files_by_row(text).values() for name in names}
    return MediaBundle.from_directory(staged.media_dir, references, consumable=True)


def dry_run(staged: StagedImport, user: User) -> ImportReport:
    """Check the staged rows and files without writing anything; the report is kept with the upload."""
    text = staged.csv_path.read_text(encoding="utf-8")
    report = import_records(text, user, dry_run=True, media=_bundle(staged, text))
    staged.report_path.write_text(json.dumps(report_to_json(report)), encoding="utf-8")
    return report


def load(token: str, user: User) -> StagedImport | None:
    """The staged import *token* of *user*; None when it does not exist, has expired or is someone
    else's."""
    if not TOKEN_RE.match(token or ""):
        return None
    directory = staging_root() / token
    try:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    staged = StagedImport(token, directory, int(meta["user_id"]), float(meta["created"]))
    if staged.user_id != user.id:
        return None
    if time.time() - staged.created > _lifetime():
        discard(staged)
        return None
    return staged


def read_report(staged: StagedImport) -> ImportReport | None:
    """The dry run's report of a staged import."""
    try:
        return report_from_json(json.loads(staged.report_path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def confirm(token: str, user: User) -> ImportReport | None:
    """Check everything again and import it: records (drafts for a contributor) and their media, all or
    nothing. None when there is no such staged import for *user*. The staged files are gone afterwards,
    whatever the outcome; the caller commits (and removes ``report.stored`` if the commit fails), then
    queues the derivatives of ``report.media``."""
    staged = load(token, user)
    if staged is None:
        return None
    # Take the upload for this request alone: a second click finds nothing to confirm.
    claimed = staged.directory.with_name(f".{token}-confirming")
    try:
        staged.directory.rename(claimed)
    except OSError:
        return None
    staged = StagedImport(token, claimed, staged.user_id, staged.created)
    try:
        text = staged.csv_path.read_text(encoding="utf-8")
        report = import_records(text, user, dry_run=False, media=_bundle(staged, text))
    finally:
        shutil.rmtree(claimed, ignore_errors=True)
    logger.info("bulk import %s confirmed by %s: %s", token, user.email, "ok" if report.ok else "refused")
    return report


def discard(staged: StagedImport) -> None:
    """Remove a staged import."""
    shutil.rmtree(staged.directory, ignore_errors=True)


@periodic(PURGE_JOB, **PURGE_SCHEDULE)
def purge_expired() -> int:
    """Remove staged imports older than BULK_IMPORT_STAGING_HOURS (also ones left by an interrupted
    confirmation); returns how many were removed."""
    root = staging_root()
    limit = time.time() - _lifetime()
    removed = 0
    for entry in root.iterdir():
        try:
            created = json.loads((entry / "meta.json").read_text(encoding="utf-8"))["created"]
        except (OSError, ValueError, KeyError, TypeError):
            created = entry.lstat().st_mtime
        if created < limit:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed += 1
    if removed:
        logger.info("%d expired bulk imports removed", removed)
    return removed


def install_jobs(app: Flask) -> None:
    """Register the purge job on *app*'s queue if the queue was built before this module was imported
    (the application binds its queue before it imports the blueprints)."""
    tasks = app.extensions.get("jobs")
    if tasks is None or PURGE_JOB in tasks:
        return
    from huey import crontab

    def run() -> int:
        with app.app_context():
            return purge_expired()

    run.__name__ = purge_expired.__name__
    run.__doc__ = purge_expired.__doc__
    tasks[PURGE_JOB] = huey_for(app).periodic_task(crontab(**PURGE_SCHEDULE), name=PURGE_JOB)(run)


# --- The report, kept as JSON with the staged upload and shown in the reader's language ---------------


def report_to_json(report: ImportReport) -> dict:
    """A JSON-ready form of a dry-run report (message codes, not sentences)."""

    def problem(p) -> dict:
        if isinstance(p, FileProblem):
            return {"kind": "file", **asdict(p)}
        return {"kind": "cell", **asdict(p)}

    return {
        "rows": report.rows,
        "files": report.files,
        "errors": [problem(p) for p in report.errors],
        "warnings": [problem(p) for p in report.warnings],
        "planned": [asdict(p) for p in report.planned],
    }


def report_from_json(data: dict) -> ImportReport:
    """The report written by :func:`report_to_json`."""

    def problem(item: dict):
        item = dict(item)
        kind = item.pop("kind")
        return FileProblem(**item) if kind == "file" else CellError(**item)

    return ImportReport(
        dry_run=True,
        rows=data["rows"],
        files=data["files"],
        errors=[problem(p) for p in data["errors"]],
        warnings=[problem(p) for p in data["warnings"]],
        planned=[PlannedRecord(**p) for p in data["planned"]],
    )
