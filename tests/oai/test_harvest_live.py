"""A whole harvest of the running repository by a third-party client (Sickle), through several
resumption pages, compared with the database: every public record once, with its title, and nothing
a visitor may not see."""

from __future__ import annotations

import math

import pytest
import requests
from sickle import Sickle

from tests.oai.conftest import NS, validate


@pytest.fixture
def small_pages(app):
    """Pages of 7 items, so that the demo content spans several resumption pages."""
    previous = app.config.get("OAI_PAGE_SIZE")
    app.config["OAI_PAGE_SIZE"] = 7
    yield 7
    if previous is None:
        app.config.pop("OAI_PAGE_SIZE")
    else:
        app.config["OAI_PAGE_SIZE"] = previous


def _database_view(app) -> tuple[dict[str, list[str]], set[str]]:
    """Titles of the records a visitor may see, by OAI identifier; and the identifiers of all others."""
    from sqlalchemy import select

    from archive.core.extensions import db
    from archive.records.models import HeritageRecord
    from archive.records.services import public_records

    with app.app_context():
        visible = {
            # dc:title holds the titles, then the alternative titles (dumbed-down dcterms:alternative)
            f"oai:archive.test:{r.public_id}": [
                v.value for f in ("title", "alternative") for v in r.values(f)
            ]
            for r in db.session.scalars(public_records())
        }
        everything = set(db.session.scalars(select(HeritageRecord.public_id)))
        db.session.remove()
    return visible, {f"oai:archive.test:{p}" for p in everything} - set(visible)


def test_sickle_harvests_every_public_record(app, live_server, small_pages):
    endpoint = f"{live_server}/oai"
    visible, restricted = _database_view(app)
    assert len(visible) > 3 * small_pages and restricted, "the demo has several pages and hidden records"

    responses: list[bytes] = []
    session_get = requests.Session.request

    def recording(self, method, url, *args, **kwargs):  # keep every page to validate it
        response = session_get(self, method, url, *args, **kwargs)
        if url.startswith(endpoint):
            responses.append(response.content)
        return response

    requests.Session.request = recording
    try:
        sickle = Sickle(endpoint, max_retries=0)
        harvested = list(sickle.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False))
        headers = list(sickle.ListIdentifiers(metadataPrefix="oai_dc", set="group"))
    finally:
        requests.Session.request = session_get

    live = [r for r in harvested if not r.header.deleted]
    ids = [r.header.identifier for r in live]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(visible)
    for record in live:
        assert record.metadata["title"] == visible[record.header.identifier], record.header.identifier
    assert not {r.header.identifier for r in harvested} & restricted
    assert {h.identifier for h in headers} == set(visible)  # every demo record is about a group

    n_pages = math.ceil(len(visible) / small_pages)
    pages = [validate(body) for body in responses]
    assert len(pages) == 2 * n_pages  # ListRecords, then ListIdentifiers, page by page
    tokens = [page.find(".//oai:resumptionToken", NS) for page in pages[:n_pages]]
    assert [int(t.get("cursor")) for t in tokens] == [small_pages * i for i in range(n_pages)]
    assert all(int(t.get("completeListSize")) == len(visible) for t in tokens)
    assert all(t.text for t in tokens[:-1]) and not tokens[-1].text
