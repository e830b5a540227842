"""The datasets' operations: describing a dataset, uploading a table into a draft version, confirming its
schema, publishing, discarding, withdrawing, and reading published tables.

Every function takes the acting user and checks permission first; they flush but never commit. Files
enter the content-addressed store only after the upload was read and normalised; a file stored by a
transaction that rolls back is removed, and a discarded draft's files are removed after the commit when
nothing else refers to them.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, selectinload

from archive.accounts.models import User
from archive.audit import record as audit_record
from archive.core.extensions import db
from archive.core.storage import original_path, store_original_file
from archive.core.types import from_langstrings, utcnow
from archive.datasets.models import Dataset, DatasetTable, DatasetVersion
from archive.media.services import display_filename
from media.probe import sha256_file
from metadata import tables
from metadata.languages import LangString

logger = logging.getLogger(__name__)

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,118}[a-z0-9]$")
SCHEMA_MODES = ("previous", "infer", "provided")
RESERVED_TABLE_NAMES = frozenset({"datapackage", "latest"})


class DatasetError(Exception):
    """A refusal the user can understand: ``code`` names it (translated by the views), ``status`` is HTTP."""

    def __init__(self, code: str, status: int = 400, **params):
        super().__init__(code)
        self.code = code
        self.status = status
        self.params = params


# --- who may do what ---------------------------------------------------------------------------------


def _signed_in(user: User | None) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def can_manage(user: User | None) -> bool:
    """Officers (contributors), curators and administrators prepare datasets."""
    return _signed_in(user) and bool(user.can_contribute)


def can_publish(user: User | None) -> bool:
    """Curators and administrators publish versions and withdraw datasets."""
    return _signed_in(user) and bool(user.is_curator)


def can_edit(dataset: Dataset, user: User | None) -> bool:
    """Curators edit every dataset; an officer edits the datasets they created. Nobody uploads into a
    generated dataset: the refresh job owns its versions."""
    if not can_manage(user):
        return False
    return bool(user.is_curator) or dataset.created_by_id == user.id


def can_view(dataset: Dataset, user: User | None) -> bool:
    """Published datasets are for everyone; drafts and withdrawn ones for those who may edit them."""
    return dataset.is_public or can_edit(dataset, user)


def _require(allowed: bool) -> None:
    if not allowed:
        raise DatasetError("not_allowed", 403)


# --- reading -----------------------------------------------------------------------------------------


def _eager(stmt):
    return stmt.options(selectinload(Dataset.versions).selectinload(DatasetVersion.tables))


def get_by_slug(slug: str) -> Dataset | None:
    """The dataset with *slug* (any status), versions and tables loaded."""
    return db.session.scalar(_eager(select(Dataset).where(Dataset.slug == slug)))


def get_by_id(dataset_id: int) -> Dataset | None:
    """The dataset with *dataset_id* (any status), versions and tables loaded."""
    return db.session.scalar(_eager(select(Dataset).where(Dataset.id == dataset_id)))


def public_datasets() -> list[Dataset]:
    """Every dataset visible to everyone, most recently published first."""
    datasets = db.session.scalars(_eager(select(Dataset).where(Dataset.status == "published"))).all()
    public = [d for d in datasets if d.is_public]
    public.sort(key=lambda d: (d.latest_version.published_at, d.id), reverse=True)
    return public


def datasets_for(user: User | None) -> list[Dataset]:
    """What the admin list shows *user*: every dataset for curators, their own and public ones otherwise."""
    datasets = db.session.scalars(_eager(select(Dataset).order_by(Dataset.updated_at.desc()))).all()
    return [d for d in datasets if can_edit(d, user) or d.is_public]


def version_of(dataset: Dataset, number: int) -> DatasetVersion | None:
    """Version *number* of *dataset*, or None."""
    return next((v for v in dataset.versions if v.number == number), None)


def concerning(
    group_slugs: set[str] = frozenset(),
    place_codes: set[str] = frozenset(),
    among: list[Dataset] | None = None,
) -> list[Dataset]:
    """Public datasets (or those of *among*) about any of these ethnic groups or provinces (back links)."""
    groups, codes = set(group_slugs), set(place_codes)
    datasets = public_datasets() if among is None else among
    return [d for d in datasets if set(d.ethnic_groups or ()) & groups or set(d.spatial or ()) & codes]


# --- describing --------------------------------------------------------------------------------------


@dataclass
class DatasetData:
    """What the metadata form (or a seed file) gives."""

    slug: str
    title: list[LangString]
    description: list[LangString] = field(default_factory=list)
    publisher: list[LangString] = field(default_factory=list)
    publisher_uri: str | None = None
    contact_name: str = ""
    contact_email: str = ""
    license_uri: str = "http://creativecommons.org/licenses/by/4.0/"
    themes: list[str] = field(default_factory=list)
    keywords: list[LangString] = field(default_factory=list)
    temporal_start: dt.date | None = None
    temporal_end: dt.date | None = None
    spatial: list[str] = field(default_factory=list)
    ethnic_groups: list[str] = field(default_factory=list)
    accrual_periodicity: str = "IRREG"


def _check_data(data: DatasetData, dataset: Dataset | None) -> None:
    from metadata import dcat

    if not SLUG_RE.match(data.slug or ""):
        raise DatasetError("bad_slug")
    other = db.session.scalar(select(Dataset.id).where(Dataset.slug == data.slug))
    if other is not None and (dataset is None or other != dataset.id):
        raise DatasetError("slug_taken")
    if not any(v.lang == "vi" and v.value.strip() for v in data.title):
        raise DatasetError("title_vi_required")
    if data.license_uri not in dcat.LICENCES:
        raise DatasetError("bad_licence")
    if any(t not in dcat.THEMES for t in data.themes):
        raise DatasetError("bad_theme")
    if data.accrual_periodicity not in dcat.FREQUENCIES:
        raise DatasetError("bad_frequency")
    if data.temporal_start and data.temporal_end and data.temporal_start > data.temporal_end:
        raise DatasetError("bad_period")
    if data.contact_email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", data.contact_email):
        raise DatasetError("bad_email")


def _apply(dataset: Dataset, data: DatasetData) -> None:
    dataset.slug = data.slug
    dataset.title = from_langstrings(data.title)
    dataset.description = from_langstrings(data.description)
    dataset.publisher = from_langstrings(data.publisher)
    dataset.publisher_uri = data.publisher_uri or None
    dataset.contact_name = data.contact_name.strip()
    dataset.contact_email = data.contact_email.strip()
    dataset.license_uri = data.license_uri
    dataset.themes = list(dict.fromkeys(data.themes))
    dataset.keywords = from_langstrings(data.keywords)
    dataset.temporal_start = data.temporal_start
    dataset.temporal_end = data.temporal_end
    dataset.spatial = list(dict.fromkeys(data.spatial))
    dataset.ethnic_groups = list(dict.fromkeys(data.ethnic_groups))
    dataset.accrual_periodicity = data.accrual_periodicity


def _snapshot(dataset: Dataset) -> dict:
    return {
        "slug": dataset.slug,
        "title": dataset.title,
        "status": dataset.status,
        "license_uri": dataset.license_uri,
        "themes": dataset.themes,
        "spatial": dataset.spatial,
    }


def create_dataset(
    user: User | None, data: DatasetData, *, origin: str = "uploaded", generator: str | None = None
) -> Dataset:
    """Describe a new dataset (officers); it stays a draft until a version is published."""
    if origin == "uploaded":
        _require(can_manage(user))
    _check_data(data, None)
    dataset = Dataset(created_by_id=user.id if user else None, origin=origin, generator=generator)
    _apply(dataset, data)
    db.session.add(dataset)
    db.session.flush()
    audit_record(
        "dataset_created",
        "dataset",
        dataset.id,
        dataset.slug,
        after=_snapshot(dataset),
        actor=user or "system",
    )
    return dataset


def update_dataset(user: User | None, dataset: Dataset, data: DatasetData, version: int | None) -> Dataset:
    """Change a dataset's description; 409 when *version* is not the one the form was opened with."""
    _require(can_edit(dataset, user))
    if version is not None and version != dataset.version_id:
        raise DatasetError("stale", 409)
    _check_data(data, dataset)
    before = _snapshot(dataset)
    _apply(dataset, data)
    db.session.flush()
    audit_record(
        "dataset_updated",
        "dataset",
        dataset.id,
        dataset.slug,
        before=before,
        after=_snapshot(dataset),
        actor=user,
    )
    return dataset


def withdraw_dataset(user: User | None, dataset: Dataset) -> None:
    """Hide a dataset everywhere (curators); its published versions are kept, unchanged."""
    _require(can_publish(user))
    before = _snapshot(dataset)
    dataset.status = "withdrawn"
    db.session.flush()
    audit_record(
        "dataset_withdrawn",
        "dataset",
        dataset.id,
        dataset.slug,
        before=before,
        after=_snapshot(dataset),
        actor=user,
    )


def reinstate_dataset(user: User | None, dataset: Dataset) -> None:
    """Show a withdrawn dataset again (curators), when it has a published version."""
    _require(can_publish(user))
    if dataset.latest_version is None:
        raise DatasetError("nothing_published")
    dataset.status = "published"
    db.session.flush()
    audit_record("dataset_reinstated", "dataset", dataset.id, dataset.slug, actor=user)


# --- files -------------------------------------------------------------------------------------------

_CREATED = "dataset_files_created"
_TO_DELETE = "dataset_files_to_delete"


def _incoming() -> Path:
    path = Path(current_app.config["DATA_DIR"]) / "incoming"
    path.mkdir(parents=True, exist_ok=True)
    return path


def limits() -> tables.Limits:
    """Upload limits from the configuration."""
    config = current_app.config
    return tables.Limits(
        max_bytes=config.get("DATASET_MAX_UPLOAD_BYTES", tables.Limits.max_bytes),
        max_rows=config.get("DATASET_MAX_ROWS", tables.Limits.max_rows),
        max_columns=config.get("DATASET_MAX_COLUMNS", tables.Limits.max_columns),
    )


def _store_bytes(data: bytes, suffix: str) -> str:
    fd, name = tempfile.mkstemp(dir=_incoming(), prefix="dataset-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    key, created = store_original_file(Path(name), tables.sha256_bytes(data), suffix)
    if created:
        db.session.info.setdefault(_CREATED, []).append(key)
    return key


def _store_file(path: Path, digest: str, suffix: str) -> str:
    fd, name = tempfile.mkstemp(dir=_incoming(), prefix="dataset-")
    os.close(fd)
    shutil.copyfile(path, name)
    key, created = store_original_file(Path(name), digest, suffix)
    if created:
        db.session.info.setdefault(_CREATED, []).append(key)
    return key


def _unlink(keys) -> None:
    for key in keys:
        try:
            path = original_path(key)
            path.chmod(0o644)
            path.unlink(missing_ok=True)
        except (OSError, ValueError):
            logger.warning("could not remove dataset file %s", key, exc_info=True)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_CREATED, None)
    _unlink(session.info.pop(_TO_DELETE, []))


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous) -> None:
    # Files stored by the failed transaction are nobody's now; files it meant to delete stay.
    _unlink(session.info.pop(_CREATED, []))
    session.info.pop(_TO_DELETE, None)


def _schedule_delete(table: DatasetTable) -> None:
    """Remove the table's files after the commit, unless another table (or a media file) uses them."""
    from archive.media.models import MediaFile

    for key in {table.storage_key, table.source_storage_key} - {None}:
        users = db.session.scalar(
            select(func.count())
            .select_from(DatasetTable)
            .where(
                (DatasetTable.storage_key == key) | (DatasetTable.source_storage_key == key),
                DatasetTable.id != table.id,
            )
        )
        media = db.session.scalar(
            select(func.count()).select_from(MediaFile).where(MediaFile.storage_key == key)
        )
        if not users and not media:
            db.session.info.setdefault(_TO_DELETE, []).append(key)


# --- uploading into a draft --------------------------------------------------------------------------


def _draft(user: User | None, dataset: Dataset) -> DatasetVersion:
    draft = dataset.draft_version
    if draft is None:
        number = max((v.number for v in dataset.versions), default=0) + 1
        draft = DatasetVersion(dataset=dataset, number=number, created_by_id=user.id if user else None)
        db.session.add(draft)
        db.session.flush()
    return draft


def _previous_table(dataset: Dataset, name: str) -> DatasetTable | None:
    latest = dataset.latest_version
    return latest.table(name) if latest else None


@dataclass
class UploadRequest:
    """One table to add to (or replace in) a dataset's draft version."""

    path: Path
    filename: str
    name: str = ""
    title: list[LangString] = field(default_factory=list)
    schema_mode: str = "previous"  # "previous", "infer" or "provided"
    schema: dict | None = None
    sheet: str | None = None


def upload_table(
    user: User | None, dataset: Dataset, upload: UploadRequest, *, system: bool = False
) -> DatasetTable:
    """Read an upload, store it normalised, give it a schema and validate it, in the draft version.

    Raises DatasetError (400) when the file cannot be read as a table or the schema is unusable; then
    nothing is stored. A table that reads but does not validate is kept in the draft with its errors, so
    the officer can see them; it cannot be published. ``system=True`` is for the seed loader and the
    refresh job (no user; generated datasets accept only those).
    """
    if not system:
        if dataset.origin == "generated":
            raise DatasetError("generated_dataset", 409)
        _require(can_edit(dataset, user))
    if upload.schema_mode not in SCHEMA_MODES:
        raise DatasetError("bad_schema_mode")
    try:
        fmt, raw = tables.read_upload(upload.path, upload.filename, limits(), upload.sheet)
    except tables.TableRefused as refused:
        raise DatasetError(f"table_{refused.code}", 400, **refused.params) from None
    name = upload.name or tables.slugify_name(Path(upload.filename).stem)
    # "datapackage" would clash with the version's datapackage.json; "latest" reads like a version.
    if not tables.NAME_RE.match(name) or name in RESERVED_TABLE_NAMES:
        raise DatasetError("bad_table_name")
    csv_bytes = tables.to_csv_bytes(raw)
    work = Path(tempfile.mkdtemp(dir=_incoming(), prefix="dataset-check-"))
    try:
        csv_path = work / "table.csv"
        csv_path.write_bytes(csv_bytes)
        confirmed = True
        if upload.schema_mode == "provided":
            schema = upload.schema or {}
        elif upload.schema_mode == "previous":
            previous = _previous_table(dataset, name)
            if previous is None:
                raise DatasetError("no_previous_schema", 400, name=name)
            schema = previous.table_schema
        else:
            schema = tables.infer_schema(csv_path)
            confirmed = False
        problems = tables.check_schema(schema, raw.header)
        if problems:
            raise DatasetError("bad_schema", 400, problems=problems)
        result = tables.validate_csv(csv_path, schema, raw.source_rows)
        draft = _draft(user, dataset)
        existing = draft.table(name)
        position = existing.position if existing else len(draft.tables)
        if existing is not None:
            _schedule_delete(existing)
            draft.tables.remove(existing)
            db.session.flush()
        digest = tables.sha256_bytes(csv_bytes)
        source_digest = sha256_file(upload.path)
        table = DatasetTable(
            name=name,
            position=position,
            title=from_langstrings(upload.title) if upload.title else (existing.title if existing else []),
            table_schema=schema,
            schema_confirmed=confirmed,
            chart=_default_chart(schema) if existing is None else existing.chart,
            storage_key=_store_bytes(csv_bytes, ".csv"),
            sha256=digest,
            byte_size=len(csv_bytes),
            row_count=len(raw.rows),
            source_format=fmt,
            source_storage_key=_store_file(upload.path, source_digest, f".{fmt}") if fmt != "csv" else None,
            source_filename=display_filename(upload.filename),
            source_sha256=source_digest,
            is_valid=result.valid,
            error_count=result.error_count,
            errors=result.errors,
            validated_at=utcnow(),
        )
        # The table it replaces may have held the same content: its files are still in use.
        pending = db.session.info.get(_TO_DELETE, [])
        pending[:] = [key for key in pending if key not in (table.storage_key, table.source_storage_key)]
        draft.tables.append(table)
        db.session.flush()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    audit_record(
        "dataset_table_uploaded",
        "dataset",
        dataset.id,
        f"{dataset.slug} v{draft.number} {name} ({'valid' if table.is_valid else 'invalid'})",
        after={"table": name, "sha256": table.sha256, "rows": table.row_count, "valid": table.is_valid},
        actor=user,
    )
    return table


def _default_chart(schema: dict) -> dict | None:
    """Plot the first text field against the first numeric one, when there are both."""
    fields = schema.get("fields", [])
    label = next((f["name"] for f in fields if f.get("type", "string") in ("string", "year")), None)
    value = next(
        (f["name"] for f in fields if f.get("type") in ("integer", "number") and f["name"] != label), None
    )
    return {"label": label, "value": value} if label and value else None


def confirm_schema(
    user: User | None, table: DatasetTable, schema: dict, chart: dict | None = None
) -> DatasetTable:
    """Replace a draft table's schema with the officer's (confirmed) one and validate again."""
    dataset = table.version.dataset
    _require(can_edit(dataset, user))
    if table.version.is_published:
        raise DatasetError("published_is_immutable", 409)
    raw = tables.read_csv_bytes(original_path(table.storage_key).read_bytes())
    problems = tables.check_schema(schema, raw.header)
    if problems:
        raise DatasetError("bad_schema", 400, problems=problems)
    names = [f["name"] for f in schema["fields"]]
    if chart and (chart.get("label") not in names or chart.get("value") not in names):
        raise DatasetError("bad_chart")
    work = Path(tempfile.mkdtemp(dir=_incoming(), prefix="dataset-check-"))
    try:
        csv_path = work / "table.csv"
        shutil.copyfile(original_path(table.storage_key), csv_path)
        result = tables.validate_csv(csv_path, schema)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table.table_schema = schema
    table.schema_confirmed = True
    table.chart = chart if chart is not None else _default_chart(schema)
    table.is_valid = result.valid
    table.error_count = result.error_count
    table.errors = result.errors
    table.validated_at = utcnow()
    db.session.flush()
    audit_record(
        "dataset_schema_confirmed",
        "dataset",
        dataset.id,
        f"{dataset.slug} v{table.version.number} {table.name}",
        after={"fields": names, "valid": table.is_valid},
        actor=user,
    )
    return table


def remove_table(user: User | None, table: DatasetTable) -> None:
    """Take a table out of a draft version; its files go after the commit if nothing else uses them."""
    version = table.version
    _require(can_edit(version.dataset, user))
    if version.is_published:
        raise DatasetError("published_is_immutable", 409)
    _schedule_delete(table)
    version.tables.remove(table)
    db.session.flush()
    audit_record(
        "dataset_table_removed", "dataset", version.dataset_id, f"v{version.number} {table.name}", actor=user
    )


def discard_draft(user: User | None, version: DatasetVersion) -> None:
    """Delete a draft version and, after the commit, the files only it used."""
    dataset = version.dataset
    _require(can_edit(dataset, user))
    if version.is_published:
        raise DatasetError("published_is_immutable", 409)
    for table in list(version.tables):
        _schedule_delete(table)
    number = version.number
    dataset.versions.remove(version)
    db.session.flush()
    audit_record("dataset_draft_discarded", "dataset", dataset.id, f"{dataset.slug} v{number}", actor=user)


def set_version_notes(user: User | None, version: DatasetVersion, notes: list[LangString]) -> None:
    """Say what changed in a draft version."""
    _require(can_edit(version.dataset, user))
    if version.is_published:
        raise DatasetError("published_is_immutable", 409)
    version.notes = from_langstrings(notes)
    db.session.flush()


def publish_version(user: User | None, version: DatasetVersion, *, system: bool = False) -> DatasetVersion:
    """Publish a draft (curators, or the refresh job): every table valid against a confirmed schema.

    The stored files are checked against their checksums first; the version's own checksum covers the
    tables' names, schemas and contents. From then on the version cannot change.
    """
    dataset = version.dataset
    if not system:
        _require(can_publish(user))
    if version.is_published:
        raise DatasetError("already_published", 409)
    if not version.tables:
        raise DatasetError("no_tables", 409)
    if not version.is_ready:
        raise DatasetError("not_ready", 409)
    for table in version.tables:
        if sha256_file(original_path(table.storage_key)) != table.sha256:
            raise DatasetError("checksum_mismatch", 409, name=table.name)
    version.checksum = tables.checksum_of_version((t.name, t.sha256, t.table_schema) for t in version.tables)
    version.status = "published"
    version.published_at = utcnow()
    version.published_by_id = user.id if user else None
    if dataset.status == "draft":
        dataset.status = "published"
    dataset.updated_at = utcnow()
    db.session.flush()
    audit_record(
        "dataset_version_published",
        "dataset",
        dataset.id,
        f"{dataset.slug} v{version.number}",
        after={"checksum": version.checksum, "tables": [t.name for t in version.tables]},
        actor=user or "system",
    )
    return version


# --- reading published tables ------------------------------------------------------------------------


@dataclass(frozen=True)
class TableContent:
    """A table's rows, as text and typed, with its field names and types."""

    names: list[str]
    kinds: list[str]
    raw: list[list[str]]
    rows: list[list]


@functools.lru_cache(maxsize=32)
def _content(sha256: str, path: str, schema_json: str) -> TableContent:
    import json

    schema = json.loads(schema_json)
    data = Path(path).read_bytes()
    if tables.sha256_bytes(data) != sha256:
        # A stored file that no longer matches its checksum is never served.
        raise DatasetError("checksum_mismatch", 500)
    raw = tables.read_csv_bytes(data)
    names = [f["name"] for f in schema.get("fields", [])]
    kinds = [f.get("type", "string") for f in schema.get("fields", [])]
    return TableContent(names=names, kinds=kinds, raw=raw.rows, rows=tables.typed_rows(raw, schema))


def table_content(table: DatasetTable) -> TableContent:
    """The table's rows (cached per process by content checksum; the file is checked once)."""
    import json

    return _content(
        table.sha256, str(original_path(table.storage_key)), json.dumps(table.table_schema, sort_keys=True)
    )


def table_bytes(table: DatasetTable) -> bytes:
    """The normalised CSV, checked against its checksum."""
    data = original_path(table.storage_key).read_bytes()
    if tables.sha256_bytes(data) != table.sha256:
        logger.error("dataset table %s (%s) fails its checksum", table.id, table.storage_key)
        raise DatasetError("checksum_mismatch", 500)
    return data


def dataset_uri(dataset: Dataset) -> str:
    """The dataset's stable URI: its page without a language prefix (it redirects to the visitor's)."""
    return current_app.config["BASE_URL"].rstrip("/") + f"/datasets/{dataset.slug}"


def dublin_core_of(dataset: Dataset):
    """The Dublin Core description of a public dataset (OAI-PMH)."""
    from archive.vocab.models import Place
    from metadata import dcat
    from metadata.dublin_core import DatasetDescription

    version = dataset.latest_version
    first = dataset.published_versions[0]
    places = db.session.scalars(select(Place).where(Place.code.in_(dataset.spatial or []))).all()
    labels = {p.code: p.full_name or p.name for p in places}
    temporal = None
    if dataset.temporal_start or dataset.temporal_end:
        start = dataset.temporal_start.isoformat() if dataset.temporal_start else ""
        end = dataset.temporal_end.isoformat() if dataset.temporal_end else ""
        temporal = f"{start}/{end}"
    themes = []
    for code in dataset.themes or []:
        vi, en = dcat.THEMES[code]
        themes += [LangString(vi, "vi"), LangString(en, "en")]
    publisher = next((v.value for v in dataset.publisher_values if v.lang == "vi"), None)
    return DatasetDescription(
        url=dataset_uri(dataset),
        title=dataset.title_values,
        description=dataset.description_values,
        publisher=publisher or current_app.config["PUBLISHER"],
        keywords=dataset.keyword_values,
        themes=themes,
        issued=first.published_at.date().isoformat(),
        modified=version.published_at.date().isoformat(),
        temporal=temporal,
        spatial=[labels[c] for c in dataset.spatial or [] if c in labels],
        license_uri=dataset.license_uri,
        formats=[media_type for media_type, _code in dcat.MEDIA_TYPES.values()],
        version=str(version.number),
    )
