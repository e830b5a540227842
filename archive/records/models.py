"""The heritage record and everything attached to it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.accounts.models import User
from archive.communities.models import Community, ConsentRecord, CulturalLabel
from archive.core.extensions import db
from archive.core.types import JSONType, UTCDateTime, to_langstrings, utcnow
from archive.media.models import MediaFile
from archive.vocab.models import Agent, Collection, EthnicGroup, Place, Subject
from metadata.categories import CATEGORIES
from metadata.languages import LangString
from metadata.lunar import LunarRecurrence

STATUSES = ("draft", "in_review", "returned", "published", "withdrawn")
ACCESS_LEVELS = ("public", "researchers", "community", "private")
#: Multilingual text fields of a record; each holds any number of language-tagged values.
TEXT_FIELDS = ("title", "alternative", "summary", "description", "provenance")


def _in(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    return CheckConstraint(f"{column} IN {values!r}", name=name)


record_ethnic_group = Table(
    "record_ethnic_group",
    db.metadata,
    Column("record_id", Integer, ForeignKey("heritage_record.id", ondelete="CASCADE"), primary_key=True),
    Column("ethnic_group_id", Integer, ForeignKey("ethnic_group.id"), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
)
record_subject = Table(
    "record_subject",
    db.metadata,
    Column("record_id", Integer, ForeignKey("heritage_record.id", ondelete="CASCADE"), primary_key=True),
    Column("subject_id", Integer, ForeignKey("subject.id"), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
)
record_place = Table(
    "record_place",
    db.metadata,
    Column("record_id", Integer, ForeignKey("heritage_record.id", ondelete="CASCADE"), primary_key=True),
    Column("place_id", Integer, ForeignKey("place.id"), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
)
record_collection = Table(
    "record_collection",
    db.metadata,
    Column("record_id", Integer, ForeignKey("heritage_record.id", ondelete="CASCADE"), primary_key=True),
    Column("collection_id", Integer, ForeignKey("collection.id"), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
)


class IssuedIdentifier(db.Model):
    """Every public identifier ever minted; rows are never deleted, so an identifier is never reused."""

    __tablename__ = "issued_identifier"

    identifier: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HeritageRecord(db.Model):
    """A festival, custom, ritual, performance, craft or oral tradition, described in several languages."""

    __tablename__ = "heritage_record"
    __table_args__ = (
        _in("category", tuple(CATEGORIES), "category"),
        _in("status", STATUSES, "status"),
        _in("access_level", ACCESS_LEVELS, "access_level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Opaque, stable public identifier (never reused); used in URLs, OAI identifiers and IIIF ids.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    #: Readable slug for URLs; may change, the public id never does.
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    category: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    access_level: Mapped[str] = mapped_column(String(20), default="public")
    #: The community group whose protocol governs a "community" record (None otherwise).
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: Optimistic locking: a stale edit fails instead of silently overwriting another.
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    texts: Mapped[list[RecordText]] = relationship(
        back_populates="record",
        cascade="all, delete-orphan",
        order_by="(RecordText.field, RecordText.position)",
    )
    ethnic_groups: Mapped[list[EthnicGroup]] = relationship(
        secondary=record_ethnic_group, order_by=record_ethnic_group.c.position
    )
    subjects: Mapped[list[Subject]] = relationship(
        secondary=record_subject, order_by=record_subject.c.position
    )
    places: Mapped[list[Place]] = relationship(secondary=record_place, order_by=record_place.c.position)
    collections: Mapped[list[Collection]] = relationship(
        secondary=record_collection, order_by=record_collection.c.position
    )
    agents: Mapped[list[RecordAgent]] = relationship(
        back_populates="record", cascade="all, delete-orphan", order_by="RecordAgent.position"
    )
    timings: Mapped[list[FestivalTiming]] = relationship(
        back_populates="record", cascade="all, delete-orphan", order_by="FestivalTiming.position"
    )
    dates: Mapped[list[DocumentedDate]] = relationship(
        back_populates="record", cascade="all, delete-orphan", order_by="DocumentedDate.start"
    )
    rights: Mapped[Rights | None] = relationship(back_populates="record", cascade="all, delete-orphan")
    media: Mapped[list[MediaFile]] = relationship(
        back_populates="record", cascade="all, delete-orphan", order_by="MediaFile.position"
    )
    community: Mapped[Community | None] = relationship()
    labels: Mapped[list[CulturalLabel]] = relationship(
        cascade="all, delete-orphan", order_by="CulturalLabel.id"
    )
    consents: Mapped[list[ConsentRecord]] = relationship(
        cascade="all, delete-orphan", order_by="ConsentRecord.given_on"
    )

    def values(self, field: str) -> list[LangString]:
        """The language-tagged values of one text field, in entry order."""
        return [LangString(t.value, t.lang) for t in self.texts if t.field == field]

    def __repr__(self) -> str:
        return f"<HeritageRecord {self.public_id} {self.slug}>"


class RecordText(db.Model):
    """One language-tagged value of a multilingual text field of a record."""

    __tablename__ = "record_text"
    __table_args__ = (
        _in("field", TEXT_FIELDS, "field"),
        UniqueConstraint("record_id", "field", "position", name="uq_record_text_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("heritage_record.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(20))
    #: BCP 47 language tag: vi, en, tyz (Tày), hnj (Hmong Njua), rad (Ê Đê)...
    lang: Mapped[str] = mapped_column(String(35))
    value: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0)

    record: Mapped[HeritageRecord] = relationship(back_populates="texts")


class RecordAgent(db.Model):
    """An agent's role on a record (ritual master, informant, recorder...)."""

    __tablename__ = "record_agent"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("heritage_record.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    position: Mapped[int] = mapped_column(default=0)

    record: Mapped[HeritageRecord] = relationship(back_populates="agents")
    agent: Mapped[Agent] = relationship()


class FestivalTiming(db.Model):
    """When a festival recurs: a lunar month/day (Vietnamese calendar, UTC+7) or a fixed Gregorian date."""

    __tablename__ = "festival_timing"
    __table_args__ = (
        _in("calendar", ("lunar", "gregorian"), "calendar"),
        CheckConstraint("month BETWEEN 1 AND 12", name="month"),
        CheckConstraint("day BETWEEN 1 AND 31", name="day"),
        CheckConstraint("duration_days BETWEEN 1 AND 60", name="duration"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("heritage_record.id", ondelete="CASCADE"), index=True)
    calendar: Mapped[str] = mapped_column(String(10), default="lunar")
    month: Mapped[int]
    #: None: held in this lunar month on a day chosen each year.
    day: Mapped[int | None]
    leap: Mapped[bool] = mapped_column(default=False)
    duration_days: Mapped[int] = mapped_column(default=1)
    #: Free-text note, language-tagged, e.g. [{"lang": "vi", "value": "mùng 8 tháng Giêng"}].
    note: Mapped[list] = mapped_column(JSONType, default=list)
    position: Mapped[int] = mapped_column(default=0)

    record: Mapped[HeritageRecord] = relationship(back_populates="timings")

    @property
    def note_values(self) -> list[LangString]:
        """The note as language-tagged values."""
        return to_langstrings(self.note)

    def recurrence(self) -> LunarRecurrence | None:
        """The lunar recurrence, for conversion to Gregorian dates (None for Gregorian timings)."""
        if self.calendar != "lunar":
            return None
        return LunarRecurrence(self.month, self.day, self.leap, self.duration_days)

    def dates_in_year(self, year: int) -> list[tuple[dt.date, dt.date]]:
        """(first, last) Gregorian days on which the festival falls in Gregorian *year*."""
        recurrence = self.recurrence()
        if recurrence is not None:
            return recurrence.occurrences_in_gregorian_year(year)
        try:
            start = dt.date(year, self.month, self.day or 1)
        except ValueError:  # 29 February in a common year: the festival does not fall that year
            return []
        return [(start, start + dt.timedelta(days=self.duration_days - 1))]


class DocumentedDate(db.Model):
    """A Gregorian date (or range) on which the event was held or recorded."""

    __tablename__ = "documented_date"
    __table_args__ = (_in("kind", ("recorded", "held"), "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("heritage_record.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="recorded")
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date | None] = mapped_column(Date)

    record: Mapped[HeritageRecord] = relationship(back_populates="dates")


class Rights(db.Model):
    """Licence or rights statement, holder and the community's consent note for a record."""

    __tablename__ = "rights"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("heritage_record.id", ondelete="CASCADE"), unique=True)
    #: A Creative Commons licence URI or a rightsstatements.org statement URI.
    uri: Mapped[str] = mapped_column(String(300))
    holder: Mapped[str | None] = mapped_column(String(300))
    #: Language-tagged consent note: who consented, for what use.
    consent_note: Mapped[list] = mapped_column(JSONType, default=list)

    record: Mapped[HeritageRecord] = relationship(back_populates="rights")

    @property
    def consent_values(self) -> list[LangString]:
        """Consent note as language-tagged values."""
        return to_langstrings(self.consent_note)
