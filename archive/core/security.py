"""Security headers on every response: a strict Content Security Policy (no inline scripts or styles),
no framing, no MIME sniffing, a cautious referrer, no powerful browser features, and HSTS over HTTPS.

Headers a view has already set are kept as they are. Nothing here restricts who may *fetch* a resource
(no Cross-Origin-Resource-Policy or -Embedder-Policy): IIIF images and info.json documents, metadata
downloads and media stay usable by external viewers, which rely on the CORS headers their views set.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

#: Browser features nobody needs on an archive page. Fullscreen, picture-in-picture and autoplay stay
#: allowed for the video player. Geolocation may come back for a map of the places.
DEFAULT_PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "serial",
        "usb",
    )
)


def security_headers(secure: bool) -> dict[str, str]:
    """The headers the current configuration asks for (HSTS only when *secure* or forced)."""
    config = current_app.config
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if config.get("CONTENT_SECURITY_POLICY"):
        headers["Content-Security-Policy"] = config["CONTENT_SECURITY_POLICY"]
    permissions = config.get("PERMISSIONS_POLICY")
    if permissions is None:
        permissions = DEFAULT_PERMISSIONS_POLICY
    if permissions:
        headers["Permissions-Policy"] = permissions
    # Sent over HTTP, HSTS would be ignored by browsers; behind a TLS-terminating proxy the request looks
    # plain, which is what FORCE_HSTS is for.
    if (secure or config.get("FORCE_HSTS")) and config.get("STRICT_TRANSPORT_SECURITY"):
        headers["Strict-Transport-Security"] = config["STRICT_TRANSPORT_SECURITY"]
    return headers


def _add_headers(response: Response) -> Response:
    for name, value in security_headers(request.is_secure).items():
        if name not in response.headers:
            response.headers[name] = value
    return response


def safe_local_path(target: str | None, default: str) -> str:
    """*target* when it is a path on this site (no scheme, no host, no '//' or backslash trick), else
    *default*: the only way a ``next`` argument may steer a redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def init_app(app: Flask) -> None:
    """Set the security headers on every response, pages, JSON, files and errors alike, and refuse
    arguments that hold a NUL character."""
    app.after_request(_add_headers)
    app.before_request(_refuse_nul)


def _refuse_nul():
    """A NUL character is never meaningful in a URL argument or a form field, and PostgreSQL refuses it
    in text: answer 400 before any query sees it (schemathesis found /search.json?ethnic_group=%00 -> 500)."""
    from flask import request
    from flask_babel import gettext as _
    from werkzeug.exceptions import BadRequest

    # Every value of a repeated argument (MultiDict.values() gives only the first of each).
    values = [item for key, items in request.args.lists() for item in (key, *items)]
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        values += [item for key, items in request.form.lists() for item in (key, *items)]
    if any("\x00" in value for value in values):
        error = BadRequest(_("The request holds a character that is not allowed (NUL)."))
        error.translated = True
        raise error
