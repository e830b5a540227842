"""Interface language: the language in the URL, its selection and the template helpers for
language-tagged metadata values.

Every page is served under a language prefix (``/vi/records/…``, ``/en/records/…``) so that a link
carries its language. Routes are declared without the prefix: :class:`LanguagePrefix` (WSGI) moves
the prefix from ``PATH_INFO`` to ``SCRIPT_NAME``, and :meth:`ArchiveFlask.url_for` builds page links
in the current language (or ``_lang=``) and files, feeds and APIs without a prefix ("language
neutral": a rule whose last segment has an extension, the ``static``/IIIF/upload endpoints, or a view
marked with :func:`language_neutral`). An unprefixed GET of a page redirects to the visitor's
language: the cookie of an earlier choice, else Accept-Language, else Vietnamese.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from babel import Locale
from flask import Flask, current_app, g, has_request_context, redirect, request
from flask_babel import get_locale, refresh
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from metadata.categories import CATEGORIES
from metadata.dublin_core import ROLE_LABELS, timing_labels
from metadata.languages import LangString, from_mapping, language_name, pick

LANG_COOKIE = "lang"
#: WSGI environ keys set by LanguagePrefix.
URL_LANG_KEY = "archive.url_lang"
BASE_ROOT_KEY = "archive.base_script_name"
#: Blueprints that serve files and machine-readable data, never pages.
NEUTRAL_BLUEPRINTS = frozenset({"iiif", "tus", "presentation", "oai", "api", "viewer", "dcat"})

F = TypeVar("F", bound=Callable)


def language_neutral(view: F) -> F:
    """Mark a view as serving the same thing in every language (a file, a feed, an API answer)."""
    view._language_neutral = True  # type: ignore[attr-defined]
    return view


class LanguagePrefix:
    """WSGI middleware: ``/vi/records/5`` reaches the app as ``/records/5`` under the script root
    ``/vi``, and the language is remembered in the environ."""

    def __init__(self, wsgi_app, languages: list[str]) -> None:
        self.wsgi_app = wsgi_app
        self.languages = frozenset(languages)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "") or "/"
        first, slash, rest = path[1:].partition("/")
        if first in self.languages:
            environ[URL_LANG_KEY] = first
            environ[BASE_ROOT_KEY] = environ.get("SCRIPT_NAME", "")
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + "/" + first
            environ["PATH_INFO"] = "/" + rest
        return self.wsgi_app(environ, start_response)


def url_language() -> str | None:
    """The language given by this request's URL prefix, if any."""
    if not has_request_context():
        return None
    return request.environ.get(URL_LANG_KEY)


def is_language_neutral(app: Flask, endpoint: str) -> bool:
    """True for endpoints served without a language prefix (files, feeds, APIs)."""
    cache: dict[str, bool] = app.extensions.setdefault("archive.neutral_endpoints", {})
    if endpoint not in cache:
        view = app.view_functions.get(endpoint)
        cache[endpoint] = (
            endpoint == "static"
            or endpoint.partition(".")[0] in NEUTRAL_BLUEPRINTS
            or bool(getattr(view, "_language_neutral", False))
            or any("." in rule.rule.rsplit("/", 1)[-1] for rule in app.url_map.iter_rules(endpoint))
        )
    return cache[endpoint]


def relocalize(app: Flask, endpoint: str, url: str, lang: str | None) -> str:
    """Put ``url`` (built by Flask for ``endpoint``) under the prefix of ``lang``, or under none for a
    language-neutral endpoint."""
    if has_request_context():
        url_lang = request.environ.get(URL_LANG_KEY)
        base_root = (
            request.environ.get(BASE_ROOT_KEY, request.script_root) if url_lang else request.script_root
        )
    else:
        url_lang, base_root = None, (app.config.get("APPLICATION_ROOT") or "/")
    base_root = base_root.rstrip("/")
    target = None if is_language_neutral(app, endpoint) else (lang or current_language())
    parts = urlsplit(url)
    path = parts.path
    if url_lang and path.startswith(f"{base_root}/{url_lang}"):
        rest = path[len(base_root) + 1 + len(url_lang) :]
    elif path.startswith(base_root):
        rest = path[len(base_root) :]
    else:  # not built under our root (should not happen): leave it alone
        return url
    new_path = base_root + (f"/{target}" if target else "") + (rest or "/")
    if new_path == path:
        return url
    return urlunsplit(parts._replace(path=new_path))


class ArchiveFlask(Flask):
    """Flask whose ``url_for`` knows the language prefix of pages (see the module docstring)."""

    def url_for(
        self, endpoint: str, /, *, _anchor=None, _method=None, _scheme=None, _external=None, **values
    ):
        lang = values.pop("_lang", None)
        if endpoint[:1] == "." and has_request_context():
            blueprint = request.blueprint
            endpoint = f"{blueprint}{endpoint}" if blueprint else endpoint[1:]
        url = super().url_for(
            endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external, **values
        )
        return relocalize(self, endpoint, url, lang)


def select_locale() -> str:
    """Interface language: the URL's prefix, then ?lang=, then the visitor's cookie, then
    Accept-Language, then Vietnamese."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    from_url = request.environ.get(URL_LANG_KEY)
    if from_url in languages:
        return from_url
    for candidate in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in languages:
            return candidate
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def default_page_url() -> str | None:
    """This page's absolute URL without a language prefix (hreflang x-default: it redirects each
    visitor to their language)."""
    lang = current_language()
    url = page_url(lang)
    if url is None:
        return None
    root = (
        request.environ.get(BASE_ROOT_KEY, request.script_root) if url_language() else request.script_root
    ).rstrip("/")
    path = root + url[len(root) + 1 + len(lang) :]
    return current_app.config["BASE_URL"].rstrip("/") + (path or "/")


#: The public sections in the site's menus: (endpoint, label), shown when the endpoint exists.
SITE_SECTIONS = (
    ("records.home", _l("Home")),
    ("browse.index", _l("Browse")),
    ("exhibits.index", _l("Exhibits")),
    ("calendar.index", _l("Festival calendar")),
    ("map.index", _l("Map")),
    ("datasets.index", _l("Open data")),
)


def site_sections() -> list[tuple[str, str]]:
    """The public sections whose pages exist in this application."""
    endpoints = current_app.view_functions
    return [(endpoint, str(label)) for endpoint, label in SITE_SECTIONS if endpoint in endpoints]


def site_endpoints():
    """The endpoints of this application (for templates that link to optional parts)."""
    return current_app.view_functions


def interface_languages() -> list[tuple[str, str]]:
    """(code, name in that language) for each interface language, for the language switcher."""
    names = []
    for code in current_app.config["LANGUAGES"]:
        try:
            name = Locale.parse(code).get_display_name(code) or code
        except (ValueError, LookupError):
            name = code
        names.append((code, name[:1].upper() + name[1:]))
    return names


def page_url(lang: str, external: bool = False) -> str | None:
    """This page's URL in another language, keeping its arguments; None where there is no page."""
    if not has_request_context() or request.endpoint is None or request.method not in ("GET", "HEAD"):
        return None
    if is_language_neutral(current_app, request.endpoint):
        return None
    args = {key: values for key, values in request.args.lists() if key != "lang"}
    try:
        url = current_app.url_for(request.endpoint, _lang=lang, **dict(request.view_args or {}), **args)
    except Exception:  # noqa: BLE001 - a page whose URL cannot be rebuilt simply has no alternate
        return None
    return current_app.config["BASE_URL"].rstrip("/") + url if external else url


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
        interface_languages=interface_languages,
        language_page_url=page_url,
        default_page_url=default_page_url,
        site_sections=site_sections,
        site_endpoints=site_endpoints,
        url_language=url_language,
    )
    app.jinja_env.filters["paragraphs"] = _paragraphs
    app.jinja_env.filters["format_number"] = _format_number

    app.wsgi_app = LanguagePrefix(app.wsgi_app, app.config["LANGUAGES"])  # type: ignore[method-assign]

    @app.before_request
    def _language_redirect():
        # A page asked for without a language prefix (or with ?lang=) goes to its prefixed URL.
        endpoint = request.endpoint
        if request.method not in ("GET", "HEAD") or endpoint is None or is_language_neutral(app, endpoint):
            return None
        from_url = request.environ.get(URL_LANG_KEY)
        wanted = request.args.get("lang")
        if from_url and (wanted not in app.config["LANGUAGES"] or wanted == from_url):
            return None
        target = page_url(select_locale() if not from_url else wanted)
        if target is None:
            return None
        response = redirect(target, 302)
        response.vary.update(("Accept-Language", "Cookie"))
        response.headers["Cache-Control"] = "private, no-cache"
        return response

    @app.after_request
    def _remember_language(response):
        neutral = request.endpoint is not None and is_language_neutral(app, request.endpoint)
        chosen = None if neutral else (request.environ.get(URL_LANG_KEY) or request.args.get("lang"))
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
        if not request.environ.get(URL_LANG_KEY) and not neutral:
            response.vary.add("Accept-Language")
            response.vary.add("Cookie")
        elif response.mimetype == "text/html":
            response.vary.add("Cookie")  # signed-in menus and display preferences
        return response

    @app.before_request
    def _store_language():
        # Flask-Babel caches the locale on the application context, which outlives a request when
        # one is already pushed (CLI commands, tests); choose afresh for every request.
        refresh()
        g.lang = current_language()


def _format_number(value) -> str:
    """A number written the visitor's way (1.234 in Vietnamese, 1,234 in English)."""
    from flask_babel import format_decimal

    return format_decimal(value or 0)


def _paragraphs(text: str) -> Markup:
    """Split plain text on blank lines into escaped <p> elements."""
    parts = [p.strip() for p in str(text).split("\n\n") if p.strip()]
    return Markup("").join(Markup("<p>{}</p>").format(escape(p)) for p in parts)
