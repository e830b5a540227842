"""The OAI-PMH endpoint: ``/oai``, GET and POST, language neutral, no CSRF token (harvesters are
anonymous machines that post forms without sessions)."""

from __future__ import annotations

from flask import Blueprint, Response, request
from sqlalchemy.exc import IntegrityError

from archive.core.extensions import csrf, db
from archive.core.i18n import language_neutral
from archive.oai import service

bp = Blueprint("oai", __name__)


@bp.route("/oai", methods=["GET", "POST"])
@csrf.exempt
@language_neutral
def endpoint() -> Response:
    """Answer an OAI-PMH request; protocol errors are part of the XML answer (HTTP 200), as the
    protocol requires."""
    source = request.form if request.method == "POST" else request.args
    params = {name: source.getlist(name) for name in source}
    try:
        body = service.respond(params)
        db.session.commit()  # the ledger of exposed items (archive.oai.models) may have changed
    except IntegrityError:  # another request recorded the same new items first: answer from its ledger
        db.session.rollback()
        body = service.respond(params)
        db.session.commit()
    return Response(body, content_type="text/xml; charset=utf-8")
