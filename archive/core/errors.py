"""Friendly, translated error pages; unexpected errors are logged, never shown as a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

logger = logging.getLogger(__name__)


def register(app: Flask) -> None:
    """Install the error handlers."""

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        titles = {
            400: _("The request could not be understood"),
            401: _("Please sign in"),
            403: _("You may not see this page"),
            404: _("Page not found"),
            405: _("Method not allowed"),
            410: _("This record has been withdrawn"),
            413: _("The file is too large"),
            429: _("Too many requests"),
        }
        title = titles.get(error.code or 500, _("Something went wrong"))
        message = error.description if getattr(error, "translated", False) else None
        return render_template("errors/error.html", code=error.code, title=title, message=message), error.code

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_template(
            "errors/error.html", code=500, title=_("Something went wrong"), message=None
        ), 500
