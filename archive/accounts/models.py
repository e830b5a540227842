"""User accounts: roles and password login (invitations, throttling and audit come with the access issue)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

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
    #: scrypt hash (werkzeug); None for accounts that cannot log in yet (invited).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # Flask-Login's user interface.
    @property
    def is_authenticated(self) -> bool:
        """Always true for a stored account (anonymous visitors have no User object)."""
        return True

    @property
    def is_anonymous(self) -> bool:
        """Never anonymous."""
        return False

    def get_id(self) -> str:
        """Session identifier."""
        return str(self.id)

    def set_password(self, password: str) -> None:
        """Store a scrypt hash of *password*."""
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        """True when *password* matches the stored hash."""
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def can_contribute(self) -> bool:
        """Contributors, curators and administrators may catalogue and upload."""
        return self.is_active and self.role in ("contributor", "curator", "administrator")

    @property
    def is_curator(self) -> bool:
        """Curators and administrators review and manage media of any record."""
        return self.is_active and self.role in ("curator", "administrator")

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
