"""Exhibits, their ordered sections, and the records a "records" section features."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.accounts.models import User
from archive.core.extensions import db
from archive.core.types import JSONType, UTCDateTime, to_langstrings, utcnow
from archive.media.models import MediaFile
from archive.records.models import HeritageRecord
from metadata.languages import LangString

EXHIBIT_STATUSES = ("draft", "published")
SECTION_KINDS = ("narrative", "records", "image", "excerpt")


class Exhibit(db.Model):
    """A curated virtual exhibition: a title, an introduction and sections in order.

    Language-tagged values are stored as ``[{"lang": .., "value": ..}]`` JSON, like the community names.
    """

    __tablename__ = "exhibit"
    __table_args__ = (CheckConstraint(f"status IN {EXHIBIT_STATUSES!r}", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[list] = mapped_column(JSONType, default=list)
    introduction: Mapped[list] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    #: Shown on the home page.
    featured: Mapped[bool] = mapped_column(default=False)
    #: Order in lists (smallest first).
    position: Mapped[int] = mapped_column(default=0)
    #: An image media file shown as the exhibit's cover (only to those who may see it).
    cover_media_id: Mapped[int | None] = mapped_column(ForeignKey("media_file.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    #: Optimistic locking: every change to the exhibit or its sections raises it; a stale form gets 409.
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}

    cover: Mapped[MediaFile | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    sections: Mapped[list[ExhibitSection]] = relationship(
        back_populates="exhibit",
        cascade="all, delete-orphan",
        order_by="(ExhibitSection.position, ExhibitSection.id)",
    )

    @property
    def title_values(self) -> list[LangString]:
        """The title as language-tagged values."""
        return to_langstrings(self.title)

    @property
    def introduction_values(self) -> list[LangString]:
        """The introduction as language-tagged values."""
        return to_langstrings(self.introduction)

    def __repr__(self) -> str:
        return f"<Exhibit {self.slug}>"


class ExhibitSection(db.Model):
    """One section of an exhibit: a narrative, featured records, an image or an audio/video excerpt."""

    __tablename__ = "exhibit_section"
    __table_args__ = (
        CheckConstraint(f"kind IN {SECTION_KINDS!r}", name="kind"),
        CheckConstraint(
            "start_seconds IS NULL OR end_seconds IS NULL"
            " OR (start_seconds >= 0 AND start_seconds < end_seconds)",
            name="excerpt_times",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exhibit_id: Mapped[int] = mapped_column(ForeignKey("exhibit.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(12))
    heading: Mapped[list] = mapped_column(JSONType, default=list)
    #: Narrative: Markdown per language.
    body: Mapped[list] = mapped_column(JSONType, default=list)
    #: Image and excerpt: the media file shown (the section is left out when it may not be seen).
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media_file.id", ondelete="SET NULL"), index=True)
    #: Image: an IIIF region "x,y,w,h" in full-resolution pixels (None: the whole image).
    region: Mapped[str | None] = mapped_column(String(60))
    caption: Mapped[list] = mapped_column(JSONType, default=list)
    #: Image: alternative text per language (required, at least in Vietnamese).
    alt: Mapped[list] = mapped_column(JSONType, default=list)
    #: Excerpt: the range played, in seconds.
    start_seconds: Mapped[float | None] = mapped_column(Float)
    end_seconds: Mapped[float | None] = mapped_column(Float)

    exhibit: Mapped[Exhibit] = relationship(back_populates="sections")
    media: Mapped[MediaFile | None] = relationship()
    items: Mapped[list[ExhibitItem]] = relationship(
        back_populates="section",
        cascade="all, delete-orphan",
        order_by="(ExhibitItem.position, ExhibitItem.id)",
    )

    @property
    def heading_values(self) -> list[LangString]:
        """The heading as language-tagged values."""
        return to_langstrings(self.heading)

    @property
    def body_values(self) -> list[LangString]:
        """The Markdown body as language-tagged values."""
        return to_langstrings(self.body)

    @property
    def caption_values(self) -> list[LangString]:
        """The caption as language-tagged values."""
        return to_langstrings(self.caption)

    @property
    def alt_values(self) -> list[LangString]:
        """The alternative text as language-tagged values."""
        return to_langstrings(self.alt)


class ExhibitItem(db.Model):
    """A record featured in a "records" section, with an optional note per language."""

    __tablename__ = "exhibit_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("exhibit_section.id", ondelete="CASCADE"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("heritage_record.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    note: Mapped[list] = mapped_column(JSONType, default=list)

    section: Mapped[ExhibitSection] = relationship(back_populates="items")
    record: Mapped[HeritageRecord] = relationship()

    @property
    def note_values(self) -> list[LangString]:
        """The note as language-tagged values."""
        return to_langstrings(self.note)
