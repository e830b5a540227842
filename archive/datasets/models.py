"""Open datasets: a dataset, its numbered versions, and the tables of each version.

A dataset is described once (multilingual title and description, publisher, contact, licence, themes,
keywords, coverage, update frequency). Each upload makes a new *draft* version; its tables are stored as
normalised UTF-8 CSV in the content-addressed store with a Frictionless Table Schema. A version is
published only when every table is valid against a confirmed schema; from then on the version and its
tables are immutable (the ORM refuses updates and deletes) and carry SHA-256 checksums.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.accounts.models import User
from archive.core.extensions import db
from archive.core.types import JSONType, UTCDateTime, to_langstrings, utcnow
from metadata.languages import LangString

DATASET_STATUSES = ("draft", "published", "withdrawn")
#: Where a dataset's figures come from: compiled by hand from published reporting, generated from the
#: archive's own records by the refresh job, or uploaded by an officer.
DATASET_ORIGINS = ("compiled", "generated", "uploaded")
VERSION_STATUSES = ("draft", "published")
#: The formats an officer may upload.
UPLOAD_FORMATS = ("csv", "xlsx")


class PublishedVersionIsImmutable(RuntimeError):
    """Raised when code tries to change or delete a published version or one of its tables."""


class Dataset(db.Model):
    """An open dataset described with the DCAT-AP properties; its content lives in versions."""

    __tablename__ = "dataset"
    __table_args__ = (
        CheckConstraint(f"status IN {DATASET_STATUSES!r}", name="status"),
        CheckConstraint(f"origin IN {DATASET_ORIGINS!r}", name="origin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    #: Language-tagged values, stored as ``[{"lang": .., "value": ..}]``.
    title: Mapped[list] = mapped_column(JSONType, default=list)
    description: Mapped[list] = mapped_column(JSONType, default=list)
    publisher: Mapped[list] = mapped_column(JSONType, default=list)
    #: The publisher's URI (an organisation page), if any; the catalogue mints one otherwise.
    publisher_uri: Mapped[str | None] = mapped_column(String(300))
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(200), default="")
    #: A licence URI (see metadata.dcat.LICENCES); CC BY 4.0 unless the officer chooses otherwise.
    license_uri: Mapped[str] = mapped_column(
        String(300), default="http://creativecommons.org/licenses/by/4.0/"
    )
    #: EU data-theme codes (metadata.dcat.THEMES), e.g. ["SOCI", "GOVE"].
    themes: Mapped[list] = mapped_column(JSONType, default=list)
    #: Language-tagged keywords, one value per keyword.
    keywords: Mapped[list] = mapped_column(JSONType, default=list)
    temporal_start: Mapped[dt.date | None] = mapped_column(Date)
    temporal_end: Mapped[dt.date | None] = mapped_column(Date)
    #: Place codes of the provinces covered, in either system (e.g. "2025-p08", "pre2025-p06").
    spatial: Mapped[list] = mapped_column(JSONType, default=list)
    #: Ethnic-group slugs the dataset concerns (its page links back from theirs).
    ethnic_groups: Mapped[list] = mapped_column(JSONType, default=list)
    #: EU frequency code (metadata.dcat.FREQUENCIES), e.g. "ANNUAL", "DAILY", "IRREG".
    accrual_periodicity: Mapped[str] = mapped_column(String(20), default="IRREG")
    origin: Mapped[str] = mapped_column(String(12), default="uploaded")
    #: For generated datasets: which generator builds it (archive.datasets.generated.GENERATORS).
    generator: Mapped[str | None] = mapped_column(String(60), unique=True)
    #: "published" once its first version is published; "withdrawn" hides it everywhere.
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    #: Optimistic locking for the metadata form: a stale form gets 409.
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}

    created_by: Mapped[User | None] = relationship()
    versions: Mapped[list[DatasetVersion]] = relationship(
        back_populates="dataset", cascade="all, delete-orphan", order_by="DatasetVersion.number"
    )

    @property
    def title_values(self) -> list[LangString]:
        """The title as language-tagged values."""
        return to_langstrings(self.title)

    @property
    def description_values(self) -> list[LangString]:
        """The description as language-tagged values."""
        return to_langstrings(self.description)

    @property
    def publisher_values(self) -> list[LangString]:
        """The publisher's name as language-tagged values."""
        return to_langstrings(self.publisher)

    @property
    def keyword_values(self) -> list[LangString]:
        """The keywords as language-tagged values."""
        return to_langstrings(self.keywords)

    @property
    def published_versions(self) -> list[DatasetVersion]:
        """Published versions, oldest first."""
        return [v for v in self.versions if v.status == "published"]

    @property
    def latest_version(self) -> DatasetVersion | None:
        """The newest published version, or None."""
        published = self.published_versions
        return published[-1] if published else None

    @property
    def draft_version(self) -> DatasetVersion | None:
        """The version being prepared, if any (there is at most one)."""
        return next((v for v in self.versions if v.status == "draft"), None)

    @property
    def is_public(self) -> bool:
        """Visible to everyone: published, not withdrawn, with at least one published version."""
        return self.status == "published" and self.latest_version is not None

    def __repr__(self) -> str:
        return f"<Dataset {self.slug}>"


class DatasetVersion(db.Model):
    """One numbered version of a dataset: a draft until published, immutable afterwards."""

    __tablename__ = "dataset_version"
    __table_args__ = (
        UniqueConstraint("dataset_id", "number", name="number"),
        CheckConstraint(f"status IN {VERSION_STATUSES!r}", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(12), default="draft")
    #: What changed in this version (language-tagged values).
    notes: Mapped[list] = mapped_column(JSONType, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    #: SHA-256 over the version's tables (name, schema and content checksums), set on publication.
    checksum: Mapped[str | None] = mapped_column(String(64))

    dataset: Mapped[Dataset] = relationship(back_populates="versions")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])
    tables: Mapped[list[DatasetTable]] = relationship(
        back_populates="version",
        cascade="all, delete-orphan",
        order_by="(DatasetTable.position, DatasetTable.id)",
    )

    @property
    def notes_values(self) -> list[LangString]:
        """The version notes as language-tagged values."""
        return to_langstrings(self.notes)

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    @property
    def is_ready(self) -> bool:
        """A draft may be published: it has tables and every one is valid against a confirmed schema."""
        return bool(self.tables) and all(t.is_valid and t.schema_confirmed for t in self.tables)

    def table(self, name: str) -> DatasetTable | None:
        """The table called *name*, or None."""
        return next((t for t in self.tables if t.name == name), None)

    def __repr__(self) -> str:
        return f"<DatasetVersion {self.dataset_id} v{self.number} {self.status}>"


class DatasetTable(db.Model):
    """One table of a version: normalised CSV in the store, its Table Schema and its validation result."""

    __tablename__ = "dataset_table"
    __table_args__ = (
        UniqueConstraint("version_id", "name", name="name"),
        CheckConstraint(f"source_format IN {UPLOAD_FORMATS!r}", name="source_format"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_version.id", ondelete="CASCADE"), index=True)
    #: A Frictionless resource name: lower-case letters, digits, "-", "_" and ".".
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[list] = mapped_column(JSONType, default=list)
    #: The Frictionless Table Schema descriptor. Field titles and descriptions in every language are kept
    #: in each field's "titles"/"descriptions" maps ({"vi": .., "en": ..}); "title" is the Vietnamese one.
    table_schema: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: False while the schema is one inferred by the archive and not yet confirmed by the officer.
    schema_confirmed: Mapped[bool] = mapped_column(default=False)
    #: Which fields the page's chart plots: {"label": field, "value": field} (None: no chart).
    chart: Mapped[dict | None] = mapped_column(JSONType)
    #: The normalised CSV (UTF-8, comma, header row) in the content-addressed store.
    storage_key: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    byte_size: Mapped[int]
    row_count: Mapped[int] = mapped_column(default=0)
    #: The file as the officer uploaded it (kept for provenance) and its format.
    source_format: Mapped[str] = mapped_column(String(8), default="csv")
    source_storage_key: Mapped[str | None] = mapped_column(String(200))
    source_filename: Mapped[str] = mapped_column(String(255), default="")
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    #: Validation against the schema: valid or not, and the first errors as plain values
    #: ({"type", "row", "column", "field", "cell", "detail"}), translated when shown.
    is_valid: Mapped[bool] = mapped_column(default=False)
    error_count: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list] = mapped_column(JSONType, default=list)
    validated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Free text shown under the table: how the figures were compiled, caveats.
    provenance: Mapped[list] = mapped_column(JSONType, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    version: Mapped[DatasetVersion] = relationship(back_populates="tables")

    @property
    def title_values(self) -> list[LangString]:
        """The table's title as language-tagged values."""
        return to_langstrings(self.title)

    @property
    def provenance_values(self) -> list[LangString]:
        """The provenance note as language-tagged values."""
        return to_langstrings(self.provenance)

    @property
    def fields(self) -> list[dict]:
        """The schema's field descriptors."""
        return list(self.table_schema.get("fields", []))

    def __repr__(self) -> str:
        return f"<DatasetTable {self.name} of version #{self.version_id}>"


class DatasetRefresh(db.Model):
    """One run of the job that regenerates the archive's own datasets: when, and what it did."""

    __tablename__ = "dataset_refresh"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: {generator: "unchanged" | "new version N" | "error: ..."}
    outcome: Mapped[dict] = mapped_column(JSONType, default=dict)
    detail: Mapped[str] = mapped_column(Text, default="")


def _published(target) -> bool:
    version = target if isinstance(target, DatasetVersion) else target.version
    if version is None:
        return False
    # The committed status decides: publishing a draft is itself an update of a draft.
    history = db.inspect(version).attrs.status.history
    committed = history.deleted[0] if history.deleted else version.status
    return committed == "published"


@event.listens_for(DatasetVersion, "before_update")
@event.listens_for(DatasetTable, "before_update")
def _refuse_update(_mapper, _connection, target) -> None:
    if _published(target):
        raise PublishedVersionIsImmutable(f"{target!r} belongs to a published version")


@event.listens_for(DatasetVersion, "before_delete")
@event.listens_for(DatasetTable, "before_delete")
def _refuse_delete(_mapper, _connection, target) -> None:
    if _published(target):
        raise PublishedVersionIsImmutable(f"{target!r} belongs to a published version")
