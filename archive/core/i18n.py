"""Interface language selection and the template helpers for language-tagged metadata values."""

from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_babel import get_locale, refresh
from markupsafe import Markup, escape

from metadata.categories import CATEGORIES
from metadata.dublin_core import ROLE_LABELS, timing_labels
from metadata.languages import LangString, from_mapping, language_name, pick

LANG_COOKIE = "lang"


def select_locale() -> str:
    """Interface language: ?lang=, then the visitor's cookie, then Accept-Language, then Vietnamese."""
    languages = current_app.config["LANGUAGES"]
    if not request:
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    for candidate in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in languages:
            return candidate
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    """The interface language of this request as a BCP 47 tag."""
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def localized(values: list[LangString] | None) -> Markup:
    """Render a value in the visitor's language by the fallback rule, marked with its language.

    When the value falls back to another language, the element carries ``lang`` and a visible note
    (e.g. "Shown in Vietnamese"), so readers and screen readers know.
    """
    from flask_babel import gettext as _

    lang = current_language()
    chosen = pick(values or [], lang)
    if chosen is None:
        return Markup("")
    if not chosen.fell_back and chosen.lang.split("-")[0] == lang:
        return Markup('<span lang="{}">{}</span>').format(chosen.lang, chosen.value)
    note = _("Shown in %(language)s", language=language_name(chosen.lang, lang))
    return Markup('<span lang="{}">{}</span> <small class="fallback">({})</small>').format(
        chosen.lang, chosen.value, note
    )


def localized_text(values: list[LangString] | None) -> str:
    """The plain text of a value in the visitor's language by the fallback rule."""
    chosen = pick(values or [], current_language())
    return chosen.value if chosen else ""


def category_values(code: str) -> list[LangString]:
    """Labels of a record category."""
    return CATEGORIES[code].label_values


def timing_values(timing) -> list[LangString]:
    """Readable labels of a festival timing (its note, or a generated description)."""
    return timing_labels(
        timing.calendar, timing.month, timing.day, timing.leap, timing.duration_days, timing.note_values
    )


def role_label(role: str) -> str:
    """An agent role in the visitor's language."""
    return localized_text(from_mapping(ROLE_LABELS.get(role, {"en": role})))


def init_app(app: Flask) -> None:
    """Register template helpers and remember an explicit language choice in a cookie."""
    app.jinja_env.globals.update(
        localized=localized,
        localized_text=localized_text,
        current_language=current_language,
        language_name=language_name,
        category_values=category_values,
        timing_labels=timing_values,
        role_label=role_label,
    )
    app.jinja_env.filters["paragraphs"] = _paragraphs

    @app.after_request
    def _remember_language(response):
        chosen = request.args.get("lang")
        if chosen in app.config["LANGUAGES"] and request.cookies.get(LANG_COOKIE) != chosen:
            response.set_cookie(
                LANG_COOKIE,
                chosen,
                max_age=365 * 24 * 3600,
                samesite="Lax",
                httponly=True,
                secure=request.is_secure,
            )
        response.headers.setdefault("Content-Language", current_language())
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
        return response

    @app.before_request
    def _store_language():
        # Flask-Babel caches the locale on the application context, which outlives a request when
        # one is already pushed (CLI commands, tests); choose afresh for every request.
        refresh()
        g.lang = current_language()


def _paragraphs(text: str) -> Markup:
    """Split plain text on blank lines into escaped <p> elements."""
    parts = [p.strip() for p in str(text).split("\n\n") if p.strip()]
    return Markup("").join(Markup("<p>{}</p>").format(escape(p)) for p in parts)
