"""Read endpoints: lists with stable pages and Link headers, one record, media, search, vocabularies,
collections and exhibits; nothing hidden ever listed or shown; CORS; errors in the caller's language."""

from __future__ import annotations

import uuid

import pytest

from tests.api.conftest import bearer


@pytest.fixture
def world(db, make_record, make_user):
    """A public, a private, a community, a draft and a researchers-only record in a fresh collection."""
    from archive.communities.models import Community
    from archive.vocab.models import Collection
    from metadata.languages import LangString

    tag = uuid.uuid4().hex[:8]
    collection = Collection(slug=f"api-test-{tag}", title=[{"lang": "vi", "value": f"Bộ sưu tập {tag}"}])
    community = Community(slug=f"api-community-{tag}", name=[{"lang": "vi", "value": "Bản thử"}])
    db.session.add_all([collection, community])
    db.session.commit()
    owner = make_user("contributor")
    specs = {
        "public": {},
        "private": {"access_level": "private"},
        "community": {"access_level": "community"},
        "draft": {"status": "draft"},
        "researchers": {"access_level": "researchers"},
    }
    records = {}
    for kind, overrides in specs.items():
        records[kind] = make_record(
            created_by=owner,
            texts={"title": [LangString(f"Api{kind.capitalize()}{tag}", "vi")]},
            collections=[collection.slug],
            **overrides,
        )
    records["community"].community_id = community.id
    db.session.commit()
    return {"records": records, "collection": collection, "owner": owner, "tag": tag}


def _all_ids(client, url: str, headers=None) -> list[str]:
    ids, next_url = [], url
    while next_url:
        response = client.get(next_url, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        ids += [item["id"] for item in body["items"]]
        next_url = body["links"].get("next")
    return ids


def test_record_list_pages_are_stable_and_linked(client, db, make_record):
    made = [make_record() for _ in range(3)]
    first = client.get("/api/v1/records?per_page=2")
    assert first.status_code == 200
    body = first.get_json()
    assert body["page"] == 1 and body["per_page"] == 2 and body["pages"] == -(-body["total"] // 2)
    assert len(body["items"]) == 2
    link = first.headers["Link"]
    assert 'rel="next"' in link and 'rel="last"' in link and 'rel="prev"' not in link
    assert "page=2&per_page=2" in body["links"]["next"]
    ids = _all_ids(client, "/api/v1/records?per_page=7")
    assert len(ids) == len(set(ids)) == body["total"]  # every record once, none twice
    assert ids == _all_ids(client, "/api/v1/records?per_page=100")  # the same order in any page size
    # Newest publication first: the three just made lead the list, the last made first.
    assert ids[:3] == [r.public_id for r in reversed(made)]
    second = client.get("/api/v1/records?per_page=2&page=2")
    assert 'rel="prev"' in second.headers["Link"]


@pytest.mark.parametrize("query", ["page=0", "page=x", "per_page=101", "per_page=0", "per_page=-1"])
def test_bad_paging_is_a_400_in_json(client, query):
    response = client.get(f"/api/v1/records?{query}", headers={"Accept-Language": "en"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] in ("bad_page", "bad_per_page") and "whole number" in error["message"]


def test_restricted_records_never_appear_for_visitors(client, world):
    tag = world["tag"]
    listed = client.get("/api/v1/records?per_page=100").get_data(as_text=True)
    assert f"ApiPublic{tag}" in listed
    for kind in ("private", "community", "draft", "researchers"):
        assert f"Api{kind.capitalize()}{tag}" not in listed
        record = world["records"][kind]
        response = client.get(f"/api/v1/records/{record.public_id}")
        assert response.status_code == 404, kind
        assert response.get_json()["error"]["code"] == "not_found"
        assert client.get(f"/api/v1/records/{record.public_id}/media").status_code == 404
    in_collection = client.get(f"/api/v1/records?collection={world['collection'].slug}").get_json()
    assert [i["id"] for i in in_collection["items"]] == [world["records"]["public"].public_id]
    assert in_collection["total"] == 1
    collection = client.get(f"/api/v1/collections/{world['collection'].slug}").get_json()
    assert collection["record_count"] == 1  # not even a count of the hidden ones


def test_a_curators_token_reads_more_and_the_owner_sees_the_draft(client, world, make_token):
    tag = world["tag"]
    _curator, secret = make_token("curator")
    listed = client.get("/api/v1/records?per_page=100", headers=bearer(secret))
    assert listed.status_code == 200
    text = listed.get_data(as_text=True)
    for kind in ("public", "private", "community", "draft", "researchers"):
        assert f"Api{kind.capitalize()}{tag}" in text
    assert listed.headers["Cache-Control"] == "private, no-store"
    _owner, owner_secret = make_token(user=world["owner"])
    draft = world["records"]["draft"]
    assert client.get(f"/api/v1/records/{draft.public_id}", headers=bearer(owner_secret)).status_code == 200
    _researcher, researcher_secret = make_token("contributor")
    text = client.get("/api/v1/records?per_page=100", headers=bearer(researcher_secret)).get_data(
        as_text=True
    )
    assert f"ApiResearchers{tag}" in text and f"ApiPrivate{tag}" not in text and f"ApiDraft{tag}" not in text


def test_a_signed_in_session_does_not_widen_reads(client, world, login):
    login("curator")
    text = client.get("/api/v1/records?per_page=100").get_data(as_text=True)
    assert f"ApiPrivate{world['tag']}" not in text  # the cookie is ignored: reads are anonymous


def test_one_record_has_its_description_and_json_ld(client, world):
    record = world["records"]["public"]
    response = client.get(f"/api/v1/records/{record.public_id}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == record.public_id and body["status"] == "published"
    assert body["texts"]["title"] == [{"lang": "vi", "value": f"ApiPublic{world['tag']}"}]
    assert body["jsonld"]["schema:identifier"] == record.public_id
    assert body["jsonld"]["@id"].endswith(f"/records/{record.public_id}")
    assert response.headers["ETag"] == f'"{record.version_id}"'
    assert body["links"]["self"].endswith(f"/api/v1/records/{record.public_id}")


def test_media_of_a_record_and_one_media_file(client, db):
    from sqlalchemy import select

    from archive.media.models import MediaFile
    from archive.records.models import HeritageRecord

    media = db.session.scalars(
        select(MediaFile)
        .join(HeritageRecord, MediaFile.record_id == HeritageRecord.id)
        .where(
            MediaFile.kind == "image",
            MediaFile.state == "ready",
            MediaFile.access_level == "public",
            HeritageRecord.status == "published",
            HeritageRecord.access_level == "public",
        )
    ).first()
    assert media is not None, "the demo has public images"
    listed = client.get(f"/api/v1/records/{media.record.public_id}/media?per_page=100").get_json()
    assert media.public_id in [m["id"] for m in listed["items"]]
    one = client.get(f"/api/v1/media/{media.public_id}").get_json()
    assert one["kind"] == "image" and one["width"] == media.width
    assert one["links"]["iiif_image"].endswith(f"/iiif/3/{media.public_id}/info.json")
    assert one["links"]["original"].endswith(f"/media/{media.public_id}/file")
    assert client.get("/api/v1/media/no-such-media").status_code == 404


def test_hidden_media_is_404(client, db):
    from sqlalchemy import select

    from archive.media.models import MediaFile

    media = db.session.scalars(select(MediaFile)).first()
    media.access_level = "private"
    db.session.commit()
    assert client.get(f"/api/v1/media/{media.public_id}").status_code == 404
    listed = client.get(f"/api/v1/records/{media.record.public_id}/media?per_page=100")
    if listed.status_code == 200:
        assert media.public_id not in [m["id"] for m in listed.get_json()["items"]]


def test_search_uses_the_search_pages_parameters(client, world):
    found = client.get(f"/api/v1/search?q=ApiPublic{world['tag']}")
    assert found.status_code == 200, found.get_data(as_text=True)
    body = found.get_json()
    assert [hit["public_id"] for hit in body["hits"]] == [world["records"]["public"].public_id]
    hidden = client.get(f"/api/v1/search?q=ApiPrivate{world['tag']}").get_json()
    assert hidden["total"] == 0 and hidden["hits"] == []
    refused = client.get("/api/v1/search?colour=red", headers={"Accept-Language": "en"})
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "unknown_facet"


def test_vocabularies(client, db):
    groups = client.get("/api/v1/vocabularies/ethnic-groups?per_page=100").get_json()
    assert groups["total"] == 54 and len(groups["items"]) == 54
    assert {"tay", "kinh"} <= {g["slug"] for g in groups["items"]}
    categories = client.get("/api/v1/vocabularies/categories").get_json()
    assert "festival" in [c["code"] for c in categories["items"]]
    provinces = client.get("/api/v1/vocabularies/places?system=2025&level=province&per_page=100").get_json()
    assert provinces["total"] == 34  # the provinces since 1 July 2025
    assert all(p["system"] == "2025" and p["level"] == "province" for p in provinces["items"])
    found = client.get("/api/v1/vocabularies/places?q=bac%20kan&system=pre2025").get_json()
    assert any(p["name"] == "Bắc Kạn" for p in found["items"]), found["items"][:3]
    assert client.get("/api/v1/vocabularies/places?system=1990").status_code == 400


def test_agents_named_only_on_hidden_records_are_not_listed(client, make_record):
    secret_name = f"Ông Bí Mật {uuid.uuid4().hex[:6]}"
    open_name = f"Bà Công Khai {uuid.uuid4().hex[:6]}"
    make_record(access_level="private", agents=[(secret_name, "informant", "person")])
    make_record(agents=[(open_name, "ritual_master", "person")])
    names = []
    url = "/api/v1/vocabularies/agents?per_page=100"
    while url:
        body = client.get(url).get_json()
        names += [a["name"] for a in body["items"]]
        url = body["links"].get("next")
    assert open_name in names and secret_name not in names


def test_exhibits_show_only_what_the_caller_may_see(client, db, make_record):
    from archive.exhibits.models import Exhibit, ExhibitItem, ExhibitSection

    tag = uuid.uuid4().hex[:6]
    shown = make_record(title=f"ExhibitShown{tag}")
    hidden = make_record(title=f"ExhibitHidden{tag}", access_level="private")
    exhibit = Exhibit(
        slug=f"api-exhibit-{tag}", title=[{"lang": "vi", "value": "Trưng bày"}], status="published"
    )
    section = ExhibitSection(kind="records", position=0, heading=[{"lang": "vi", "value": "Bản ghi"}])
    section.items.extend(
        [ExhibitItem(record_id=shown.id, position=0), ExhibitItem(record_id=hidden.id, position=1)]
    )
    exhibit.sections.append(section)
    draft = Exhibit(slug=f"api-draft-{tag}", title=[{"lang": "vi", "value": "Nháp"}], status="draft")
    db.session.add_all([exhibit, draft])
    db.session.commit()
    listed = client.get("/api/v1/exhibits?per_page=100").get_json()
    slugs = [e["slug"] for e in listed["items"]]
    assert exhibit.slug in slugs and draft.slug not in slugs
    text = client.get(f"/api/v1/exhibits/{exhibit.slug}").get_data(as_text=True)
    assert f"ExhibitShown{tag}" in text and f"ExhibitHidden{tag}" not in text
    assert client.get(f"/api/v1/exhibits/{draft.slug}").status_code == 404


def test_cors_on_reads_and_preflight(client, world):
    record = world["records"]["public"]
    response = client.get(f"/api/v1/records/{record.public_id}", headers={"Origin": "https://example.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Link" in response.headers["Access-Control-Expose-Headers"]
    missing = client.get("/api/v1/records/nothing", headers={"Origin": "https://example.org"})
    assert missing.status_code == 404 and missing.headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options(
        f"/api/v1/records/{record.public_id}",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "PATCH"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"  # no PATCH across sites
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]


def test_errors_speak_the_callers_language(client):
    english = client.get("/api/v1/records/nothing", headers={"Accept-Language": "en"}).get_json()
    vietnamese = client.get("/api/v1/records/nothing", headers={"Accept-Language": "vi"}).get_json()
    assert english["error"]["code"] == vietnamese["error"]["code"] == "not_found"
    assert english["error"]["message"] == "There is nothing here, or you may not see it."


def test_api_urls_are_language_neutral(client):
    response = client.get("/api/v1/vocabularies/categories")
    assert response.status_code == 200  # no redirect to /vi/...
    assert "lang=" not in response.headers.get("Set-Cookie", "")
