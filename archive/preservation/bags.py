"""BagIt backups of the archive: export the database table by table with the stored files, and restore
them into an empty archive. The layout is described in metadata/bag_layout.py and docs/backup.md."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bagit
import sqlalchemy as sa
from alembic.migration import MigrationContext
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from archive.core.extensions import db
from archive.core.storage import storage_root
from archive.media.models import MediaFile
from archive.media.services import derivatives_root
from archive.records.models import HeritageRecord
from archive.vocab.models import Collection
from metadata import bag_layout as layout

logger = logging.getLogger(__name__)

#: Tables never written to a bag: credentials, sessions, throttling, personal inboxes, transient uploads,
#: and the search outbox (the index is rebuilt after an import).
PRIVATE_TABLES = frozenset(
    {"account_token", "api_token", "login_failure", "notification", "upload_session", "search_outbox"}
)
#: Of the accounts, only their public attribution is exported.
USER_COLUMNS = ("id", "display_name", "role", "created_at")
#: Audit events about these objects name e-mail addresses or sign-ins: they stay behind.
PRIVATE_AUDIT_OBJECTS = PRIVATE_TABLES | {"user_account", "community_membership"}
#: Tables left out of a collection bag: they are not part of any collection.
OUTSIDE_COLLECTIONS = frozenset(
    {
        "dataset",
        "dataset_version",
        "dataset_table",
        "dataset_refresh",
        "exhibit",
        "exhibit_section",
        "exhibit_item",
        "oai_sync_state",
    }
)
BATCH = 1000
NULL_FLAG = "__sql_null__"


class BagRefused(Exception):
    """A bag that cannot be imported here (invalid, tampered, other schema, archive not empty)."""


@dataclasses.dataclass
class BagSummary:
    """What an export or import handled."""

    path: Path
    tables: dict[str, int]
    files: int
    records: int


# ---------------------------------------------------------------------------------------------- helpers


def schema_revision() -> str | None:
    """The Alembic revision of the application's database."""
    # The session's own connection: on SQLite a second connection would wait for the session's lock.
    return MigrationContext.configure(db.session.connection()).get_current_revision()


def bag_tables() -> list[sa.Table]:
    """The tables a bag holds, parents before children."""
    import archive.models  # noqa: F401 - every model registers its table

    # Only the tables this database has at its revision (a model may be registered before its migration).
    existing = set(sa.inspect(db.session.connection()).get_table_names())
    return [t for t in db.metadata.sorted_tables if t.name not in PRIVATE_TABLES and t.name in existing]


def _value_kind(column: sa.Column) -> str:
    column_type = column.type
    if isinstance(column_type, sa.types.TypeDecorator):
        column_type = column_type.impl_instance
    if isinstance(column_type, sa.DateTime):
        return "datetime"
    if isinstance(column_type, sa.Date):
        return "date"
    return "plain"


def _copy(source: Path, target: Path) -> None:
    """Copy a file or a directory tree (chunked by the kernel; never read whole into memory)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True, copy_function=shutil.copyfile)
    else:
        shutil.copyfile(source, target)


def _resolve_collection(value: str) -> Collection:
    collection = db.session.scalar(select(Collection).where(Collection.slug == value))
    if collection is None and value.isdigit():
        collection = db.session.get(Collection, int(value))
    if collection is None:
        raise BagRefused(_('There is no collection "{name}".').format(name=value))
    return collection


# ----------------------------------------------------------------------------------------------- export


def _scope_filter(table: sa.Table, collection_id: int | None) -> list:
    """WHERE clauses that keep a table's rows inside the bag's scope."""
    t = db.metadata.tables
    clauses = []
    if table.name == "audit_event":
        clauses.append(table.c.object_type.notin_(PRIVATE_AUDIT_OBJECTS))
    if collection_id is None:
        return clauses
    in_collection = select(t["record_collection"].c.record_id).where(
        t["record_collection"].c.collection_id == collection_id
    )
    media_ids = select(t["media_file"].c.id).where(t["media_file"].c.record_id.in_(in_collection))
    if table.name == "heritage_record":
        clauses.append(table.c.id.in_(in_collection))
    elif table.name == "consent_record":
        clauses.append(sa.or_(table.c.record_id.in_(in_collection), table.c.media_id.in_(media_ids)))
    elif "record_id" in table.c:
        clauses.append(table.c.record_id.in_(in_collection))
    elif "media_id" in table.c:
        clauses.append(table.c.media_id.in_(media_ids))
    elif table.name == "oai_item_set":
        items = select(t["oai_item"].c.id).where(t["oai_item"].c.record_id.in_(in_collection))
        clauses.append(table.c.item_id.in_(items))
    elif table.name == "audit_event":
        clauses.append(table.c.object_type == "heritage_record")
        clauses.append(
            table.c.object_id.in_(select(sa.cast(in_collection.subquery().c.record_id, sa.String)))
        )
    return clauses


def _exported_rows(table: sa.Table, collection_id: int | None) -> Iterator[dict[str, Any]]:
    columns = [table.c[name] for name in USER_COLUMNS] if table.name == "user_account" else list(table.c)
    json_columns = [c.name for c in columns if isinstance(c.type, sa.JSON)]
    # SQL NULL and JSON null read alike as None: ask the database which one each value is.
    flags = [table.c[name].is_(None).label(f"{NULL_FLAG}{name}") for name in json_columns]
    stmt = select(*columns, *flags).where(*_scope_filter(table, collection_id))
    stmt = stmt.order_by(*(table.primary_key.columns or table.c))
    result = db.session.execute(stmt.execution_options(yield_per=BATCH))
    for row in result.mappings():
        row = dict(row)
        for name in json_columns:
            if row.pop(f"{NULL_FLAG}{name}"):
                del row[name]  # an absent JSON column is SQL NULL; a present null is JSON null
        if table.name == "audit_event":
            row["ip"] = None
            if "@" in (row["actor_label"] or ""):
                row["actor_label"] = f"user:{row['actor_id']}"
        yield row


def record_documents(record: HeritageRecord) -> tuple[bytes, dict]:
    """A record's oai_dc XML and its archival IIIF manifest (every media file; needs a request context)."""
    from archive.iiif.presentation import canvas_source, manifest_links
    from archive.records import services as records
    from metadata.dublin_core import to_oai_dc_bytes
    from metadata.iiif_presentation import build_manifest

    description = records.describe(record)
    sources = [s for s in (canvas_source(m) for m in record.media) if s is not None]
    return to_oai_dc_bytes(description), build_manifest(description, sources, manifest_links(record))


def _record_documents(bag_dir: Path, collection_id: int | None) -> int:
    """Write each record's oai_dc XML and IIIF manifest; returns how many records."""
    from archive.records import services as records

    (bag_dir / layout.DC_DIR).mkdir(parents=True)
    (bag_dir / layout.IIIF_DIR).mkdir(parents=True)
    stmt = select(HeritageRecord.id).order_by(HeritageRecord.id)
    if collection_id is not None:
        stmt = stmt.where(HeritageRecord.collections.any(Collection.id == collection_id))
    ids = list(db.session.scalars(stmt))
    base_url = current_app.config["BASE_URL"]
    count = 0
    with current_app.test_request_context("/", base_url=base_url):
        for start in range(0, len(ids), 100):
            stmt = records._eager(
                select(HeritageRecord).where(HeritageRecord.id.in_(ids[start : start + 100]))
            )
            stmt = stmt.options(
                selectinload(HeritageRecord.media).selectinload(MediaFile.derivatives),
                selectinload(HeritageRecord.media).selectinload(MediaFile.captions),
            ).order_by(HeritageRecord.id)
            for record in db.session.scalars(stmt):
                dc_xml, manifest = record_documents(record)
                (bag_dir / layout.DC_DIR / f"{record.public_id}.xml").write_bytes(dc_xml)
                (bag_dir / layout.IIIF_DIR / f"{record.public_id}.json").write_text(
                    json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
                )
                count += 1
            db.session.expunge_all()
    return count


def _export_files(bag_dir: Path, collection_id: int | None) -> int:
    """Copy the originals, derivatives and captions the exported rows name; returns how many paths."""
    t = db.metadata.tables
    copied = 0

    def copy_key(root: Path, key: str | None, subdir: str) -> None:
        nonlocal copied
        if not key:
            return
        target = bag_dir / subdir / key
        if target.exists():
            return
        source = root / key
        if not source.exists():
            raise BagRefused(_("A stored file is missing: {key}").format(key=f"{subdir}/{key}"))
        _copy(source, target)
        copied += 1

    originals, derivatives = storage_root(), derivatives_root()
    for key in db.session.scalars(
        select(t["media_file"].c.storage_key).where(*_scope_filter(t["media_file"], collection_id))
    ):
        copy_key(originals, key, layout.ORIGINALS_DIR)
    for name in ("media_derivative", "media_caption"):
        table = t[name]
        for key in db.session.scalars(
            select(table.c.storage_key).where(*_scope_filter(table, collection_id))
        ):
            copy_key(derivatives, key, layout.DERIVATIVES_DIR)
    if collection_id is None:
        table = t["dataset_table"]
        for key, source_key in db.session.execute(select(table.c.storage_key, table.c.source_storage_key)):
            copy_key(originals, key, layout.ORIGINALS_DIR)
            copy_key(originals, source_key, layout.ORIGINALS_DIR)
    return copied


def export_bag(target: Path, collection: str | None = None, processes: int = 1) -> BagSummary:
    """Write the archive (or one collection's records) into a new BagIt bag at *target*."""
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise BagRefused(_("The target directory {path} is not empty.").format(path=target))
    collection_id = _resolve_collection(collection).id if collection else None
    target.mkdir(parents=True, exist_ok=True)
    try:
        description: dict[str, Any] = {
            "format": layout.FORMAT_NAME,
            "version": layout.FORMAT_VERSION,
            "revision": schema_revision(),
            "scope": "collection" if collection_id else "archive",
            "collection_id": collection_id,
            "tables": [],
        }
        counts: dict[str, int] = {}
        (target / layout.TABLES_DIR).mkdir()
        for table in bag_tables():
            if collection_id is not None and table.name in OUTSIDE_COLLECTIONS:
                continue
            with (target / layout.TABLES_DIR / f"{table.name}.jsonl").open("w", encoding="utf-8") as handle:
                counts[table.name] = layout.write_rows(handle, _exported_rows(table, collection_id))
            columns = USER_COLUMNS if table.name == "user_account" else tuple(table.c.keys())
            description["tables"].append(
                {
                    "name": table.name,
                    "rows": counts[table.name],
                    "columns": {name: _value_kind(table.c[name]) for name in columns},
                }
            )
        files = _export_files(target, collection_id)
        records = _record_documents(target, collection_id)
        (target / layout.DESCRIPTION).write_text(json.dumps(description, indent=1), encoding="utf-8")
        bag_info = {
            "Source-Organization": current_app.config.get("PUBLISHER", ""),
            "External-Description": "Heritage archive backup"
            + (f" (collection {collection})" if collection_id else ""),
            layout.INFO_FORMAT: f"{layout.FORMAT_NAME}/{layout.FORMAT_VERSION}",
            layout.INFO_REVISION: description["revision"] or "",
            layout.INFO_SCOPE: f"collection:{collection_id}" if collection_id else "archive",
        }
        bag = bagit.make_bag(str(target), bag_info, processes=processes, checksums=["sha256", "sha512"])
        try:  # a damaged original would only be found when the bag is restored: refuse it now
            _check_file_digests(bag, target / "data")
        except BagRefused as exc:
            raise BagRefused(
                _(
                    "Nothing exported: {problem} Find and repair the damaged files first (archive fixity)."
                ).format(problem=exc)
            ) from None
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    finally:
        db.session.rollback()
    logger.info("exported %s records and %s files into %s", records, files, target)
    return BagSummary(target, counts, files, records)


# ----------------------------------------------------------------------------------------------- import


def _open_bag(path: Path, processes: int) -> tuple[bagit.Bag, dict]:
    try:
        bag = bagit.Bag(str(path))
        bag.validate(processes=processes)
    except bagit.BagValidationError as exc:
        details = "; ".join(str(d) for d in getattr(exc, "details", [])[:5]) or str(exc)
        raise BagRefused(
            _("The bag is invalid or has been altered: {details}").format(details=details)
        ) from None
    except bagit.BagError as exc:
        raise BagRefused(_("This is not a readable BagIt bag: {details}").format(details=exc)) from None
    info_format = bag.info.get(layout.INFO_FORMAT)
    if info_format != f"{layout.FORMAT_NAME}/{layout.FORMAT_VERSION}":
        raise BagRefused(_("This bag is not an archive backup of a format this version reads."))
    description = json.loads((Path(path) / "data" / layout.DESCRIPTION).read_text(encoding="utf-8"))
    current = schema_revision()
    if description.get("revision") != current:
        raise BagRefused(
            _(
                "The bag was written at database revision {bag}; this archive is at {current}. "
                "Restore into an archive at the same revision (migrate one of them first)."
            ).format(bag=description.get("revision"), current=current)
        )
    return bag, description


def _check_empty() -> None:
    for table in bag_tables():
        if db.session.execute(select(sa.literal(1)).select_from(table).limit(1)).first() is not None:
            raise BagRefused(
                _(
                    "The archive is not empty (table {table} has rows); import only into an empty archive."
                ).format(table=table.name)
            )


def _check_file_digests(bag: bagit.Bag, data: Path) -> None:
    """The SHA-256 the database rows claim must match the bag's manifest (and the file must be there)."""
    manifest = {name: digests["sha256"] for name, digests in bag.entries.items() if "sha256" in digests}
    checks = (
        ("media_file", "storage_key", "sha256", layout.ORIGINALS_DIR),
        ("dataset_table", "storage_key", "sha256", layout.ORIGINALS_DIR),
        ("dataset_table", "source_storage_key", "source_sha256", layout.ORIGINALS_DIR),
        ("media_caption", "storage_key", "sha256", layout.DERIVATIVES_DIR),
    )
    tables = data / layout.TABLES_DIR
    for table, key_column, digest_column, subdir in checks:
        path = tables / f"{table}.jsonl"
        if not path.exists():
            continue
        for row in layout.read_rows(path, {}):
            key = row.get(key_column)
            if not key:
                continue
            name = f"data/{subdir}/{key}"
            if manifest.get(name) != row.get(digest_column):
                raise BagRefused(
                    _("The file {name} does not match the checksum its {table} row records.").format(
                        name=name, table=table
                    )
                )


def _insert_table(table: sa.Table, path: Path, kinds: dict[str, str]) -> int:
    """Insert a table's rows in batches; self-references are set in a second pass."""
    self_refs = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    json_columns = {c.name for c in table.c if isinstance(c.type, sa.JSON) and c.name in kinds}
    count = 0
    for batch in layout.batched(layout.read_rows(path, kinds), BATCH):
        if table.name == "user_account":
            for row in batch:
                # Public attribution only: the account exists for the records that name it, and
                # cannot sign in until an administrator gives it an address and invites its owner.
                row.update(
                    email=f"restored-{row['id']}@accounts.invalid",
                    is_active=False,
                    password_hash=None,
                    session_token=secrets.token_hex(16),
                )
        rows = batch
        if self_refs:
            rows = [{**row, **{name: None for name in self_refs}} for row in batch]
        # Rows grouped by the JSON columns they leave out (SQL NULL), so each group is one executemany.
        groups: dict[frozenset[str], list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(frozenset(json_columns - row.keys()), []).append(row)
        for missing, group in groups.items():
            db.session.execute(table.insert().values({name: sa.null() for name in missing}), group)
        count += len(batch)
    if self_refs and count:
        pk = list(table.primary_key.columns)[0]
        update = (
            table.update()
            .where(pk == sa.bindparam("_pk"))
            .values({name: sa.bindparam(f"_{name}") for name in self_refs})
        )
        for batch in layout.batched(layout.read_rows(path, kinds), BATCH):
            values = [
                {"_pk": row[pk.name], **{f"_{name}": row[name] for name in self_refs}}
                for row in batch
                if any(row[name] is not None for name in self_refs)
            ]
            if values:
                db.session.execute(update, values)
    return count


def _reset_sequences(tables: list[sa.Table]) -> None:
    """PostgreSQL: move each id sequence past the ids inserted explicitly."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        columns = list(table.primary_key.columns)
        if len(columns) != 1 or not isinstance(columns[0].type, sa.Integer):
            continue
        name = columns[0].name
        db.session.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                f'COALESCE((SELECT MAX("{name}") FROM "{table.name}"), 1), '
                f'(SELECT MAX("{name}") FROM "{table.name}") IS NOT NULL) '
                "WHERE pg_get_serial_sequence(:table, :column) IS NOT NULL"
            ),
            {"table": table.name, "column": name},
        )


def _import_files(data: Path, copied: list[Path]) -> int:
    """Copy the bag's files into the store (skipping what is already there); records what it created."""
    count = 0
    for subdir, root, read_only in (
        (layout.ORIGINALS_DIR, storage_root(), True),
        (layout.DERIVATIVES_DIR, derivatives_root(), False),
    ):
        source_root = data / subdir
        if not source_root.is_dir():
            continue
        for dirpath, _dirnames, filenames in os.walk(source_root):
            for filename in filenames:
                source = Path(dirpath) / filename
                target = root / source.relative_to(source_root)
                if target.exists():
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".restore-")
                os.close(fd)
                shutil.copyfile(source, tmp)
                if read_only:
                    os.chmod(tmp, 0o444)
                os.replace(tmp, target)
                copied.append(target)
                count += 1
    return count


def import_bag(source: Path, processes: int = 1) -> BagSummary:
    """Restore a backup bag into this (empty) archive; nothing is written when anything is refused."""
    source = Path(source)
    bag, description = _open_bag(source, processes)
    data = source / "data"
    _check_empty()
    _check_file_digests(bag, data)
    known = {table.name: table for table in bag_tables()}
    counts: dict[str, int] = {}
    copied: list[Path] = []
    try:
        inserted = []
        for entry in description["tables"]:
            table = known.get(entry["name"])
            if table is None:
                raise BagRefused(_("The bag holds an unknown table: {table}").format(table=entry["name"]))
            counts[table.name] = _insert_table(
                table, data / layout.TABLES_DIR / f"{table.name}.jsonl", entry["columns"]
            )
            if counts[table.name] != entry["rows"]:
                raise BagRefused(
                    _("The table {table} does not hold the rows announced.").format(table=table.name)
                )
            inserted.append(table)
        _reset_sequences(inserted)
        db.session.flush()
        files = _import_files(data, copied)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        for path in copied:
            try:
                os.chmod(path, 0o644)
                path.unlink()
            except OSError:  # pragma: no cover - best effort: log what stays behind
                logger.warning("could not remove %s after a failed import", path)
        raise
    records = counts.get("heritage_record", 0)
    logger.info("imported %s records and %s files from %s", records, files, source)
    return BagSummary(source, counts, files, records)


def after_import() -> int:
    """Rebuild what is derived from the restored rows (the search index); returns the indexed records."""
    from archive.search.service import rebuild_index

    return rebuild_index()
