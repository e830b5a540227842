"""Personal API tokens: a contributor's key for the JSON API's write endpoints (and for reading as
themselves). Only the SHA-256 of a token is stored; the token itself is shown once, when it is made."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.accounts.models import User
from archive.core.extensions import db
from archive.core.types import UTCDateTime, utcnow


class ApiToken(db.Model):
    """A personal API token of one account: named by its owner, revocable, optionally expiring."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    #: What the owner calls it ("field laptop", "import script").
    name: Mapped[str] = mapped_column(String(100))
    #: SHA-256 (hex) of the whole token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The token's first characters, shown in the list so that its owner recognises it.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    def is_usable(self, now: dt.datetime) -> bool:
        """Neither revoked nor expired, and its owner's account still active."""
        if self.revoked_at is not None:
            return False
        if self.expires_at is not None and self.expires_at <= now:
            return False
        return bool(self.user is not None and self.user.is_active)

    def __repr__(self) -> str:
        return f"<ApiToken {self.prefix}… of user {self.user_id}>"
