"""Display preferences for visitors: larger text and high contrast, as Vietnamese government portals
offer, remembered in a cookie so that they work without JavaScript and on every page."""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, request

from archive.core.i18n import language_neutral
from archive.core.security import safe_local_path

COOKIE = "display"
TEXT_SIZES = ("normal", "large", "larger")
CONTRASTS = ("normal", "high")

bp = Blueprint("display", __name__)


def preferences() -> dict[str, str]:
    """The visitor's display preferences: {'text': ..., 'contrast': ...}."""
    raw = request.cookies.get(COOKIE, "")
    text, _, contrast = raw.partition(".")
    return {
        "text": text if text in TEXT_SIZES else "normal",
        "contrast": contrast if contrast in CONTRASTS else "normal",
    }


def html_classes() -> str:
    """Classes for the <html> element that apply the preferences."""
    prefs = preferences()
    classes = []
    if prefs["text"] != "normal":
        classes.append(f"text-{prefs['text']}")
    if prefs["contrast"] == "high":
        classes.append("contrast-high")
    return " ".join(classes)


@bp.get("/display")
@language_neutral
def choose():
    """Set a preference (``text=normal|large|larger``, ``contrast=normal|high``) and go back.

    A plain link does it, so it works without JavaScript; the cookie holds nothing personal."""
    prefs = preferences()
    text = request.args.get("text")
    contrast = request.args.get("contrast")
    if text in TEXT_SIZES:
        prefs["text"] = text
    if contrast in CONTRASTS:
        prefs["contrast"] = contrast
    response = redirect(safe_local_path(request.args.get("next"), "/"), 303)
    response.set_cookie(
        COOKIE,
        f"{prefs['text']}.{prefs['contrast']}",
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=request.is_secure,
        httponly=False,  # the page's script flips the classes at once and updates the cookie itself
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Register the route and the template helpers."""
    app.register_blueprint(bp)
    app.jinja_env.globals.update(display_preferences=preferences, display_classes=html_classes)
