"""The JSON API, version 1, under ``/api/v1`` (described by ``/api/v1/openapi.json``).

Who is asking: only ``Authorization: Bearer <token>`` (a personal token from ``/account/tokens``)
identifies a caller. The session cookie is never read here, so a page on another site cannot make a
signed-in browser write anything (and CSRF tokens are not needed). Without a token a request is
anonymous and sees what a visitor sees; with a token it reads as the token's owner, under the same
access policy as the pages (archive.core.access). A token that is unknown, revoked or expired gets 401,
also on reads: it is never quietly treated as anonymous.

CORS: reads (GET, HEAD and their preflight) carry ``Access-Control-Allow-Origin: *`` without
credentials, so any web page may show the archive's public data. Writes get no CORS headers: a
browser on another origin cannot send them, which keeps tokens in scripts and tools and out of
third-party pages.

Rate limits (Flask-Limiter; Redis when REDIS_URL is set, else memory): API_READ_RATE_LIMIT per client
IP address (per token with a token), API_WRITE_RATE_LIMIT per token; 429 with Retry-After and a JSON
error past them. Every error is ``{"error": {"code", "message"}}`` with the message in the request's
language (Accept-Language), and ``fields`` for invalid input.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, g, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from archive.api import serializers, tokens
from archive.api.openapi import build_document
from archive.browse import services as browse
from archive.core.access import can_add_media, can_edit_record, can_view_media, can_view_record
from archive.core.extensions import csrf, db, login_manager
from archive.core.i18n import language_neutral
from archive.exhibits import services as exhibit_services
from archive.media import services as media_services
from archive.media.models import MediaFile
from archive.media.views import STATUS_FOR, reason_text
from archive.records import forms
from archive.records import services as record_services
from archive.records.models import HeritageRecord, RecordAgent
from archive.vocab import services as vocab
from archive.vocab.models import Agent, EthnicGroup, Place
from archive.workflow import services as workflow
from media.checks import MediaRejected
from metadata.categories import CATEGORIES
from metadata.languages import LangString
from metadata.text import name_key

logger = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

#: Default rate limits (Flask-Limiter notation); the configuration may set others.
DEFAULT_READ_LIMIT = "300 per minute"
DEFAULT_WRITE_LIMIT = "60 per minute"
#: Largest page of a list.
MAX_PER_PAGE = 100
#: Longest ``q`` of the place filter.
MAX_PLACE_QUERY = 100
READ_METHODS = ("GET", "HEAD", "OPTIONS")
WRITE_METHODS = ["POST", "PATCH", "PUT", "DELETE"]
#: Headers a cross-origin script may read from a response.
EXPOSED_HEADERS = "Link, ETag, Retry-After, Location"


class ApiError(HTTPException):
    """An error answered as JSON: an HTTP status, a code for programs and a translated message."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.code = status
        self.error_code = code
        self.message = message
        self.fields = fields


# --- per-application set-up -----------------------------------------------------------------------


@bp.record_once
def _set_up(state) -> None:
    """Give the application its own rate limiter (its storage and limits come from its config)."""
    _install_limiter(state.app)


def _install_limiter(app: Flask) -> None:
    from flask_limiter import Limiter

    limiter = Limiter(
        key_func=_rate_key,
        storage_uri=app.config.get("REDIS_URL") or "memory://",
        default_limits=[],
        headers_enabled=False,
        on_breach=_remember_breach,
    )
    limiter.init_app(app)
    limiter.shared_limit(_read_limit, scope="api-read", methods=["GET", "HEAD"])(bp)
    limiter.shared_limit(_write_limit, scope="api-write", methods=WRITE_METHODS)(bp)
    app.extensions["archive.api_limiter"] = limiter


def _read_limit() -> str:
    return current_app.config.get("API_READ_RATE_LIMIT") or DEFAULT_READ_LIMIT


def _write_limit() -> str:
    return current_app.config.get("API_WRITE_RATE_LIMIT") or DEFAULT_WRITE_LIMIT


def _rate_key() -> str:
    """Who a rate limit counts: the token when a valid one is given, else the client's address."""
    token = _authenticate()
    if token is not None and token is not _INVALID:
        return f"token:{token.id}"
    return f"ip:{request.remote_addr or 'unknown'}"


def _remember_breach(limit) -> None:
    request.environ["archive.api_rate_breach"] = limit


# --- who is asking --------------------------------------------------------------------------------

_INVALID = object()
AUTH_KEY = "archive.api_token"


def _authenticate():
    """The request's ApiToken, None without one, or _INVALID for a bad token.

    Remembered in the WSGI environ, which belongs to this request alone (``g`` may outlive it when an
    application context was already pushed, as in the CLI and the tests)."""
    if AUTH_KEY not in request.environ:
        secret = tokens.bearer_secret(request.headers.get("Authorization"))
        if secret is None:
            request.environ[AUTH_KEY] = None
        else:
            token = tokens.find_token(secret) if secret else None
            request.environ[AUTH_KEY] = token if token is not None else _INVALID
            if token is not None and db.session.dirty:
                db.session.commit()  # last_used_at; nothing else has been changed yet
    return request.environ[AUTH_KEY]


@bp.before_request
def _identify() -> None:
    """Set the current user from the bearer token only, never from the session cookie."""
    if request.method == "OPTIONS":
        g._login_user = login_manager.anonymous_user()
        return
    _refuse_nul_characters()
    token = _authenticate()
    if token is _INVALID:
        g._login_user = login_manager.anonymous_user()
        raise ApiError(401, "invalid_token", _("This API token is unknown, expired or revoked."))
    g._login_user = token.user if token is not None else login_manager.anonymous_user()


@bp.after_request
def _headers(response: Response) -> Response:
    """CORS for reads, no shared caching of what a token holder sees, and the language it varies by."""
    if request.method in READ_METHODS:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = ", ".join(READ_METHODS)
            response.headers["Access-Control-Allow-Headers"] = "Accept, Accept-Language, Authorization"
            response.headers["Access-Control-Max-Age"] = "86400"
    else:
        response.headers.pop("Access-Control-Allow-Origin", None)
    response.vary.update(("Accept-Language", "Authorization"))
    if request.environ.get(AUTH_KEY) is not None or request.method not in READ_METHODS:
        response.headers["Cache-Control"] = "private, no-store"
    elif response.status_code == 200 and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "public, max-age=60"
    return response


def _refuse_nul_characters() -> None:
    """A NUL character in a path segment or parameter is never meaningful (and PostgreSQL refuses it)."""
    values = [*(request.view_args or {}).values(), *request.args.values()]
    if any("\x00" in str(v) for v in values):
        code, message = _error_messages()[400]
        raise ApiError(400, code, message)


def _writer():
    """The token's owner when they may contribute: 401 without a token, 403 for other roles."""
    if request.environ.get(AUTH_KEY) is None:
        raise ApiError(401, "token_required", _("Send a personal API token: Authorization: Bearer <token>."))
    user = current_user._get_current_object()
    if not user.can_contribute:
        raise ApiError(403, "forbidden", _("Only contributors and curators may change records."))
    return user


# --- errors ---------------------------------------------------------------------------------------


def _error_messages() -> dict[int, tuple[str, str]]:
    return {
        400: ("bad_request", _("The request could not be understood.")),
        401: ("unauthorized", _("Send a personal API token: Authorization: Bearer <token>.")),
        403: ("forbidden", _("You may not do this.")),
        404: ("not_found", _("There is nothing here, or you may not see it.")),
        405: ("method_not_allowed", _("This method is not allowed here.")),
        409: ("conflict", _("This conflicts with the current state of the record.")),
        410: ("gone", _("This is gone.")),
        412: ("precondition_failed", _("The record has changed since you read it.")),
        413: ("too_large", _("The request is too large.")),
        415: ("unsupported_media_type", _("This kind of content is not accepted here.")),
        422: ("invalid", _("Some values are not valid.")),
        428: ("precondition_required", _("Say which version you are changing.")),
        429: ("too_many_requests", _("Too many requests: slow down and try again later.")),
    }


def error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Response:
    """The JSON error answer."""
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    response = current_app.json.response(body)
    response.status_code = status
    return response


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if isinstance(error, ApiError):
        response = error_response(status, error.error_code, error.message, error.fields)
    else:
        code, message = _error_messages().get(status, ("error", _("Something went wrong.")))
        response = error_response(status, code, message)
    if status == 429:
        breach = request.environ.get("archive.api_rate_breach")
        wait = math.ceil(breach.reset_at - time.time()) if breach is not None else 60
        response.headers["Retry-After"] = str(max(1, wait))
    if status == 405 and error.get_headers():
        allow = dict(error.get_headers()).get("Allow")
        if allow:
            response.headers["Allow"] = allow
    return response


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    db.session.rollback()
    logger.exception("API error on %s %s", request.method, request.path)
    return error_response(500, "server_error", _("Something went wrong; the archive staff have been told."))


def _not_found() -> ApiError:
    code, message = _error_messages()[404]
    return ApiError(404, code, message)


# --- pagination -----------------------------------------------------------------------------------


def _int_arg(name: str, default: int, lowest: int, highest: int) -> int:
    text = (request.args.get(name) or "").strip()
    if not text:
        return default
    if not text.isdigit() or not lowest <= int(text[:9]) <= highest:
        raise ApiError(
            400,
            f"bad_{name}",
            _(
                "“%(name)s” must be a whole number from %(low)s to %(high)s.",
                name=name,
                low=lowest,
                high=highest,
            ),
        )
    return int(text)


def _paging() -> tuple[int, int]:
    per_page = _int_arg("per_page", min(current_app.config["PAGE_SIZE"], MAX_PER_PAGE), 1, MAX_PER_PAGE)
    page = _int_arg("page", 1, 1, 1_000_000)
    return page, per_page


def _page_url(page: int, per_page: int) -> str:
    args = {k: v for k, v in request.args.items(multi=True) if k not in ("page", "per_page")}
    query = urlencode([*args.items(), ("page", page), ("per_page", per_page)])
    return f"{request.base_url}?{query}"


def paginated(items: list[dict], total: int, page: int, per_page: int) -> Response:
    """A page of a list with its totals, and ``Link`` headers (first, prev, next, last)."""
    pages = max(1, math.ceil(total / per_page))
    links = {"first": _page_url(1, per_page), "last": _page_url(pages, per_page)}
    if page > 1:
        links["prev"] = _page_url(min(page - 1, pages), per_page)
    if page < pages:
        links["next"] = _page_url(page + 1, per_page)
    response = current_app.json.response(
        {"items": items, "page": page, "per_page": per_page, "total": total, "pages": pages, "links": links}
    )
    response.headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items())
    return response


def _listed(items: list, to_json, page: int, per_page: int) -> Response:
    """Paginate an already ordered Python list."""
    start = (page - 1) * per_page
    return paginated([to_json(i) for i in items[start : start + per_page]], len(items), page, per_page)


# --- records --------------------------------------------------------------------------------------


def _visible_record(public_id: str) -> HeritageRecord:
    record = record_services.get_record(public_id)
    if record is None or not can_view_record(record):
        raise _not_found()
    return record


def _etag(record: HeritageRecord) -> str:
    return f'"{record.version_id}"'


def _record_response(record: HeritageRecord, status: int = 200) -> Response:
    response = current_app.json.response(serializers.record_detail(record))
    response.status_code = status
    response.headers["ETag"] = _etag(record)
    return response


@bp.get("/records")
@language_neutral
def records():
    """The records the caller may see, newest publication first (then by id: a stable order)."""
    page, per_page = _paging()
    visible = browse.visible_records()
    slug = request.args.get("collection")
    if slug:
        found = browse.get_collection(slug)
        if found is None:
            raise _not_found()
        visible = browse.records_in_collection(visible, found)
    total = browse.count(visible)
    rows = db.session.scalars(
        visible.options(
            selectinload(HeritageRecord.texts),
            selectinload(HeritageRecord.ethnic_groups),
            selectinload(HeritageRecord.places),
        )
        .order_by(HeritageRecord.published_at.desc().nulls_last(), HeritageRecord.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return paginated([serializers.record_summary(r) for r in rows], total, page, per_page)


@bp.get("/records/<public_id>")
@language_neutral
def record(public_id: str):
    """One record in full, with its JSON-LD description; ``ETag`` is its version (for If-Match)."""
    return _record_response(_visible_record(public_id))


@bp.get("/records/<public_id>/media")
@language_neutral
def record_media(public_id: str):
    """The media files of a record that the caller may see."""
    found = _visible_record(public_id)
    page, per_page = _paging()
    visible = [m for m in found.media if can_view_media(m)]
    return _listed(visible, serializers.media_summary, page, per_page)


@bp.get("/media/<public_id>")
@language_neutral
def media(public_id: str):
    """One media file: its facts and the links to its original, renditions, IIIF service and captions."""
    found = db.session.scalar(select(MediaFile).where(MediaFile.public_id == public_id))
    if found is None or not can_view_media(found):
        raise _not_found()
    return current_app.json.response(serializers.media_summary(found))


@bp.get("/search")
@language_neutral
def search():
    """The search, with the parameters and answers of ``/search.json`` (archive.search.views)."""
    from archive.search import views as search_views

    return search_views.page_json()


# --- vocabularies, collections, exhibits ----------------------------------------------------------


@bp.get("/vocabularies/ethnic-groups")
@language_neutral
def ethnic_groups():
    """The 54 ethnic groups of Vietnam, by their official (GSO) code."""
    page, per_page = _paging()
    groups = db.session.scalars(select(EthnicGroup).order_by(EthnicGroup.gso_code)).all()
    return _listed(list(groups), serializers.ethnic_group, page, per_page)


@bp.get("/vocabularies/places")
@language_neutral
def places():
    """Administrative units, filtered by ``system`` (2025, pre2025), ``level`` and ``q`` (a name)."""
    page, per_page = _paging()
    stmt = select(Place)
    system = request.args.get("system")
    if system:
        if system not in forms.PLACE_SYSTEMS:
            raise ApiError(
                400, "bad_system", _("“system” must be one of: %(choices)s.", choices="2025, pre2025")
            )
        stmt = stmt.where(Place.system == system)
    level = request.args.get("level")
    if level:
        if len(level) > 20:
            raise ApiError(400, "bad_level", _("This level is not known."))
        stmt = stmt.where(Place.level == level)
    q = " ".join((request.args.get("q") or "").split())
    if q:
        if len(q) > MAX_PLACE_QUERY:
            raise ApiError(
                400, "query_too_long", _("Use at most %(limit)s characters.", limit=MAX_PLACE_QUERY)
            )
        key = name_key(q)
        if key:
            stmt = stmt.where(Place.name_key.contains(key, autoescape=True))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(
        stmt.options(selectinload(Place.parent), selectinload(Place.current_province))
        .order_by(Place.system, Place.code)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return paginated([serializers.place(p) for p in rows], total, page, per_page)


@bp.get("/vocabularies/categories")
@language_neutral
def categories():
    """The categories of heritage."""
    page, per_page = _paging()
    return _listed(list(CATEGORIES), serializers.category, page, per_page)


@bp.get("/vocabularies/agents")
@language_neutral
def agents():
    """People and organisations named on records the caller may see (others are not listed)."""
    page, per_page = _paging()
    visible_ids = browse.visible_records().with_only_columns(HeritageRecord.id)
    named = select(RecordAgent.agent_id).where(RecordAgent.record_id.in_(visible_ids))
    stmt = select(Agent).where(Agent.id.in_(named))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(
        stmt.options(selectinload(Agent.ethnic_group))
        .order_by(Agent.slug, Agent.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return paginated([serializers.agent(a) for a in rows], total, page, per_page)


@bp.get("/collections")
@language_neutral
def collections():
    """The curated collections, with how many of their records the caller may see."""
    page, per_page = _paging()
    counts = browse.counts_by_collection(browse.visible_records())
    return _listed(
        browse.collections(), lambda c: serializers.collection(c, counts.get(c.id, 0)), page, per_page
    )


@bp.get("/collections/<slug>")
@language_neutral
def collection(slug: str):
    """One collection; its records are at ``/records?collection=<slug>``."""
    found = browse.get_collection(slug)
    if found is None:
        raise _not_found()
    count = browse.count(browse.records_in_collection(browse.visible_records(), found))
    return current_app.json.response(serializers.collection(found, count))


@bp.get("/exhibits")
@language_neutral
def exhibits():
    """The published exhibits, in their curated order."""
    page, per_page = _paging()
    return _listed(exhibit_services.published_exhibits(), serializers.exhibit_summary, page, per_page)


@bp.get("/exhibits/<slug>")
@language_neutral
def exhibit(slug: str):
    """One exhibit with the sections the caller may see; drafts only for curators' tokens."""
    found = exhibit_services.get_by_slug(slug)
    if found is None or not exhibit_services.can_view_exhibit(found, current_user._get_current_object()):
        raise _not_found()
    return current_app.json.response(serializers.exhibit_detail(found))


@bp.get("/openapi.json")
@language_neutral
def openapi():
    """The OpenAPI 3.1 description of this API."""
    response = current_app.json.response(build_document())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


# --- writes ---------------------------------------------------------------------------------------


def _json_body() -> dict:
    if not request.is_json:
        raise ApiError(
            415, "unsupported_media_type", _("Send the record as JSON (Content-Type: application/json).")
        )
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", _("The body is not a JSON object."))
    return body


def _invalid(fields: dict[str, str]) -> ApiError:
    return ApiError(422, "invalid", _("Some values are not valid; see “fields”."), fields)


def _parse_record(body: dict, new: bool) -> forms.ParsedForm:
    """Read an input through the record form's parser; raises ApiError 422 with per-field messages."""
    try:
        formdata = serializers.form_data(body)
    except serializers.InputError as exc:
        raise _invalid(exc.fields) from None
    parsed = forms.parse_record_form(formdata, new=new, may_choose_status=False)
    if parsed.errors:
        raise _invalid({serializers.input_path(key): text for key, text in parsed.errors.items()})
    return parsed


def _lookup_failed(exc: vocab.LookupError_) -> ApiError:
    column = exc.params.get("column", "")
    return _invalid({column or "record": forms.lookup_error_text(exc)})


@bp.post("/records")
@language_neutral
def create_record():
    """Create a draft record from a record input (the same checks as the record form)."""
    from archive.records.editing_views import _apply_access, _refresh_first_revision

    user = _writer()
    body = _json_body()
    if "texts" not in body:
        raise _invalid({"texts/title/0/value": forms.message("title_required")})
    parsed = _parse_record(body, new=True)
    try:
        created = record_services.create_record(parsed.data, user)
        _apply_access(created, parsed)
        _refresh_first_revision(created)
        db.session.commit()
    except vocab.LookupError_ as exc:
        db.session.rollback()
        raise _lookup_failed(exc) from None
    except record_services.RecordError as exc:
        db.session.rollback()
        logger.warning("API record refused: %s %s", exc.code, exc.params)
        raise ApiError(409, exc.code, _("The record could not be saved; try again.")) from None
    logger.info("record %s created through the API by user %s", created.public_id, user.id)
    response = _record_response(record_services.get_record(created.public_id), 201)
    response.headers["Location"] = url_for("api.record", public_id=created.public_id, _external=True)
    return response


def _if_match(record: HeritageRecord) -> None:
    header = (request.headers.get("If-Match") or "").strip()
    if not header or header == "*":
        raise ApiError(
            428,
            "precondition_required",
            _("Send If-Match with the record's ETag (its version), as read from GET."),
        )
    wanted = {v.strip().removeprefix("W/").strip('"') for v in header.split(",")}
    if str(record.version_id) not in wanted:
        raise ApiError(
            412,
            "version_mismatch",
            _(
                "The record has changed since you read it (it is now at version %(version)s); read it again.",
                version=record.version_id,
            ),  # fmt: skip
        )


def _editable(public_id: str, user) -> HeritageRecord:
    found = _visible_record(public_id)
    if not can_edit_record(found, user):
        raise ApiError(403, "not_editable", _("You may not change this record in its current state."))
    return found


@bp.patch("/records/<public_id>")
@language_neutral
def update_record(public_id: str):
    """Change a draft or returned record: the members given replace the stored ones (``texts`` per
    field); ``If-Match`` must carry the version read."""
    from archive.records.editing_views import _apply_access

    user = _writer()
    found = _editable(public_id, user)
    _if_match(found)
    patch = _json_body()
    merged = serializers.record_input(found)
    for name, value in patch.items():
        if name == "texts" and isinstance(value, dict):
            merged["texts"] = {**merged["texts"], **value}
        else:
            merged[name] = value
    merged["texts"] = {k: v for k, v in merged["texts"].items() if v != []}
    parsed = _parse_record(merged, new=False)
    try:
        record_services.update_record(found, parsed.data, user)
        _apply_access(found, parsed)
        workflow.capture_revision(found, user, "edited")
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise ApiError(
            412, "version_mismatch", _("The record was changed meanwhile; read it again.")
        ) from None
    except vocab.LookupError_ as exc:
        db.session.rollback()
        raise _lookup_failed(exc) from None
    except record_services.RecordError as exc:
        db.session.rollback()
        raise ApiError(409, exc.code, _("The record could not be saved; try again.")) from None
    logger.info("record %s updated through the API by user %s", public_id, user.id)
    return _record_response(record_services.get_record(public_id))


@bp.post("/records/<public_id>/media")
@language_neutral
def upload_media(public_id: str):
    """Add one file (multipart field ``file``; captions ``caption_vi``, ``caption_en``) to a record, with
    the checks of the upload page; its renditions are made in the background."""
    user = _writer()
    found = _visible_record(public_id)
    if not can_add_media(found, user):
        raise ApiError(403, "forbidden", _("You may not add files to this record."))
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise _invalid({"file": reason_text("no_file")})
    caption = []
    for lang in ("vi", "en"):
        text = (request.form.get(f"caption_{lang}") or "").strip()
        if text:
            caption.append(LangString(text[:2000], lang))
    try:
        path = media_services.receive_stream(upload.stream, current_app.config["MAX_MEDIA_BYTES"])
        created = media_services.ingest_file(found, path, upload.filename, user, caption)
        db.session.commit()
    except MediaRejected as exc:
        db.session.rollback()
        status = STATUS_FOR.get(exc.code, 422)
        raise ApiError(
            status, exc.code, reason_text(exc.code, exc.params), {"file": reason_text(exc.code, exc.params)}
        ) from None
    media_services.queue_derivatives(created)
    created = db.session.scalar(select(MediaFile).where(MediaFile.public_id == created.public_id))
    response = current_app.json.response(serializers.media_summary(created))
    response.status_code = 201
    response.headers["Location"] = url_for("api.media", public_id=created.public_id, _external=True)
    return response


@bp.post("/records/<public_id>/submit")
@language_neutral
def submit_record(public_id: str):
    """Submit a draft or returned record for review (optional JSON ``{"comment": "..."}``)."""
    user = _writer()
    found = _visible_record(public_id)
    comment = None
    if request.content_length:
        body = _json_body()
        comment = body.get("comment")
        if comment is not None and not isinstance(comment, str):
            raise _invalid({"comment": _("Give a text here.")})
    try:
        workflow.transition(found, "submit", user, comment)
        db.session.commit()
    except workflow.WorkflowError as exc:
        db.session.rollback()
        message = str(workflow.MESSAGES.get(exc.code, exc.code))
        raise ApiError(exc.status, exc.code, message) from None
    return _record_response(record_services.get_record(public_id))


from archive.api import dataset_views  # noqa: E402,F401  (the open datasets: routes on this blueprint)
