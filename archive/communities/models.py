"""Community groups and memberships, consent records and traditional-knowledge (TK) style labels."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.accounts.models import User
from archive.core.extensions import db
from archive.core.types import JSONType, UTCDateTime, to_langstrings, utcnow
from metadata.languages import LangString

#: Uses a consent can cover.
CONSENT_USES = ("display", "research", "education", "broadcast", "commercial")
#: Label kinds, after the Local Contexts TK labels. Only "seasonal" changes who may see a record; the
#: others are shown on the record as the community's conditions of use.
LABEL_KINDS = (
    "seasonal",
    "non_commercial",
    "men_only",
    "women_only",
    "sacred",
    "community_voice",
    "attribution",
    "verified",
)
MEMBER_ROLES = ("member", "steward")


class Community(db.Model):
    """A community group (a village, clan, lineage or association) that decides who may see its material."""

    __tablename__ = "community"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    #: Language-tagged names, e.g. [{"lang": "vi", "value": "Cộng đồng Tày bản Cải"}].
    name: Mapped[list] = mapped_column(JSONType, default=list)
    #: The cultural-protocol notice written by the community, shown instead of restricted content.
    protocol_notice: Mapped[list] = mapped_column(JSONType, default=list)
    ethnic_group_id: Mapped[int | None] = mapped_column(ForeignKey("ethnic_group.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    memberships: Mapped[list[CommunityMembership]] = relationship(
        back_populates="community", cascade="all, delete-orphan"
    )

    @property
    def name_values(self) -> list[LangString]:
        """The names as language-tagged values."""
        return to_langstrings(self.name)

    @property
    def notice_values(self) -> list[LangString]:
        """The protocol notice as language-tagged values."""
        return to_langstrings(self.protocol_notice)

    def __repr__(self) -> str:
        return f"<Community {self.slug}>"


class CommunityMembership(db.Model):
    """A user's membership of a community group."""

    __tablename__ = "community_membership"
    __table_args__ = (CheckConstraint(f"role IN {MEMBER_ROLES!r}", name="role"),)

    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), default="member")
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    community: Mapped[Community] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ConsentRecord(db.Model):
    """Who gave consent, on behalf of which community, for what use, when and until when.

    Attached to a record (media_id None) or to one of its media files. Withdrawing it (withdrawn_at set)
    takes the material out of view at once; rows are never deleted.
    """

    __tablename__ = "consent_record"
    __table_args__ = (CheckConstraint("valid_until IS NULL OR valid_until >= given_on", name="period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("heritage_record.id", ondelete="CASCADE"), index=True)
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media_file.id", ondelete="CASCADE"), index=True)
    given_by: Mapped[str] = mapped_column(String(200))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"))
    #: Free text when the community is not a group of the archive ("Hội người cao tuổi bản Cải").
    on_behalf_of: Mapped[str | None] = mapped_column(String(300))
    uses: Mapped[list] = mapped_column(JSONType, default=list)
    given_on: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[list] = mapped_column(JSONType, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    community: Mapped[Community | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])

    def in_force(self, today: dt.date) -> bool:
        """Given, not withdrawn and not expired on *today*."""
        return (
            self.withdrawn_at is None
            and self.given_on <= today
            and (self.valid_until is None or today <= self.valid_until)
        )

    @property
    def note_values(self) -> list[LangString]:
        """The note as language-tagged values."""
        return to_langstrings(self.note)


class CulturalLabel(db.Model):
    """A traditional-knowledge style label on a record; a seasonal one carries its season."""

    __tablename__ = "cultural_label"
    __table_args__ = (
        CheckConstraint(f"kind IN {LABEL_KINDS!r}", name="kind"),
        CheckConstraint(
            "season_calendar IS NULL OR season_calendar IN ('lunar', 'gregorian')", name="calendar"
        ),
        CheckConstraint(
            "kind <> 'seasonal' OR (season_calendar IS NOT NULL AND start_month BETWEEN 1 AND 12"
            " AND start_day BETWEEN 1 AND 31 AND end_month BETWEEN 1 AND 12 AND end_day BETWEEN 1 AND 31)",
            name="season",
        ),
        UniqueConstraint("record_id", "kind", name="uq_cultural_label_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("heritage_record.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    #: The community's own wording of the label, language-tagged.
    note: Mapped[list] = mapped_column(JSONType, default=list)
    season_calendar: Mapped[str | None] = mapped_column(String(10))
    start_month: Mapped[int | None]
    start_day: Mapped[int | None]
    end_month: Mapped[int | None]
    end_day: Mapped[int | None]

    @property
    def note_values(self) -> list[LangString]:
        """The note as language-tagged values."""
        return to_langstrings(self.note)
