"""User accounts. Roles are stored now; login, passwords and permissions come in a later issue."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from archive.core.extensions import db
from archive.core.types import UTCDateTime, utcnow

ROLES = ("researcher", "contributor", "curator", "administrator")


class User(db.Model):
    """A registered person: researcher, contributor (cultural officer), curator or administrator."""

    __tablename__ = "user_account"
    __table_args__ = (CheckConstraint(f"role IN {ROLES!r}", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="contributor")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
