"""Account operations: sign-in with throttling, password reset, invitations, roles and passwords.

Like every service they flush and never commit: the request or CLI command commits, so a refusal
leaves nothing half-saved.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import secrets
from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from archive.accounts.forms import ROLE_LABELS
from archive.accounts.models import ROLES, AccountToken, LoginFailure, User, new_session_token
from archive.accounts.passwords import password_problems
from archive.audit import record as audit_record
from archive.core.extensions import db
from archive.core.mail import send_mail
from archive.core.types import utcnow

logger = logging.getLogger(__name__)

#: Used tokens and expired ones are deleted this long after they stop working.
TOKEN_RETENTION = dt.timedelta(days=30)


class AccountRefused(Exception):
    """Something a person asked for and may not have, with a translated message and an HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class WrongPassword(AccountRefused):
    """The current password given to confirm a change is wrong (the failure is recorded)."""


class PasswordRefused(AccountRefused):
    """A new password that breaks the strength rules; ``problems`` says which."""

    def __init__(self, problems: list) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Throttle:
    """Sign-ins are refused for ``retry_after`` seconds, for an email address or an IP address."""

    scope: str  # "email" or "ip"
    retry_after: int

    @property
    def minutes(self) -> int:
        """The wait in whole minutes, rounded up."""
        return max(1, math.ceil(self.retry_after / 60))


class SignInThrottled(Exception):
    """Too many failed sign-ins: the password was not even checked."""

    def __init__(self, throttle: Throttle) -> None:
        super().__init__(f"{throttle.scope} throttled for {throttle.retry_after} s")
        self.throttle = throttle


class TokenRefused(Exception):
    """An account link that cannot be used: ``reason`` is unknown, used, expired or inactive."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def status(self) -> int:
        """404 for a link that never existed, 400 for one that no longer works."""
        return 404 if self.reason == "unknown" else 400


def normalise_email(email: str) -> str:
    """The form of an address used for look-ups and throttling: trimmed, lower case."""
    return (email or "").strip().lower()[:254]


def find_user_by_email(email: str) -> User | None:
    """The account with this address (case-insensitive), if any."""
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


# --------------------------------------------------------------------------------------------------
# Throttling
# --------------------------------------------------------------------------------------------------


def _window() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])


def _seconds_until(moment: dt.datetime, now: dt.datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def sign_in_throttle(email_key: str, ip: str, now: dt.datetime | None = None) -> Throttle | None:
    """Whether sign-ins for this address or from this IP address are refused right now."""
    now = now or utcnow()
    window = _window()
    since = now - window
    ip_limit = current_app.config["LOGIN_MAX_FAILURES_PER_IP"]
    ip_times = db.session.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.ip == ip, LoginFailure.at > since)
        .order_by(LoginFailure.at)
    ).all()
    if len(ip_times) >= ip_limit:
        # Allowed again when enough of the failures have left the window to fall under the limit.
        return Throttle("ip", _seconds_until(ip_times[len(ip_times) - ip_limit] + window, now))
    email_times = db.session.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.email_key == email_key, LoginFailure.at > since)
        .order_by(LoginFailure.at.desc())
    ).all()
    if len(email_times) >= current_app.config["LOGIN_MAX_FAILURES"]:
        return Throttle("email", _seconds_until(email_times[0] + window, now))
    return None


def record_failure(email_key: str, ip: str) -> None:
    """Remember a failed sign-in, and forget those too old to matter."""
    now = utcnow()
    db.session.add(LoginFailure(email_key=email_key, ip=ip, at=now))
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < now - _window()))
    db.session.flush()


def clear_failures(email_key: str) -> None:
    """Forget the failed sign-ins of an address (after a successful one or a new password)."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.email_key == email_key))


_DUMMY_HASH: str | None = None


def _spend_a_password_check(password: str) -> None:
    """Check against a throw-away hash, so an unknown address answers as slowly as a known one."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = generate_password_hash(secrets.token_hex(16), method="scrypt")
    check_password_hash(_DUMMY_HASH, password)


def sign_in(email: str, password: str, ip: str) -> User | None:
    """The account for this email and password, or None; raises SignInThrottled when locked.

    A failure is recorded for the address as typed, whether or not it has an account.
    """
    email_key = normalise_email(email)
    throttle = sign_in_throttle(email_key, ip)
    if throttle is not None:
        logger.info("sign-in refused without a password check: %s throttled", throttle.scope)
        raise SignInThrottled(throttle)
    user = find_user_by_email(email_key)
    if user is not None and user.is_active and user.has_password:
        accepted = user.check_password(password)
    else:
        _spend_a_password_check(password)
        accepted = False
    if accepted:
        clear_failures(email_key)
        audit_record("login", "user", user.id, f"{user.email} signed in", actor=user)
        return user
    record_failure(email_key, ip)
    # The address as typed is kept (it may have no account); never the password.
    who = email_key[:200] or "unknown"
    target = user.id if user else None
    audit_record("login_failed", "user", target, f"failed sign-in for {who}", actor=who)
    throttle = sign_in_throttle(email_key, ip)
    if throttle is not None:
        logger.warning("sign-in locked (%s) after repeated failures from %s", throttle.scope, ip)
        audit_record(
            "login_locked", "user", target, f"sign-in locked ({throttle.scope}) for {who}", actor=who
        )
        raise SignInThrottled(throttle)
    return None


# --------------------------------------------------------------------------------------------------
# Single-use tokens
# --------------------------------------------------------------------------------------------------


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _token_lifetime(purpose: str) -> dt.timedelta:
    if purpose == "reset":
        return dt.timedelta(minutes=current_app.config["PASSWORD_RESET_MINUTES"])
    return dt.timedelta(days=current_app.config["INVITATION_DAYS"])


def _retire_tokens(user: User, now: dt.datetime, purpose: str | None = None) -> None:
    """End the unused tokens of an account (of one purpose, or all)."""
    stmt = update(AccountToken).where(
        AccountToken.user_id == user.id, AccountToken.used_at.is_(None), AccountToken.expires_at > now
    )
    if purpose is not None:
        stmt = stmt.where(AccountToken.purpose == purpose)
    db.session.execute(stmt.values(expires_at=now))


def issue_token(user: User, purpose: str) -> str:
    """Create a token for *user* and return its secret; older unused tokens of that purpose end."""
    now = utcnow()
    db.session.flush()
    _retire_tokens(user, now, purpose)
    db.session.execute(delete(AccountToken).where(AccountToken.expires_at < now - TOKEN_RETENTION))
    secret = secrets.token_urlsafe(32)
    db.session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=_token_hash(secret),
            created_at=now,
            expires_at=now + _token_lifetime(purpose),
        )
    )
    db.session.flush()
    return secret


def check_token(secret: str, purpose: str) -> AccountToken:
    """The usable token for this secret; raises TokenRefused when it is unknown, used or expired."""
    if not secret or len(secret) > 200:
        raise TokenRefused("unknown")
    token = db.session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == _token_hash(secret), AccountToken.purpose == purpose
        )
    )
    if token is None:
        raise TokenRefused("unknown")
    if token.used_at is not None:
        raise TokenRefused("used")
    if token.expires_at <= utcnow():
        raise TokenRefused("expired")
    if not token.user.is_active:
        raise TokenRefused("inactive")
    return token


def set_password_with_token(secret: str, purpose: str, password: str) -> User:
    """Use a reset or invitation token to set a password: the token is spent in the same transaction."""
    token = check_token(secret, purpose)
    user = token.user
    problems = password_problems(password, email=user.email, name=user.display_name)
    if problems:
        raise PasswordRefused(problems)
    now = utcnow()
    # Spend the token only if no one else has spent it meanwhile (two submissions of the same link).
    spent = db.session.execute(
        update(AccountToken)
        .where(AccountToken.id == token.id, AccountToken.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:
        raise TokenRefused("used")
    user.set_password(password)
    _retire_tokens(user, now)
    clear_failures(normalise_email(user.email))
    db.session.flush()
    logger.info("password set for account %s with a %s link", user.id, purpose)
    return user


# --------------------------------------------------------------------------------------------------
# Mail
# --------------------------------------------------------------------------------------------------


def _link(endpoint: str, secret: str) -> str:
    return current_app.config["BASE_URL"] + url_for(endpoint, token=secret)


def _mail_reset(user: User, secret: str, lang: str) -> None:
    link = _link("accounts.reset_password", secret)
    with force_locale(lang):
        site = _("Heritage Archive")
        subject = _("Choose a new password for %(site)s", site=site)
        body = _(
            "Hello %(name)s,\n\n"
            "Someone, probably you, asked to reset the password of the account %(email)s at %(site)s.\n"
            "To choose a new password, open this link within %(minutes)s minutes:\n\n"
            "%(link)s\n\n"
            "The link works only once. If you did not ask for this, ignore this message: "
            "your password stays as it is.",
            name=user.display_name,
            email=user.email,
            site=site,
            minutes=current_app.config["PASSWORD_RESET_MINUTES"],
            link=link,
        )
    send_mail(user.email, subject, body)


def _mail_invitation(user: User, inviter: User, secret: str, lang: str) -> None:
    link = _link("accounts.accept_invitation", secret)
    with force_locale(lang):
        site = _("Heritage Archive")
        subject = _("Invitation to %(site)s", site=site)
        body = _(
            "Hello %(name)s,\n\n"
            "%(inviter)s has opened an account for you at %(site)s, with the role “%(role)s”.\n"
            "To choose your password, open this link within %(days)s days:\n\n"
            "%(link)s\n\n"
            "The link works only once. Afterwards you sign in with the address %(email)s "
            "and your password. If you did not expect this invitation, ignore this message.",
            name=user.display_name,
            inviter=inviter.display_name,
            site=site,
            role=str(ROLE_LABELS[user.role]),
            days=current_app.config["INVITATION_DAYS"],
            link=link,
            email=user.email,
        )
    send_mail(user.email, subject, body)


def request_password_reset(email: str, lang: str) -> None:
    """Mail a reset link when an active account has this address; otherwise do nothing, silently.

    Raises MailNotSent when the mail server fails (the caller rolls back and still answers neutrally).
    """
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        logger.info("password reset asked for an address without an active account")
        return
    # At most PASSWORD_RESET_MAX_PER_HOUR links an hour per account, so nobody can flood a mailbox; the
    # answer stays the same (it never says whether the address has an account).
    since = utcnow() - dt.timedelta(hours=1)
    recent = db.session.scalar(
        select(func.count())
        .select_from(AccountToken)
        .where(
            AccountToken.user_id == user.id, AccountToken.purpose == "reset", AccountToken.created_at > since
        )
    )
    if recent >= current_app.config["PASSWORD_RESET_MAX_PER_HOUR"]:
        logger.warning("password reset for account %s refused: %d links in the last hour", user.id, recent)
        return
    secret = issue_token(user, "reset")
    _mail_reset(user, secret, lang)
    logger.info("password reset link mailed for account %s", user.id)


# --------------------------------------------------------------------------------------------------
# Administration and the signed-in person's own account
# --------------------------------------------------------------------------------------------------


def _require_administrator(actor: User) -> None:
    if actor is None or not actor.is_administrator:
        raise AccountRefused(_("Only administrators manage accounts."), 403)


def invite_user(actor: User, email: str, display_name: str, role: str, lang: str) -> User:
    """Create an account without a password and mail its owner an invitation link."""
    _require_administrator(actor)
    email = normalise_email(email)
    if role not in ROLES:
        raise AccountRefused(_("Choose one of the listed roles."))
    if find_user_by_email(email) is not None:
        raise AccountRefused(_("An account for %(email)s already exists.", email=email), 409)
    user = User(email=email, display_name=display_name.strip(), role=role, is_active=True)
    db.session.add(user)
    db.session.flush()
    secret = issue_token(user, "invite")
    _mail_invitation(user, actor, secret, lang)
    logger.info("account %s invited %s as %s", actor.id, user.id, role)
    return user


def resend_invitation(actor: User, user: User, lang: str) -> None:
    """Mail a fresh invitation link to someone who has not chosen a password yet."""
    _require_administrator(actor)
    if user.has_password:
        raise AccountRefused(_("%(name)s has already chosen a password.", name=user.display_name), 409)
    if not user.is_active:
        raise AccountRefused(
            _("Reactivate the account before inviting %(name)s.", name=user.display_name), 409
        )
    secret = issue_token(user, "invite")
    _mail_invitation(user, actor, secret, lang)


def change_role(actor: User, user: User, role: str) -> None:
    """Give an account another role; administrators cannot demote themselves."""
    _require_administrator(actor)
    if role not in ROLES:
        raise AccountRefused(_("Choose one of the listed roles."))
    if user.id == actor.id and role != "administrator":
        raise AccountRefused(_("You cannot take away your own administrator role."), 409)
    logger.info("account %s changed the role of %s from %s to %s", actor.id, user.id, user.role, role)
    user.role = role
    db.session.flush()


def set_active(actor: User, user: User, active: bool) -> None:
    """Deactivate or reactivate an account; deactivating signs it out everywhere."""
    _require_administrator(actor)
    if user.id == actor.id and not active:
        raise AccountRefused(_("You cannot deactivate your own account."), 409)
    user.is_active = active
    if not active:
        # Reactivating later must not bring old sessions back to life.
        user.session_token = new_session_token()
    db.session.flush()
    logger.info("account %s %s account %s", actor.id, "reactivated" if active else "deactivated", user.id)


def change_password(user: User, current_password: str, new_password: str, ip: str) -> None:
    """Replace the password of the signed-in person, which signs out all their sessions.

    A wrong current password counts as a failed sign-in, so this form cannot be used to guess it.
    """
    email_key = normalise_email(user.email)
    throttle = sign_in_throttle(email_key, ip)
    if throttle is not None:
        raise SignInThrottled(throttle)
    if not user.check_password(current_password):
        record_failure(email_key, ip)
        raise WrongPassword(_("Your current password is wrong."))
    problems = password_problems(new_password, email=user.email, name=user.display_name)
    if problems:
        raise PasswordRefused(problems)
    user.set_password(new_password)
    _retire_tokens(user, utcnow(), "reset")
    clear_failures(email_key)
    db.session.flush()
    logger.info("account %s changed its password", user.id)


def set_administrator(email: str, display_name: str | None, password: str) -> tuple[User, bool]:
    """Create an administrator account or promote an existing one, with *password* (CLI setup).

    Returns the account and whether it was created. Raises PasswordRefused for a weak password.
    """
    user = find_user_by_email(email)
    name = display_name or (user.display_name if user else normalise_email(email))
    problems = password_problems(password, email=email, name=name)
    if problems:
        raise PasswordRefused(problems)
    created = user is None
    if created:
        user = User(email=normalise_email(email), display_name=name, role="administrator")
        db.session.add(user)
    else:
        user.role = "administrator"
        user.is_active = True
        if display_name:
            user.display_name = display_name
    user.set_password(password)
    db.session.flush()
    if not created:
        _retire_tokens(user, utcnow())
        clear_failures(normalise_email(user.email))
    return user, created
