"""Vocabulary models: EthnicGroup, Place (with succession across the 2025 reorganisation), Subject,
Agent and Collection."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.core.extensions import db
from archive.core.types import JSONType, to_langstrings
from metadata.languages import LangString, from_mapping

if TYPE_CHECKING:
    pass

ethnic_group_place = Table(
    "ethnic_group_place",
    db.metadata,
    Column("ethnic_group_id", Integer, ForeignKey("ethnic_group.id", ondelete="CASCADE"), primary_key=True),
    Column("place_id", Integer, ForeignKey("place.id", ondelete="CASCADE"), primary_key=True),
)


class EthnicGroup(db.Model):
    """One of the 54 officially recognised ethnic groups of Vietnam."""

    __tablename__ = "ethnic_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    gso_code: Mapped[str] = mapped_column(String(2), unique=True)
    name_vi: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    other_names: Mapped[list] = mapped_column(JSONType, default=list)
    subgroups: Mapped[list] = mapped_column(JSONType, default=list)
    language_family: Mapped[str] = mapped_column(String(40))
    language_branch: Mapped[dict] = mapped_column(JSONType, default=dict)
    languages: Mapped[list] = mapped_column(JSONType, default=list)
    population_2019: Mapped[int | None]
    description: Mapped[dict] = mapped_column(JSONType, default=dict)

    provinces: Mapped[list[Place]] = relationship(secondary=ethnic_group_place, order_by="Place.name")

    @property
    def labels(self) -> list[LangString]:
        """Vietnamese and English names as language-tagged values."""
        return from_mapping({"vi": self.name_vi, "en": self.name_en})

    @property
    def description_values(self) -> list[LangString]:
        """Description as language-tagged values."""
        return from_mapping(self.description)

    @property
    def all_names(self) -> list[str]:
        """Every name the group is known by: official, English, other names and sub-groups."""
        return [self.name_vi, self.name_en, *self.other_names, *self.subgroups]


class Place(db.Model):
    """An administrative unit of Vietnam, in the system before or after 1 July 2025."""

    __tablename__ = "place"
    __table_args__ = (
        CheckConstraint("system IN ('pre2025', '2025')", name="system"),
        CheckConstraint("level IN ('province', 'district', 'commune')", name="level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    system: Mapped[str] = mapped_column(String(10), index=True)
    level: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(120))
    full_name: Mapped[str] = mapped_column(String(160))
    name_key: Mapped[str] = mapped_column(String(160), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("place.id"), index=True)
    #: For any unit, the post-2025 province it lies in today (itself for a post-2025 province).
    current_province_id: Mapped[int | None] = mapped_column(ForeignKey("place.id"), index=True)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]

    parent: Mapped[Place | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    current_province: Mapped[Place | None] = relationship(
        remote_side=[id], foreign_keys=[current_province_id]
    )

    @property
    def province(self) -> Place:
        """The province this unit belongs to in its own system."""
        place = self
        while place.parent is not None:
            place = place.parent
        return place

    @property
    def is_historical(self) -> bool:
        """True for units of the system in force before 1 July 2025."""
        return self.system == "pre2025"

    def label(self) -> str:
        """'Chợ Đồn, Bắc Kạn' style label, from the unit up to its province."""
        parts, place = [], self
        while place is not None:
            parts.append(place.name)
            place = place.parent
        return ", ".join(parts)

    def __repr__(self) -> str:
        return f"<Place {self.code} {self.name}>"


class PlaceSuccession(db.Model):
    """An old unit that went wholly or partly into a new unit on 1 July 2025."""

    __tablename__ = "place_succession"

    old_id: Mapped[int] = mapped_column(ForeignKey("place.id", ondelete="CASCADE"), primary_key=True)
    new_id: Mapped[int] = mapped_column(ForeignKey("place.id", ondelete="CASCADE"), primary_key=True)
    #: For an old commune split between several new ones, the one most of it went to.
    is_default: Mapped[bool] = mapped_column(default=True)

    old: Mapped[Place] = relationship(foreign_keys=[old_id])
    new: Mapped[Place] = relationship(foreign_keys=[new_id])


class Subject(db.Model):
    """A subject keyword with labels in several languages."""

    __tablename__ = "subject"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    labels: Mapped[list] = mapped_column(JSONType, default=list)
    uri: Mapped[str | None] = mapped_column(String(500))

    @property
    def label_values(self) -> list[LangString]:
        """Labels as language-tagged values."""
        return to_langstrings(self.labels)


AGENT_KINDS = ("person", "organisation")
AGENT_ROLES = ("ritual_master", "artisan", "informant", "performer", "recorder", "researcher", "office")


class Agent(db.Model):
    """A person or organisation with a role on records; doubles as the programme's directory of experts."""

    __tablename__ = "agent"
    __table_args__ = (CheckConstraint(f"kind IN {AGENT_KINDS!r}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="person")
    other_names: Mapped[list] = mapped_column(JSONType, default=list)
    #: Short biography or description, language-tagged: [{"lang", "value"}].
    description: Mapped[list] = mapped_column(JSONType, default=list)
    #: Fields of expertise, language-tagged, for the directory of experts.
    expertise: Mapped[list] = mapped_column(JSONType, default=list)
    ethnic_group_id: Mapped[int | None] = mapped_column(ForeignKey("ethnic_group.id"))
    is_expert: Mapped[bool] = mapped_column(default=False)

    ethnic_group: Mapped[EthnicGroup | None] = relationship()


class Collection(db.Model):
    """A curated set of records (dcterms:isPartOf)."""

    __tablename__ = "collection"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[list] = mapped_column(JSONType, default=list)
    description: Mapped[list] = mapped_column(JSONType, default=list)
    notes: Mapped[str | None] = mapped_column(Text)

    @property
    def title_values(self) -> list[LangString]:
        """Title as language-tagged values."""
        return to_langstrings(self.title)

    @property
    def description_values(self) -> list[LangString]:
        """Description as language-tagged values."""
        return to_langstrings(self.description)
