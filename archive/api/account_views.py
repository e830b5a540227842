"""The page where contributors make and revoke their personal API tokens (``/account/tokens``)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from archive.api import tokens
from archive.core.extensions import db
from archive.core.types import utcnow

bp = Blueprint("api_tokens", __name__)

MESSAGES = {
    "not_allowed": _l("Only contributors and curators may make API tokens."),
    "name_required": _l("Give the token a name, such as the computer or script that will use it."),
    "name_too_long": _l("The name is too long (at most %(limit)s characters)."),
    "bad_lifetime": _l("Choose how long the token stays valid."),
    "too_many": _l("You have too many tokens; revoke the ones you no longer use."),
    "unknown_token": _l("There is no such token."),
}
LIFETIME_LABELS = {
    "30": _l("30 days"),
    "90": _l("90 days"),
    "365": _l("One year"),
    "never": _l("Until I revoke it"),
}


def _message(code: str) -> str:
    return str(MESSAGES.get(code, code)) % {"limit": tokens.NAME_LIMIT}


def _page(
    status: int = 200, *, secret: str | None = None, error: str | None = None, name: str = ""
) -> Response:
    user = current_user._get_current_object()
    body = render_template(
        "api/tokens.html",
        items=tokens.tokens_of(user),
        now=utcnow(),
        secret=secret,
        error=error,
        name=name,
        lifetimes=LIFETIME_LABELS,
        name_limit=tokens.NAME_LIMIT,
    )
    response = Response(body, status=status, mimetype="text/html")
    # The new token is on this page: never keep it in a cache, never name the page in a Referer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _contributor() -> None:
    if not tokens.may_hold_tokens(current_user._get_current_object()):
        abort(403)


@bp.get("/account/tokens")
@login_required
def index():
    """The signed-in contributor's tokens, and the form to make one."""
    _contributor()
    return _page()


@bp.post("/account/tokens")
@login_required
def create():
    """Make a token; the page shows it once (it is not stored and cannot be shown again)."""
    _contributor()
    name = request.form.get("name") or ""
    lifetime_text = request.form.get("lifetime") or ""
    lifetime = None if lifetime_text == "never" else int(lifetime_text) if lifetime_text.isdigit() else -1
    try:
        token, secret = tokens.create_token(current_user._get_current_object(), name, lifetime)
        db.session.commit()
    except tokens.TokenError as exc:
        db.session.rollback()
        return _page(400, error=_message(exc.code), name=name[: tokens.NAME_LIMIT])
    return _page(201, secret=secret, name="")


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    """Revoke one of one's own tokens; programs using it are refused from the next request on."""
    _contributor()
    try:
        token = tokens.revoke_token(current_user._get_current_object(), token_id)
        db.session.commit()
    except tokens.TokenError as exc:
        db.session.rollback()
        return _page(404, error=_message(exc.code))
    flash(_("The token “%(name)s” was revoked.", name=token.name))
    return redirect(url_for("api_tokens.index"), 303)
