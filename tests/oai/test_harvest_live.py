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


def _database_view(app) -> tuple[dict[str, list[str]], set[str], dict[str, list[str]]]:
    """Titles of the records a visitor may see, by OAI identifier; the identifiers of all others; and the
    titles of the public open datasets (the "datasets" set), by OAI identifier."""
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
        from archive.datasets.services import public_datasets

        datasets = {
            f"oai:archive.test:dataset-{d.id}": [v.value for v in d.title_values] for d in public_datasets()
        }
        db.session.remove()
    return visible, {f"oai:archive.test:{p}" for p in everything} - set(visible), datasets


def test_sickle_harvests_every_public_record(app, live_server, small_pages):
    endpoint = f"{live_server}/oai"
    visible, restricted, datasets = _database_view(app)
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
    assert set(ids) == set(visible) | set(datasets)
    for record in live:
        expected = visible.get(record.header.identifier) or datasets[record.header.identifier]
        assert record.metadata["title"] == expected, record.header.identifier
    assert not {r.header.identifier for r in harvested} & restricted
    assert {h.identifier for h in headers} == set(visible)  # every demo record is about a group

    everything_visible = len(visible) + len(datasets)
    n_pages = math.ceil(everything_visible / small_pages)
    pages = [validate(body) for body in responses]
    # ListRecords (records and datasets), then ListIdentifiers of the group sets, page by page
    assert len(pages) == n_pages + math.ceil(len(visible) / small_pages)
    tokens = [page.find(".//oai:resumptionToken", NS) for page in pages[:n_pages]]
    assert [int(t.get("cursor")) for t in tokens] == [small_pages * i for i in range(n_pages)]
    assert all(int(t.get("completeListSize")) == everything_visible for t in tokens)
    assert all(t.text for t in tokens[:-1]) and not tokens[-1].text
