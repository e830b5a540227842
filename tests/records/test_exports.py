"""Citation downloads of a record (BibTeX, CSL-JSON) and exports of a search result in five formats."""

from __future__ import annotations

import csv
import io
import json

import bibtexparser
import pytest
import sqlalchemy as sa
from bibtexparser.bparser import BibTexParser
from flask import g
from lxml import etree

from archive.records.models import HeritageRecord
from metadata.languages import LangString
from tests.conftest import STANDARDS

# bibtexparser 1.4 calls pyparsing's camelCase names, deprecated since pyparsing 3.3: not our warning.
pytestmark = pytest.mark.filterwarnings("ignore::pyparsing.warnings.PyparsingDeprecationWarning")

CSL_MIMETYPE = "application/vnd.citationstyles.csl+json"
#: A word no demo record holds, so that a search finds only the records a test makes.
WORD = "zibquat"


def _register(app) -> None:
    """Until the lead registers the blueprint in create_app: the session's application may already have
    answered requests, which Flask guards against when a blueprint comes late."""
    from archive.records.exports import bp

    if bp.name not in app.blueprints:
        answered, app._got_first_request = app._got_first_request, False
        app.register_blueprint(bp)
        app._got_first_request = answered


@pytest.fixture(autouse=True)
def exports_blueprint(app):
    _register(app)


def _record(db, slug):
    return db.session.scalar(sa.select(HeritageRecord).where(HeritageRecord.slug == slug))


def _bib(data: bytes):
    return bibtexparser.loads(data.decode("utf-8"), parser=BibTexParser(common_strings=False))


def _get(client, url: str, **kwargs):
    """A request of its own: Flask-Login keeps the user of the previous request in ``g``."""
    g.pop("_login_user", None)
    return client.get(url, **kwargs)


# --- one record ----------------------------------------------------------------------------------


def test_record_citation_as_bibtex(client, db):
    record = _record(db, "long-tong-tay-nung")
    response = client.get(f"/records/{record.public_id}/citation.bib")
    assert response.status_code == 200
    assert response.mimetype == "application/x-bibtex" and response.mimetype_params["charset"] == "utf-8"
    assert response.headers["Content-Disposition"] == f'inline; filename="{record.public_id}.bib"'
    (entry,) = _bib(response.data).entries
    assert entry["ENTRYTYPE"] == "misc" and entry["ID"] == record.public_id
    title = next(v.value for v in record.values("title") if v.lang == "vi")
    assert entry["title"] == "{" + title + "}"
    assert entry["url"] == f"http://archive.test/records/{record.public_id}"
    assert entry["year"] == str(record.published_at.year)
    authors = [a.agent.name for a in record.agents if a.role in ("recorder", "researcher")]
    assert entry.get("author", "") == " and ".join("{" + name + "}" for name in dict.fromkeys(authors))
    assert "Accept-Language" in response.headers["Vary"]


def test_record_citation_title_follows_the_language(client, db):
    record = _record(db, "long-tong-tay-nung")
    english = next(v.value for v in record.values("title") if v.lang == "en")
    (entry,) = _bib(client.get(f"/records/{record.public_id}/citation.bib?lang=en").data).entries
    assert entry["title"] == "{" + english + "}" and entry["language"] == "English"
    item = client.get(f"/records/{record.public_id}/citation.json", headers={"Accept-Language": "en"})
    assert item.get_json(force=True)[0]["title"] == english


def test_record_citation_as_csl_json(client, db):
    record = _record(db, "long-tong-tay-nung")
    response = client.get(f"/records/{record.public_id}/citation.json")
    assert response.status_code == 200 and response.mimetype == CSL_MIMETYPE
    (item,) = json.loads(response.data)
    assert item["id"] == record.public_id and item["type"] == "entry"
    assert item["URL"] == f"http://archive.test/records/{record.public_id}"
    assert item["archive_location"] == record.public_id
    assert item["archive"] == item["publisher"] == client.application.config["PUBLISHER"]
    assert item["issued"]["date-parts"][0][0] == record.published_at.year
    assert len(item["accessed"]["date-parts"][0]) == 3
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_hidden_records_have_no_citation(client, make_record):
    for hidden in (
        make_record(title="Riêng tư zibquat", access_level="private"),
        make_record(title="Nháp zibquat", status="draft"),
        make_record(title="Cộng đồng zibquat", access_level="community"),
    ):
        for name in ("citation.bib", "citation.json"):
            response = client.get(f"/records/{hidden.public_id}/{name}")
            assert response.status_code == 404
            assert "zibquat" not in response.get_data(as_text=True)
    assert client.get("/records/r0000000000/citation.bib").status_code == 404


def test_owner_may_cite_a_private_record_and_no_shared_cache_keeps_it(client, login, make_record):
    owner = login("contributor")
    mine = make_record(title="Của tôi zibquat", access_level="private", created_by=owner)
    response = _get(client, f"/records/{mine.public_id}/citation.json")
    assert response.status_code == 200 and json.loads(response.data)[0]["title"] == "Của tôi zibquat"
    assert response.headers["Cache-Control"] == "private, no-cache"


# --- a search ------------------------------------------------------------------------------------


@pytest.fixture
def matching(make_record, make_user):
    """Two public records found by WORD, and a private, a community and a draft one found by it too."""
    owner = make_user("contributor")
    public = [
        make_record(title=f"Bản ghi B {WORD}"),
        make_record(
            title=f"Bản ghi A {WORD}",
            texts={"title": [LangString(f"Bản ghi A {WORD}", "vi"), LangString(f"Record A {WORD}", "en")]},
        ),
    ]
    hidden = [
        make_record(title=f"Riêng tư {WORD}", access_level="private", created_by=owner),
        make_record(title=f"Cộng đồng {WORD}", access_level="community", created_by=owner),
        make_record(title=f"Bản nháp {WORD}", status="draft", created_by=owner),
    ]
    return public, hidden


def _export(client, fmt: str, query: str = f"q={WORD}&sort=title"):
    return _get(client, f"/search/export.{fmt}?{query}")


def _assert_headers(response, fmt: str, mimetype: str, total: int, count: int, truncated: bool):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == mimetype
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="search-') and disposition.endswith(f'.{fmt}"')
    assert response.headers["X-Total-Count"] == str(total)
    assert response.headers["X-Export-Count"] == str(count)
    assert response.headers["X-Export-Truncated"] == ("true" if truncated else "false")


def _hidden_absent(response, hidden) -> None:
    text = response.get_data(as_text=True)
    for record in hidden:
        assert record.public_id not in text and record.values("title")[0].value not in text


def test_search_export_as_dublin_core_xml(client, matching):
    public, hidden = matching
    response = _export(client, "xml")
    _assert_headers(response, "xml", "application/xml", 2, 2, False)
    root = etree.fromstring(response.data)
    assert root.tag == "records"
    assert (root.get("total"), root.get("count"), root.get("truncated")) == ("2", "2", "false")
    schema = etree.XMLSchema(etree.parse(str(STANDARDS / "oai-pmh" / "oai_dc.xsd")))
    records = list(root)
    assert len(records) == 2
    for dc in records:
        assert schema.validate(etree.ElementTree(dc)), schema.error_log
    identifiers = [
        dc.xpath("dc:identifier[not(starts-with(., 'http'))]/text()", namespaces={"dc": dc.nsmap["dc"]})[0]
        for dc in records
    ]
    assert identifiers == [public[1].public_id, public[0].public_id]  # sorted by title: A, then B
    _hidden_absent(response, hidden)


def test_search_export_as_json_ld_graph(client, matching):
    public, hidden = matching
    response = _export(client, "jsonld")
    _assert_headers(response, "jsonld", "application/ld+json", 2, 2, False)
    body = json.loads(response.data)
    assert body["@context"]["dcterms"] == "http://purl.org/dc/terms/"
    identifiers = [node["schema:identifier"] for node in body["@graph"]]
    assert identifiers == [public[1].public_id, public[0].public_id]
    assert all("@context" not in node for node in body["@graph"])
    _hidden_absent(response, hidden)


def test_search_export_as_csv(client, matching):
    public, hidden = matching
    response = _export(client, "csv")
    _assert_headers(response, "csv", "text/csv", 2, 2, False)
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["identifier"] for row in rows] == [public[1].public_id, public[0].public_id]
    _hidden_absent(response, hidden)


def test_search_export_as_bibtex_and_csl_json(client, matching):
    public, hidden = matching
    bib = _export(client, "bib", f"q={WORD}&sort=title&lang=en")
    _assert_headers(bib, "bib", "application/x-bibtex", 2, 2, False)
    database = _bib(bib.data)
    assert [e["ID"] for e in database.entries] == [public[1].public_id, public[0].public_id]
    assert database.entries[0]["title"] == f"{{Record A {WORD}}}"  # in the language asked for
    assert database.comments == []
    _hidden_absent(bib, hidden)

    items = _export(client, "csl.json")
    _assert_headers(items, "csl.json", CSL_MIMETYPE, 2, 2, False)
    assert [i["id"] for i in json.loads(items.data)] == [public[1].public_id, public[0].public_id]
    _hidden_absent(items, hidden)


def test_signed_in_people_export_what_they_may_see(app, client, login, make_user, matching):
    public, hidden = matching
    anonymous = app.test_client()
    login("researcher")  # on `client`: not the owner of the hidden records, so they stay hidden
    response = _export(client, "csl.json")
    assert [i["id"] for i in json.loads(response.data)] == [public[1].public_id, public[0].public_id]
    assert response.headers["Cache-Control"] == "private"
    assert "private" not in _export(anonymous, "csl.json").headers.get("Cache-Control", "")

    curator, user = app.test_client(), make_user("curator")
    g.pop("_login_user", None)
    signed_in = curator.post("/login", data={"email": user.email, "password": "correct horse battery"})
    assert signed_in.status_code == 302
    everything = _export(curator, "csl.json")
    assert {i["id"] for i in json.loads(everything.data)} == {r.public_id for r in public + hidden}
    assert everything.headers["X-Total-Count"] == "5"


def test_search_export_stops_at_the_limit_and_says_so(app, client, matching, monkeypatch):
    public, _hidden = matching
    first = public[1].public_id  # "Bản ghi A ..." comes first by title
    monkeypatch.setitem(app.config, "EXPORT_LIMIT", 1)
    bib = _export(client, "bib")
    _assert_headers(bib, "bib", "application/x-bibtex", 2, 1, True)
    database = _bib(bib.data)
    assert [e["ID"] for e in database.entries] == [first]
    assert database.comments == [
        "The search matched 2 records; this file holds the first 1 (export limit 1)."
    ]
    xml = etree.fromstring(_export(client, "xml").data)
    attributes = [xml.get(name) for name in ("total", "count", "limit", "truncated")]
    assert attributes == ["2", "1", "1", "true"]
    graph = json.loads(_export(client, "jsonld").data)["@graph"]
    assert [node["schema:identifier"] for node in graph] == [first]


def test_default_limit_is_1000(app, client, matching, monkeypatch):
    monkeypatch.delitem(app.config, "EXPORT_LIMIT", raising=False)
    from archive.records.exports import export_limit

    with app.test_request_context():
        assert export_limit() == 1000
    assert _export(client, "xml").headers["X-Export-Truncated"] == "false"


def test_unknown_format_is_404(client):
    for fmt in ("pdf", "json", "csl", "xml.gz", "CSV"):
        assert client.get(f"/search/export.{fmt}?q={WORD}").status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("sort=sideways", "“sideways” is not a sort order of this search"),
        ("colour=red", "“colour” is not a filter of this search"),
        ("page=0", "The page number must be a whole number"),
        ("q=" + "x" * 201, "The search text is too long"),
    ],
)
def test_bad_parameters_are_400_like_the_search_page(client, query, message):
    assert client.get(f"/en/search?{query}").status_code == 400
    response = client.get(f"/search/export.csv?{query}&lang=en")
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert message in response.get_data(as_text=True)


def test_an_unreadable_index_answers_503(isolated_app):
    app = isolated_app("exports-unavailable", SEARCH_BACKEND="whoosh")
    _register(app)
    response = app.test_client().get("/search/export.bib?q=x&lang=en")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert "The search index is being rebuilt" in response.get_data(as_text=True)
