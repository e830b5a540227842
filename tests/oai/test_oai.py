"""OAI-PMH 2.0 at /oai: the six verbs by GET and POST, every error, sets, selective harvesting,
resumption while records change, deleted records, and access rules. Every response is validated
against OAI-PMH.xsd (with oai_dc and oai-identifier, strictly)."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from lxml import etree

from tests.oai.conftest import NS

HOST = "archive.test"  # TestConfig.BASE_URL


def ident(record) -> str:
    return f"oai:{HOST}:{record.public_id}"


def error_codes(root) -> list[str]:
    return [e.get("code") for e in root.findall("oai:error", NS)]


def request_attrs(root) -> dict:
    return dict(root.find("oai:request", NS).attrib)


def identifiers(root) -> list[str]:
    return [h.findtext("oai:identifier", namespaces=NS) for h in root.iter(f"{{{NS['oai']}}}header")]


def header_of(root, identifier: str):
    for h in root.iter(f"{{{NS['oai']}}}header"):
        if h.findtext("oai:identifier", namespaces=NS) == identifier:
            return h
    return None


def harvest(oai, verb: str = "ListIdentifiers", method: str = "GET", **params) -> tuple[list, list]:
    """Follow resumption tokens to the end; returns the identifiers and the response roots."""
    roots = [oai(method, verb=verb, **params)]
    while True:
        token = roots[-1].find(f"oai:{verb}/oai:resumptionToken", NS)
        if token is None or not token.text:
            break
        roots.append(oai(method, verb=verb, resumptionToken=token.text))
    return [i for r in roots for i in identifiers(r)], roots


@pytest.fixture
def collection(db):
    """A new, empty collection to harvest as a set of its own."""
    from archive.vocab.models import Collection

    item = Collection(slug=f"oai-test-{uuid.uuid4().hex[:6]}", title=[{"lang": "vi", "value": "Bộ thử OAI"}])
    db.session.add(item)
    db.session.commit()
    return item


# --- Identify, formats, sets ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_identify_describes_the_repository(oai, method, make_record):
    make_record()
    root = oai(method, verb="Identify")
    node = root.find("oai:Identify", NS)
    assert node.findtext("oai:baseURL", namespaces=NS) == "http://archive.test/oai"
    assert node.findtext("oai:protocolVersion", namespaces=NS) == "2.0"
    assert node.findtext("oai:deletedRecord", namespaces=NS) == "persistent"
    assert node.findtext("oai:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    assert node.findtext("oai:repositoryName", namespaces=NS)
    assert "@" in node.findtext("oai:adminEmail", namespaces=NS)
    assert node.findtext("oai:description/id:oai-identifier/id:repositoryIdentifier", namespaces=NS) == HOST
    assert request_attrs(root) == {"verb": "Identify"}
    earliest = node.findtext("oai:earliestDatestamp", namespaces=NS)
    _, roots = harvest(oai, metadataPrefix="oai_dc")
    stamps = [d.text for r in roots for d in r.iter(f"{{{NS['oai']}}}datestamp")]
    assert stamps and earliest == min(stamps)


def test_admin_email_comes_from_config(oai, app, monkeypatch):
    monkeypatch.setitem(app.config, "OAI_ADMIN_EMAIL", "oai-admin@heritage.example.vn")
    root = oai(verb="Identify")
    assert root.findtext("oai:Identify/oai:adminEmail", namespaces=NS) == "oai-admin@heritage.example.vn"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_list_metadata_formats(oai, method, make_record):
    record = make_record()
    for params in ({}, {"identifier": ident(record)}):
        root = oai(method, verb="ListMetadataFormats", **params)
        prefixes = [p.text for p in root.iterfind(".//oai:metadataPrefix", NS)]
        assert prefixes == ["oai_dc"]
        assert root.findtext(".//oai:metadataNamespace", namespaces=NS) == (
            "http://www.openarchives.org/OAI/2.0/oai_dc/"
        )
    root = oai(method, verb="ListMetadataFormats", identifier=f"oai:{HOST}:rnothere")
    assert error_codes(root) == ["idDoesNotExist"]
    assert request_attrs(root) == {"verb": "ListMetadataFormats", "identifier": f"oai:{HOST}:rnothere"}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_list_sets_names_every_family_and_member(oai, method, collection):
    root = oai(method, verb="ListSets")
    sets = {s.findtext("oai:setSpec", namespaces=NS): s for s in root.iterfind("oai:ListSets/oai:set", NS)}
    for spec in ("group", "province", "category", "collection", "group:tay", "category:festival",
                 "province:pre2025-p06", f"collection:{collection.slug}"):  # fmt: skip
        assert spec in sets, spec
    assert sets["group:tay"].findtext("oai:setName", namespaces=NS) == "Tày"
    titles = sets["group:tay"].findall("oai:setDescription/oai_dc:dc/dc:title", NS)
    assert {t.text for t in titles} >= {"Tày"}
    assert "province:2025-p19" in sets  # today's province that Bắc Kạn (pre2025-p06) went into
    names = [s.findtext("oai:setName", namespaces=NS) for s in sets.values()]
    assert all(names) and len(sets) == len(set(sets))
    assert sets[f"collection:{collection.slug}"].findtext("oai:setName", namespaces=NS) == "Bộ thử OAI"


# --- GetRecord and the records' content -----------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_get_record_gives_oai_dc_and_sets(oai, method, make_record, collection):
    record = make_record(title="Lễ hội Lồng Tồng thử", collections=[collection.slug])
    root = oai(method, verb="GetRecord", identifier=ident(record), metadataPrefix="oai_dc")
    header = root.find("oai:GetRecord/oai:record/oai:header", NS)
    assert header.get("status") is None
    assert header.findtext("oai:identifier", namespaces=NS) == ident(record)
    assert header.findtext("oai:datestamp", namespaces=NS) == record.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    specs = {s.text for s in header.iterfind("oai:setSpec", NS)}
    assert {
        "group:tay",
        "category:festival",
        "province:pre2025-p06",
        f"collection:{collection.slug}",
    } <= specs
    current = [s for s in specs if s.startswith("province:") and s != "province:pre2025-p06"]
    assert current, "the record lies in a province of today too"
    dc = root.find("oai:GetRecord/oai:record/oai:metadata/oai_dc:dc", NS)
    assert [t.text for t in dc.iterfind("dc:title", NS)] == ["Lễ hội Lồng Tồng thử"]
    assert f"http://archive.test/records/{record.public_id}" in [
        i.text for i in dc.iterfind("dc:identifier", NS)
    ]
    assert request_attrs(root) == {
        "verb": "GetRecord",
        "identifier": ident(record),
        "metadataPrefix": "oai_dc",
    }


def test_restricted_records_never_appear(oai, db, make_record, make_user):
    from archive.communities.models import Community

    community = Community(slug=f"c-{uuid.uuid4().hex[:6]}", name=[{"lang": "vi", "value": "Cộng đồng thử"}])
    db.session.add(community)
    db.session.commit()
    public = make_record()
    hidden = [
        make_record(access_level="private"),
        make_record(access_level="researchers"),
        make_record(status="draft", created_by=make_user("contributor")),
        make_record(status="in_review"),
    ]
    community_record = make_record(access_level="community")
    community_record.community_id = community.id
    db.session.commit()
    hidden.append(community_record)
    for record in hidden:
        root = oai(verb="GetRecord", identifier=ident(record), metadataPrefix="oai_dc")
        assert error_codes(root) == ["idDoesNotExist"]
        assert error_codes(oai(verb="ListMetadataFormats", identifier=ident(record))) == ["idDoesNotExist"]
    for verb in ("ListIdentifiers", "ListRecords"):
        found, roots = harvest(oai, verb=verb, metadataPrefix="oai_dc")
        assert ident(public) in found
        assert not {ident(r) for r in hidden} & set(found)
        text = b"".join(etree.tostring(r) for r in roots).decode()
        assert all(r.public_id not in text for r in hidden)


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    "params",
    [{}, {"verb": "Harvest"}, {"verb": ["Identify", "Identify"]}, {"verb": ""}],
    ids=["missing", "unknown", "repeated", "empty"],
)
def test_bad_verb(oai, method, params):
    root = oai(method, **params)
    assert error_codes(root) == ["badVerb"]
    assert request_attrs(root) == {}  # no attributes on badVerb
    assert root.findtext("oai:request", namespaces=NS) == "http://archive.test/oai"


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    "params",
    [
        {"verb": "Identify", "set": "group"},
        {"verb": "ListRecords"},
        {"verb": "ListIdentifiers", "metadataPrefix": ["oai_dc", "oai_dc"]},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "colour": "red"},
        {"verb": "GetRecord", "metadataPrefix": "oai_dc"},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "02/12/2026"},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-12-02T10:00Z"},
        {
            "verb": "ListRecords",
            "metadataPrefix": "oai_dc",
            "from": "2026-12-02",
            "until": "2026-12-03T00:00:00Z",
        },
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-12-03", "until": "2026-12-02"},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "resumptionToken": "abc"},
        {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "group::tay"},
        {"verb": "ListIdentifiers", "metadataPrefix": "oai dc"},
    ],
    ids=[
        "identify-arg",
        "missing-prefix",
        "repeated",
        "unknown-arg",
        "missing-id",
        "bad-date",
        "no-seconds",
        "granularity-mismatch",
        "from-after-until",
        "token-not-exclusive",
        "bad-set",
        "bad-prefix",
    ],  # fmt: skip
)
def test_bad_argument(oai, method, params):
    root = oai(method, **params)
    assert error_codes(root) == ["badArgument"]
    assert request_attrs(root) == {}  # no attributes on badArgument
    assert root.findtext("oai:error", namespaces=NS)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_cannot_disseminate_format(oai, method, make_record):
    record = make_record()
    for params in (
        {"verb": "GetRecord", "identifier": ident(record), "metadataPrefix": "marc21"},
        {"verb": "ListRecords", "metadataPrefix": "marc21"},
        {"verb": "ListIdentifiers", "metadataPrefix": "marc21"},
    ):
        root = oai(method, **params)
        assert error_codes(root) == ["cannotDisseminateFormat"]
        assert request_attrs(root) == params  # valid arguments are echoed


def test_id_does_not_exist(oai):
    for identifier in (f"oai:{HOST}:rnosuchrecord", "oai:elsewhere.org:r123", "not-an-oai-id"):
        root = oai(verb="GetRecord", identifier=identifier, metadataPrefix="oai_dc")
        assert error_codes(root) == ["idDoesNotExist"]


def test_no_records_match(oai, make_record):
    make_record()
    for params in (
        {"set": "group:no-such-group"},
        {"from": "2999-01-01"},
        {"until": "1990-01-01T00:00:00Z"},
    ):
        for verb in ("ListIdentifiers", "ListRecords"):
            root = oai(verb=verb, metadataPrefix="oai_dc", **params)
            assert error_codes(root) == ["noRecordsMatch"], params
            assert request_attrs(root)["verb"] == verb


def test_bad_resumption_token(oai, app, monkeypatch, make_record, collection):
    monkeypatch.setitem(app.config, "OAI_PAGE_SIZE", 1)
    for _ in range(2):
        make_record(collections=[collection.slug])
    first = oai(verb="ListIdentifiers", metadataPrefix="oai_dc", set=f"collection:{collection.slug}")
    token = first.findtext("oai:ListIdentifiers/oai:resumptionToken", namespaces=NS)
    assert token
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    for verb, value in (("ListIdentifiers", tampered), ("ListIdentifiers", "garbage"),
                        ("ListRecords", token), ("ListSets", "anything")):  # fmt: skip
        root = oai(verb=verb, resumptionToken=value)
        assert error_codes(root) == ["badResumptionToken"], (verb, value)
        assert request_attrs(root) == {"verb": verb, "resumptionToken": value}
    monkeypatch.setitem(app.config, "OAI_TOKEN_LIFETIME", -1)  # every token is now too old
    assert error_codes(oai(verb="ListIdentifiers", resumptionToken=token)) == ["badResumptionToken"]


# --- selective harvesting -------------------------------------------------------------------------


def test_from_and_until_select_by_datestamp(oai, make_record, collection):
    record = make_record(collections=[collection.slug])
    spec = f"collection:{collection.slug}"
    stamp = record.updated_at.replace(microsecond=0)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    before, after = stamp - dt.timedelta(seconds=1), stamp + dt.timedelta(seconds=1)
    selects = {
        (stamp.strftime(fmt), stamp.strftime(fmt)): True,  # both bounds inclusive
        (before.strftime(fmt), None): True,
        (after.strftime(fmt), None): False,
        (None, before.strftime(fmt)): False,
        (stamp.strftime("%Y-%m-%d"), stamp.strftime("%Y-%m-%d")): True,  # day granularity
        ((stamp + dt.timedelta(days=1)).strftime("%Y-%m-%d"), None): False,
    }
    for (from_, until), expected in selects.items():
        params = {k: v for k, v in (("from", from_), ("until", until)) if v}
        for verb in ("ListIdentifiers", "ListRecords"):
            root = oai(verb=verb, metadataPrefix="oai_dc", set=spec, **params)
            if expected:
                assert identifiers(root) == [ident(record)], params
                assert request_attrs(root) == {
                    "verb": verb,
                    "metadataPrefix": "oai_dc",
                    "set": spec,
                    **params,
                }
            else:
                assert error_codes(root) == ["noRecordsMatch"], params


def test_sets_select_records_and_their_families(oai, make_record, collection):
    inside = make_record(collections=[collection.slug], ethnic_groups=["hmong"], category="ritual")
    outside = make_record(ethnic_groups=["tay"])
    for spec, wanted, unwanted in (
        (f"collection:{collection.slug}", inside, outside),
        ("collection", inside, outside),  # a family holds the records of all its members
        ("group:hmong", inside, outside),
        ("group:tay", outside, inside),
        ("category:ritual", inside, outside),
        ("province:pre2025-p06", outside, None),
    ):
        found, _ = harvest(oai, metadataPrefix="oai_dc", set=spec)
        assert ident(wanted) in found, spec
        if unwanted is not None:
            assert ident(unwanted) not in found, spec


# --- deleted records ------------------------------------------------------------------------------


def _assert_deleted(oai, record, spec: str):
    root = oai(verb="GetRecord", identifier=ident(record), metadataPrefix="oai_dc")
    rec = root.find("oai:GetRecord/oai:record", NS)
    assert rec.find("oai:header", NS).get("status") == "deleted"
    assert rec.find("oai:metadata", NS) is None
    found, roots = harvest(oai, verb="ListRecords", metadataPrefix="oai_dc", set=spec)
    assert found == [ident(record)]
    header = header_of(roots[0], ident(record))
    assert header.get("status") == "deleted"
    assert spec in [s.text for s in header.iterfind("oai:setSpec", NS)]  # the sets it was in
    assert error_codes(oai(verb="ListMetadataFormats", identifier=ident(record))) == []


def test_withdrawn_record_is_reported_deleted_for_ever(oai, db, make_record, collection):
    record = make_record(collections=[collection.slug])
    spec = f"collection:{collection.slug}"
    assert (
        header_of(oai(verb="ListIdentifiers", metadataPrefix="oai_dc", set=spec), ident(record)) is not None
    )
    shown = oai(verb="GetRecord", identifier=ident(record), metadataPrefix="oai_dc")
    first_stamp = shown.findtext(".//oai:datestamp", namespaces=NS)
    time.sleep(1.1)
    record.status = "withdrawn"
    db.session.commit()
    _assert_deleted(oai, record, spec)
    deleted_stamp = oai(verb="GetRecord", identifier=ident(record), metadataPrefix="oai_dc").findtext(
        ".//oai:datestamp", namespaces=NS
    )
    assert deleted_stamp > first_stamp  # incremental harvesters see the deletion
    # Harvesting from the deletion time on gives the deletion.
    root = oai(verb="ListIdentifiers", metadataPrefix="oai_dc", set=spec, **{"from": deleted_stamp})
    assert header_of(root, ident(record)).get("status") == "deleted"


def test_record_hidden_without_edit_is_deleted_then_shown_again(oai, db, make_record, collection):
    """Consent withdrawn (no change to the record row), then the record made public again."""
    from archive.communities.models import ConsentRecord
    from archive.core.types import utcnow

    record = make_record(collections=[collection.slug])
    spec = f"collection:{collection.slug}"
    oai(verb="GetRecord", identifier=ident(record), metadataPrefix="oai_dc")
    consent = ConsentRecord(record_id=record.id, given_by="Ông Hoàng Văn A", given_on=dt.date(2024, 1, 5))
    db.session.add(consent)
    db.session.commit()
    time.sleep(1.1)
    consent.withdrawn_at = utcnow()
    consent.withdrawal_reason = "The family asked"
    db.session.commit()
    _assert_deleted(oai, record, spec)
    gone_at = oai(verb="GetRecord", identifier=ident(record), metadataPrefix="oai_dc").findtext(
        ".//oai:datestamp", namespaces=NS
    )
    time.sleep(1.1)
    db.session.delete(consent)
    db.session.commit()
    root = oai(verb="GetRecord", identifier=ident(record), metadataPrefix="oai_dc")
    assert root.find(".//oai:header", NS).get("status") is None
    assert root.find(".//oai_dc:dc", NS) is not None
    assert root.findtext(".//oai:datestamp", namespaces=NS) > gone_at


def test_record_made_private_is_deleted(oai, db, make_record, collection):
    record = make_record(collections=[collection.slug])
    oai(verb="Identify")  # any request brings the repository up to date
    record.access_level = "private"
    db.session.commit()
    _assert_deleted(oai, record, f"collection:{collection.slug}")


# --- resumption -----------------------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["ListIdentifiers", "ListRecords"])
def test_resumption_pages_stay_stable_while_records_change(oai, db, app, monkeypatch, make_record,
                                                           collection, verb):  # fmt: skip
    monkeypatch.setitem(app.config, "OAI_PAGE_SIZE", 2)
    spec = f"collection:{collection.slug}"
    records = {ident(r): r for r in (make_record(collections=[collection.slug]) for _ in range(6))}
    first = oai(verb=verb, metadataPrefix="oai_dc", set=spec)
    started = first.findtext("oai:responseDate", namespaces=NS)
    token = first.find(f"oai:{verb}/oai:resumptionToken", NS)
    assert (token.get("cursor"), token.get("completeListSize")) == ("0", "6")
    assert token.get("expirationDate") > started
    page1 = identifiers(first)
    assert len(page1) == 2
    # Mid-harvest: one delivered record and one not yet delivered change.
    time.sleep(1.1)
    ordered = sorted(records.values(), key=lambda r: (r.updated_at.replace(microsecond=0), r.public_id))
    assert [ident(r) for r in ordered[:2]] == page1
    changed_early, changed_late = ordered[0], ordered[3]
    for record in (changed_early, changed_late):
        record.category = "ritual"
    db.session.commit()
    second = oai(verb=verb, resumptionToken=token.text)
    token2 = second.find(f"oai:{verb}/oai:resumptionToken", NS)
    assert token2.get("cursor") == "2"
    third = oai(verb=verb, resumptionToken=token2.text)
    last = third.find(f"oai:{verb}/oai:resumptionToken", NS)
    assert last is not None and not last.text and last.get("cursor") == "4"  # the list ends here
    got = page1 + identifiers(second) + identifiers(third)
    assert len(got) == len(set(got))  # nothing twice, nothing shifted
    assert set(got) == set(records) - {ident(changed_late)}
    # The changed record that was not delivered comes with the next incremental harvest.
    found, _ = harvest(oai, verb=verb, metadataPrefix="oai_dc", set=spec, **{"from": started})
    assert {ident(changed_early), ident(changed_late)} <= set(found)
    # ...and it is in its new set.
    found, _ = harvest(oai, verb=verb, metadataPrefix="oai_dc", set="category:ritual", **{"from": started})
    assert ident(changed_late) in found


def test_post_follows_resumption_tokens(oai, app, monkeypatch, make_record, collection):
    monkeypatch.setitem(app.config, "OAI_PAGE_SIZE", 2)
    created = {ident(make_record(collections=[collection.slug])) for _ in range(5)}
    found, roots = harvest(oai, verb="ListRecords", method="POST", metadataPrefix="oai_dc",
                           set=f"collection:{collection.slug}")  # fmt: skip
    assert len(roots) == 3 and sorted(found) == sorted(created)


def test_endpoint_is_language_neutral_and_unprefixed(client):
    response = client.get("/oai?verb=Identify")
    assert response.status_code == 200
    assert client.get("/vi/oai?verb=Identify").status_code in (200, 404)
    from flask import url_for

    with client.application.test_request_context("/"):
        assert url_for("oai.endpoint") == "/oai"
