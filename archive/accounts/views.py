"""Signing in and out, passwords (reset, change, invitations) and the administrators' account list."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from archive.accounts import services
from archive.accounts.forms import (
    ROLE_LABELS,
    AccountActionForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    InviteForm,
    LoginForm,
    NewPasswordForm,
    RoleForm,
)
from archive.accounts.models import User
from archive.audit import record as audit_record
from archive.core.extensions import db, login_manager
from archive.core.i18n import current_language
from archive.core.mail import MailNotSent
from archive.core.security import safe_local_path

bp = Blueprint("accounts", __name__)
logger = logging.getLogger(__name__)


@bp.before_app_request
def _load_the_user_afresh() -> None:
    # Flask-Login caches the user on the application context, which outlives a request when one is
    # already pushed (CLI commands, tests); load it from this request's session every time.
    g.pop("_login_user", None)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The signed-in user of a session: still active, and signed in since the last password change."""
    user_id, _sep, token = (session_id or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or not user.session_matches(token):
        return None
    return user


def _client_ip() -> str:
    return (request.remote_addr or "unknown")[:45]


def _throttled_message(throttle: services.Throttle) -> str:
    return ngettext(
        "Too many failed sign-ins. Try again in %(num)s minute.",
        "Too many failed sign-ins. Try again in %(num)s minutes.",
        throttle.minutes,
    )


def _throttled(template: str, throttle: services.Throttle, **context):
    response = make_response(render_template(template, error=_throttled_message(throttle), **context), 429)
    response.headers["Retry-After"] = str(throttle.retry_after)
    return response


def _private(response):
    """Pages reached through a secret link: never cached, never named in a Referer header."""
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with email and password (throttled per address and per IP address)."""
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.sign_in(form.email.data, form.password.data, _client_ip())
        except services.SignInThrottled as exc:
            db.session.commit()
            return _throttled("accounts/login.html", exc.throttle, form=form)
        db.session.commit()
        if user is not None:
            login_user(user)
            return redirect(safe_local_path(request.args.get("next"), url_for("records.home")))
        form.password.errors.append(_("The email or password is wrong."))
        return render_template("accounts/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """Sign out."""
    audit_record("logout", "user", current_user.id, f"{current_user.email} signed out")
    db.session.commit()
    logout_user()
    flash(_("You have signed out."))
    return redirect(url_for("records.home"))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    """Ask for a password-reset link; the answer never says whether the address has an account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            services.request_password_reset(form.email.data, current_language())
            db.session.commit()
        except MailNotSent:
            db.session.rollback()  # logged by the mail module; the answer stays the same
        return render_template("accounts/forgot_sent.html")
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/forgot.html", form=form), status


_TOKEN_MESSAGES = {
    "unknown": lambda: _("This link is not valid. Check that you copied all of it."),
    "used": lambda: _("This link has already been used. Each link works only once."),
    "expired": lambda: _("This link has expired."),
    "inactive": lambda: _("This account has been deactivated."),
}


def _token_refused(purpose: str, exc: services.TokenRefused):
    response = make_response(
        render_template("accounts/link_refused.html", purpose=purpose, message=_TOKEN_MESSAGES[exc.reason]()),
        exc.status,
    )
    return _private(response)


def _password_by_link(secret: str, purpose: str):
    """Show and handle the new-password form of a reset or invitation link."""
    try:
        token = services.check_token(secret, purpose)
    except services.TokenRefused as exc:
        return _token_refused(purpose, exc)
    form = NewPasswordForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            try:
                services.set_password_with_token(secret, purpose, form.password.data)
            except services.TokenRefused as exc:
                db.session.rollback()
                return _token_refused(purpose, exc)
            except services.PasswordRefused as exc:
                db.session.rollback()
                form.password.errors.extend(str(p) for p in exc.problems)
            else:
                db.session.commit()
                if purpose == "reset":
                    flash(_("Your password has been changed. Sign in with your new password."))
                else:
                    flash(_("Your password is set. Welcome! Sign in with your email address and password."))
                return redirect(url_for("accounts.login"))
    page = render_template("accounts/set_password.html", form=form, purpose=purpose, person=token.user)
    return _private(make_response(page, status))


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password with a mailed reset link."""
    return _password_by_link(token, "reset")


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """Choose the first password of an invited account."""
    return _password_by_link(token, "invite")


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password; every other session of the account is signed out."""
    form = ChangePasswordForm()
    user = current_user._get_current_object()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            try:
                services.change_password(user, form.current_password.data, form.password.data, _client_ip())
            except services.SignInThrottled as exc:
                db.session.commit()
                return _throttled("accounts/change_password.html", exc.throttle, form=form)
            except services.WrongPassword as exc:
                db.session.commit()  # keep the recorded failure
                form.current_password.errors.append(exc.message)
            except services.PasswordRefused as exc:
                db.session.rollback()
                form.password.errors.extend(str(p) for p in exc.problems)
            else:
                db.session.commit()
                login_user(user)  # this session follows the new session token; the others end
                flash(_("Your password has been changed. Your other sessions have been signed out."))
                return redirect(url_for("accounts.change_password"))
    return render_template("accounts/change_password.html", form=form), status


# --------------------------------------------------------------------------------------------------
# Administration of accounts
# --------------------------------------------------------------------------------------------------


def _administrator() -> User:
    user = current_user._get_current_object()
    if not user.is_administrator:
        abort(403)
    return user


def _account(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _users_page(invite_form: InviteForm | None = None, error: str | None = None, status: int = 200):
    users = db.session.scalars(select(User).order_by(User.email)).all()
    if invite_form is None:
        invite_form = InviteForm(formdata=None, language=current_language())
    role_forms = {u.id: RoleForm(formdata=None, prefix=f"user-{u.id}", role=u.role) for u in users}
    page = render_template(
        "accounts/admin_users.html",
        users=users,
        invite_form=invite_form,
        role_forms=role_forms,
        error=error,
    )
    return page, status


@bp.get("/admin/users")
@login_required
def admin_users():
    """Every account with its role and state, and the invitation form (administrators only)."""
    _administrator()
    return _users_page()


@bp.post("/admin/users")
@login_required
def invite():
    """Invite a person: an account without a password and a mailed link to choose one."""
    actor = _administrator()
    form = InviteForm()
    if not form.validate():
        return _users_page(form, status=400)
    try:
        user = services.invite_user(
            actor, form.email.data, form.display_name.data, form.role.data, form.language.data
        )
    except services.AccountRefused as exc:
        db.session.rollback()
        if exc.status == 409:
            form.email.errors.append(exc.message)
            return _users_page(form, status=409)
        return _users_page(form, error=exc.message, status=exc.status)
    except MailNotSent:
        db.session.rollback()
        message = _("The invitation mail could not be sent, so nothing was saved. Try again later.")
        return _users_page(form, error=message, status=503)
    db.session.commit()
    flash(_("An invitation has been sent to %(email)s.", email=user.email))
    return redirect(url_for("accounts.admin_users"))


def _account_action(user_id: int, action, form=None):
    """Check the actor, load the account and the form, run *action*; answer with the list or a refusal."""
    actor = _administrator()
    user = _account(user_id)
    form = form or AccountActionForm()
    if not form.validate_on_submit():
        return _users_page(error=_("The form was incomplete; nothing was changed."), status=400)
    try:
        message = action(actor, user)
    except services.AccountRefused as exc:
        db.session.rollback()
        return _users_page(error=exc.message, status=exc.status)
    except MailNotSent:
        db.session.rollback()
        return _users_page(error=_("The mail could not be sent. Try again later."), status=503)
    db.session.commit()
    flash(message)
    return redirect(url_for("accounts.admin_users"))


@bp.post("/admin/users/<int:user_id>/role")
@login_required
def change_role(user_id: int):
    """Give an account another role."""
    form = RoleForm(prefix=f"user-{user_id}")

    def action(actor: User, user: User) -> str:
        services.change_role(actor, user, form.role.data)
        return _("%(name)s is now: %(role)s.", name=user.display_name, role=ROLE_LABELS[user.role])

    return _account_action(user_id, action, form)


@bp.post("/admin/users/<int:user_id>/deactivate")
@login_required
def deactivate(user_id: int):
    """Deactivate an account: it can no longer sign in and its sessions end."""

    def action(actor: User, user: User) -> str:
        services.set_active(actor, user, False)
        return _("The account of %(name)s has been deactivated.", name=user.display_name)

    return _account_action(user_id, action)


@bp.post("/admin/users/<int:user_id>/reactivate")
@login_required
def reactivate(user_id: int):
    """Reactivate an account."""

    def action(actor: User, user: User) -> str:
        services.set_active(actor, user, True)
        return _("The account of %(name)s has been reactivated.", name=user.display_name)

    return _account_action(user_id, action)


@bp.post("/admin/users/<int:user_id>/invitation")
@login_required
def resend_invitation(user_id: int):
    """Mail a new invitation link (the older ones stop working)."""

    def action(actor: User, user: User) -> str:
        services.resend_invitation(actor, user, current_language())
        return _("A new invitation has been sent to %(email)s.", email=user.email)

    return _account_action(user_id, action)
