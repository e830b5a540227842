"""User accounts: roles, password login, login failures (throttling) and single-use account tokens."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import unicodedata

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from archive.core.extensions import db
from archive.core.types import UTCDateTime, utcnow

#: Stored roles. Visitors are not stored: a visitor is anyone who has not signed in.
ROLES = ("researcher", "contributor", "curator", "administrator")

#: What an account token is for.
TOKEN_PURPOSES = ("reset", "invite")


def new_session_token() -> str:
    """A fresh random session token (32 hexadecimal characters)."""
    return secrets.token_hex(16)


def _normalise_password(password: str) -> str:
    # The same password typed on two devices may arrive composed or decomposed (Vietnamese diacritics).
    return unicodedata.normalize("NFC", password)


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
    #: Part of the session identifier; changing it signs out every session (and remember-me cookie).
    session_token: Mapped[str] = mapped_column(String(32), default=new_session_token)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __init__(self, **fields) -> None:
        fields.setdefault("session_token", new_session_token())
        super().__init__(**fields)

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
        """Session identifier: the account id and its current session token."""
        return f"{self.id}:{self.session_token}"

    def session_matches(self, token: str) -> bool:
        """True when *token* is this account's current session token."""
        return bool(self.session_token) and hmac.compare_digest(self.session_token, token)

    def set_password(self, password: str) -> None:
        """Store a scrypt hash of *password* and sign out every existing session."""
        self.password_hash = generate_password_hash(_normalise_password(password), method="scrypt")
        self.session_token = new_session_token()

    def check_password(self, password: str) -> bool:
        """True when *password* matches the stored hash."""
        return bool(self.password_hash) and check_password_hash(
            self.password_hash, _normalise_password(password)
        )

    @property
    def has_password(self) -> bool:
        """False for an invited account whose owner has not chosen a password yet."""
        return bool(self.password_hash)

    @property
    def can_contribute(self) -> bool:
        """Contributors, curators and administrators may catalogue and upload."""
        return self.is_active and self.role in ("contributor", "curator", "administrator")

    @property
    def is_curator(self) -> bool:
        """Curators and administrators review and manage media of any record."""
        return self.is_active and self.role in ("curator", "administrator")

    @property
    def is_administrator(self) -> bool:
        """Administrators manage accounts."""
        return self.is_active and self.role == "administrator"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class LoginFailure(db.Model):
    """One failed sign-in, kept for the length of the throttling window.

    ``email_key`` is the normalised email as typed, also for addresses without an account, so that
    the answers never reveal whether an account exists.
    """

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_key: Mapped[str] = mapped_column(String(254), index=True)
    ip: Mapped[str] = mapped_column(String(45), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class AccountToken(db.Model):
    """A single-use, expiring secret mailed to a person: a password reset or an invitation.

    Only the SHA-256 of the secret is stored; the secret itself exists only in the mailed link.
    """

    __tablename__ = "account_token"
    __table_args__ = (CheckConstraint(f"purpose IN {TOKEN_PURPOSES!r}", name="purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<AccountToken {self.purpose} user={self.user_id}>"
