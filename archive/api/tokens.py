"""Personal API tokens: making, listing, revoking, and recognising them in a request.

A token reads ``ha_`` followed by 43 URL-safe random characters (256 bits). Only its SHA-256 is stored,
so a stolen database reveals no usable token; the owner sees the token once, when it is made. Services
flush but never commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from archive.accounts.models import User
from archive.api.models import ApiToken
from archive.audit import record as audit_record
from archive.core.extensions import db
from archive.core.types import utcnow

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "ha_"
#: Characters of a token shown in the owner's list.
DISPLAY_CHARS = 10
#: Longest name of a token, and most live tokens one person may hold.
NAME_LIMIT = 100
MAX_LIVE_TOKENS = 20
#: Lifetimes offered on the page, in days (None: until revoked).
LIFETIMES = (30, 90, 365, None)
#: last_used_at is written at most this often (a read must not write on every request).
LAST_USED_PRECISION = dt.timedelta(minutes=1)


class TokenError(Exception):
    """A refused token operation: a message code for translation."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def hash_token(secret: str) -> str:
    """The stored form of a token: SHA-256, hexadecimal."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def may_hold_tokens(user: User | None) -> bool:
    """Contributors, curators and administrators may make personal API tokens."""
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.can_contribute)


def tokens_of(user: User) -> list[ApiToken]:
    """Every token of *user*, live ones first, newest first."""
    rows = db.session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()
    return sorted(rows, key=lambda t: t.revoked_at is not None)


def create_token(user: User, name: str, lifetime_days: int | None) -> tuple[ApiToken, str]:
    """Make a token for *user*; returns the row and the secret (shown once). Raises TokenError."""
    if not may_hold_tokens(user):
        raise TokenError("not_allowed")
    name = " ".join((name or "").split())
    if not name:
        raise TokenError("name_required")
    if len(name) > NAME_LIMIT:
        raise TokenError("name_too_long")
    if lifetime_days not in LIFETIMES:
        raise TokenError("bad_lifetime")
    now = utcnow()
    live = [t for t in tokens_of(user) if t.is_usable(now)]
    if len(live) >= MAX_LIVE_TOKENS:
        raise TokenError("too_many")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[:DISPLAY_CHARS],
        created_at=now,
        expires_at=now + dt.timedelta(days=lifetime_days) if lifetime_days else None,
    )
    db.session.add(token)
    db.session.flush()
    audit_record(
        "api_token_created",
        "api_token",
        token.id,
        f"{user.email} made the API token {token.prefix}… ({name})",
        after={"name": name, "prefix": token.prefix, "expires_at": token.expires_at},
    )
    logger.info("API token %s made for user %s", token.prefix, user.id)
    return token, secret


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of *user*'s own tokens (at once: its next request gets 401). Raises TokenError."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise TokenError("unknown_token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
        audit_record(
            "api_token_revoked",
            "api_token",
            token.id,
            f"{user.email} revoked the API token {token.prefix}… ({token.name})",
            before={"revoked_at": None},
            after={"revoked_at": token.revoked_at},
        )
        logger.info("API token %s of user %s revoked", token.prefix, user.id)
    return token


def bearer_secret(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header ("" when the header is malformed,
    None when there is none)."""
    if not authorization:
        return None
    scheme, _sep, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or " " in value or len(value) > 200:
        return ""
    return value


def find_token(secret: str) -> ApiToken | None:
    """The usable token whose secret this is (None when unknown, revoked, expired or its owner
    deactivated); notes when it was last used."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    digest = hash_token(secret)
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == digest).options(selectinload(ApiToken.user))
    )
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    now = utcnow()
    if not token.is_usable(now):
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        token.last_used_at = now
    return token
