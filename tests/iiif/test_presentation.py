"""IIIF Presentation API 3.0 over HTTP: record manifests (image, audio, video, captions), their canvases
and annotations at their own ids, collections of every kind with paging, access rules and the cache."""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft7Validator
from sqlalchemy import select

from archive.communities.models import Community, CommunityMembership
from archive.media.models import MediaFile
from archive.records.models import HeritageRecord
from tests.conftest import STANDARDS

PROFILE = 'profile="http://iiif.io/api/presentation/3/context.json"'
DEMO_AV_RECORD = "then-tay-nung-thai"  # the demo record with an image, a recording and a film


def register_presentation(app) -> None:
    """Register the blueprint on the session app until the lead adds it to create_app."""
    from archive.iiif.presentation import bp

    if bp.name in app.blueprints:
        return
    started = app._got_first_request
    app._got_first_request = False  # the session app has served requests already
    try:
        app.register_blueprint(bp)
    finally:
        app._got_first_request = started
    app.extensions.pop("archive.neutral_endpoints", None)


@pytest.fixture(autouse=True)
def _presentation(app):
    register_presentation(app)
    from archive.iiif.presentation import manifests

    manifests.clear()


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    schema = json.loads((STANDARDS / "iiif" / "presentation-3.0.schema.json").read_text(encoding="utf-8"))
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def assert_valid(validator: Draft7Validator, document: dict) -> None:
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message[:300]}" for e in errors[:10])


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def get_json(client, url: str, status: int = 200, **kwargs) -> dict:
    response = client.get(path_of(url), **kwargs)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:300])
    return response.get_json()


@pytest.fixture
def av_record(db):
    record = db.session.scalar(select(HeritageRecord).where(HeritageRecord.slug == DEMO_AV_RECORD))
    assert record is not None and {m.kind for m in record.media} == {"image", "audio", "video"}
    return record


@pytest.fixture
def community(db):
    group = Community(
        slug=f"ban-{uuid.uuid4().hex[:6]}",
        name=[{"lang": "vi", "value": "Bản Cải"}, {"lang": "en", "value": "Ban Cai"}],
        protocol_notice=[
            {"lang": "vi", "value": "Chỉ người trong bản."},
            {"lang": "en", "value": "Villagers only."},
        ],
    )
    db.session.add(group)
    db.session.commit()
    return group


def sign_in(client, user) -> None:
    response = client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    assert response.status_code == 302


def test_demo_manifest_with_image_audio_video_and_captions(client, db, av_record, validator):
    from archive.media.services import attach_captions
    from tests.media.samples import VTT

    audio = next(m for m in av_record.media if m.kind == "audio")
    attach_captions(audio, VTT.encode(), "vi", "Lời hát", "captions", None)
    db.session.commit()

    response = client.get(f"/iiif/records/{av_record.public_id}/manifest.json")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json" and PROFILE in response.headers["Content-Type"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"].startswith("public")
    manifest = response.get_json()
    assert_valid(validator, manifest)
    assert set(manifest["label"]) >= {"vi", "en"}
    assert manifest["homepage"][0]["id"].endswith(f"/vi/records/{av_record.public_id}/{av_record.slug}")
    assert {s["format"] for s in manifest["seeAlso"]} == {"application/xml", "application/ld+json"}
    for link in manifest["seeAlso"] + manifest["homepage"]:
        assert client.get(path_of(link["id"])).status_code == 200, link
    for collection in manifest["partOf"]:
        assert get_json(client, collection["id"])["type"] == "Collection"

    canvases = {}
    for canvas in manifest["items"]:
        body = canvas["items"][0]["items"][0]["body"]
        canvases[body.get("items", [body])[0]["type"]] = canvas
    assert set(canvases) == {"Image", "Sound", "Video"}
    for canvas in manifest["items"]:
        painting = canvas["items"][0]["items"][0]
        assert painting["motivation"] == "painting" and painting["target"] == canvas["id"]
        # Every id resolves to the resource itself.
        assert get_json(client, canvas["id"])["id"] == canvas["id"]
        assert get_json(client, canvas["items"][0]["id"])["type"] == "AnnotationPage"
        served = get_json(client, painting["id"])
        assert served["id"] == painting["id"] and served["@context"].endswith("/context.json")
        assert_valid(validator, served)
        body = painting["body"]
        for item in body.get("items", [body]):
            file_response = client.get(path_of(item["id"]))
            assert file_response.status_code == 200, item["id"]
            file_response.close()
    image = canvases["Image"]
    service = image["items"][0]["items"][0]["body"]["service"][0]
    assert get_json(client, service["id"] + "/info.json")["width"] == image["width"]
    thumb = client.get(path_of(image["thumbnail"][0]["id"]))
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    thumb.close()

    recordings = [c for c in manifest["items"] if "duration" in c]
    assert len(recordings) == 2
    assert all(c["duration"] > 0 and c["duration"] == pytest.approx(m.duration_seconds)
               for c in recordings for m in av_record.media if c["id"].endswith(m.public_id))  # fmt: skip
    audio_canvas = next(c for c in recordings if c["id"].endswith(audio.public_id))
    track = audio_canvas["annotations"][0]["items"][0]
    assert track["motivation"] == "supplementing" and track["body"]["format"] == "text/vtt"
    assert get_json(client, track["id"])["body"]["language"] == "vi"
    vtt = client.get(path_of(track["body"]["id"]))
    assert vtt.status_code == 200 and "Lời hát mở đầu" in vtt.get_data(as_text=True)
    vtt.close()


def test_unknown_ids_answer_404(client, av_record):
    assert client.get("/iiif/records/nothing-here/manifest.json").status_code == 404
    base = f"/iiif/records/{av_record.public_id}/canvas"
    assert client.get(f"{base}/no-such-media").status_code == 404
    image = next(m for m in av_record.media if m.kind == "image")
    assert client.get(f"{base}/{image.public_id}/annotation/nothing").status_code == 404
    response = client.get(f"{base}/{image.public_id}/page/painting")
    assert response.status_code == 200 and response.get_json()["type"] == "AnnotationPage"


def test_restricted_canvas_hidden_from_visitors_shown_to_members_and_curators(
    client, db, av_record, community, make_user
):
    video = next(m for m in av_record.media if m.kind == "video")
    video.access_level, video.community_id = "community", community.id
    db.session.commit()
    url = f"/iiif/records/{av_record.public_id}/manifest.json"

    visitor = client.get(url)
    assert visitor.status_code == 200 and video.public_id not in visitor.get_data(as_text=True)
    assert len(visitor.get_json()["items"]) == 2
    assert "private" in visitor.headers["Cache-Control"]  # not everyone gets the same manifest
    assert client.get(f"/iiif/records/{av_record.public_id}/canvas/{video.public_id}").status_code == 401

    outsider = make_user("researcher")
    sign_in(client, outsider)
    assert video.public_id not in client.get(url).get_data(as_text=True)
    assert client.get(f"/iiif/records/{av_record.public_id}/canvas/{video.public_id}").status_code == 403
    client.post("/logout")

    member = make_user("researcher")
    db.session.add(CommunityMembership(community_id=community.id, user_id=member.id))
    db.session.commit()
    sign_in(client, member)
    shown = client.get(url).get_json()
    assert len(shown["items"]) == 3 and any(c["id"].endswith(video.public_id) for c in shown["items"])
    canvas = client.get(f"/iiif/records/{av_record.public_id}/canvas/{video.public_id}")
    assert canvas.status_code == 200 and canvas.get_json()["duration"] > 0
    client.post("/logout")

    curator = make_user("curator")
    sign_in(client, curator)
    assert len(client.get(url).get_json()["items"]) == 3


def test_restricted_records_answer_like_the_record_page(client, db, make_record, make_user, community):
    word = "zq" + uuid.uuid4().hex[:8]
    private = make_record(title=f"Riêng {word}", access_level="private")
    gated = make_record(title=f"Cộng đồng {word}", access_level="community")
    gated.community_id = community.id
    withdrawn = make_record(title=f"Rút {word}", status="withdrawn")
    db.session.commit()

    def status(record) -> int:
        return client.get(f"/iiif/records/{record.public_id}/manifest.json").status_code

    assert (status(private), status(gated), status(withdrawn)) == (404, 401, 410)
    body = client.get(f"/iiif/records/{private.public_id}/manifest.json").get_data(as_text=True)
    assert word not in body
    tay = client.get("/iiif/collections/groups/tay.json")
    assert word not in json.dumps(_all_pages(client, tay.get_json()), ensure_ascii=False)

    sign_in(client, make_user("researcher"))
    assert (status(private), status(gated)) == (404, 403)
    client.post("/logout")

    curator = make_user("curator")
    sign_in(client, curator)
    response = client.get(f"/iiif/records/{private.public_id}/manifest.json")
    assert response.status_code == 200 and "private" in response.headers["Cache-Control"]
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.get_json()["label"]["vi"] == [f"Riêng {word}"]
    assert word in json.dumps(_all_pages(client, client.get("/iiif/collections/groups/tay.json").get_json()),
                              ensure_ascii=False)  # fmt: skip
    assert status(withdrawn) == 410


def _all_pages(client, collection: dict) -> list[dict]:
    """A collection's manifests, following its pages when it is split."""
    found = []
    for item in collection["items"]:
        if item["type"] == "Collection":
            found += get_json(client, item["id"])["items"]
        else:
            found.append(item)
    return found


def test_collections_of_every_kind_are_valid(client, db, av_record, validator):
    group = av_record.ethnic_groups[0]
    collection = av_record.collections[0]
    province = next(p for p in av_record.places if p.level == "province")
    urls = [
        "/iiif/collections/top.json",
        f"/iiif/collections/groups/{group.slug}.json",
        f"/iiif/collections/places/{province.code}.json",
        f"/iiif/collections/categories/{av_record.category}.json",
        f"/iiif/collections/collections/{collection.slug}.json",
        "/iiif/collections/exhibits/voices-of-ritual.json",
    ]
    manifest_url = f"http://localhost/iiif/records/{av_record.public_id}/manifest.json"
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert PROFILE in response.headers["Content-Type"] and response.headers["Cache-Control"].startswith(
            "public"
        )
        document = response.get_json()
        assert_valid(validator, document)
        assert document["type"] == "Collection" and document["label"]
        entries = _all_pages(client, document)
        assert entries, url
        if url != urls[0]:
            assert all(e["type"] == "Manifest" for e in entries)
            if "exhibits" not in url:
                assert manifest_url in [e["id"] for e in entries], url
    top = _all_pages(client, client.get(urls[0]).get_json())
    kinds = {urlsplit(e["id"]).path.split("/")[3] for e in top}
    assert kinds == {"groups", "places", "categories", "collections", "exhibits"}
    # A manifest listed in a collection is there for real.
    first = _all_pages(client, client.get(urls[1]).get_json())[0]
    assert get_json(client, first["id"])["id"] == first["id"]
    assert first["label"]


def test_large_collections_are_split_into_pages(app, client, validator):
    app.config["IIIF_COLLECTION_PAGE_SIZE"] = 2
    try:
        whole = get_json(client, "/iiif/collections/categories/festival.json")
        assert_valid(validator, whole)
        pages = whole["items"]
        assert len(pages) >= 2 and all(p["type"] == "Collection" for p in pages)
        assert pages[0]["id"].endswith("festival.json?page=1") and pages[0]["label"]["en"] == [
            f"Page 1 of {len(pages)}"
        ]
        seen = []
        for page in pages:
            document = get_json(client, page["id"])
            assert_valid(validator, document)
            assert document["id"] == page["id"] and document["partOf"][0]["id"] == whole["id"]
            assert 1 <= len(document["items"]) <= 2
            seen += [m["id"] for m in document["items"]]
        assert len(seen) == len(set(seen))  # no manifest on two pages
        assert (
            client.get(f"/iiif/collections/categories/festival.json?page={len(pages) + 1}").status_code == 404
        )
    finally:
        app.config.pop("IIIF_COLLECTION_PAGE_SIZE")
    for bad in ("0", "abc", "-1"):
        assert client.get(f"/iiif/collections/categories/festival.json?page={bad}").status_code == 400
    for missing in ("groups/no-such-group", "places/no-such-place", "categories/nothing",
                    "collections/nothing", "exhibits/nothing"):  # fmt: skip
        assert client.get(f"/iiif/collections/{missing}.json").status_code == 404, missing


def test_manifest_is_cached_until_the_record_changes(client, db, make_record, monkeypatch):
    from archive.iiif import presentation
    from archive.records.services import update_record
    from metadata.csv_records import RecordInput
    from metadata.languages import LangString

    built = []
    real_build = presentation.build_manifest

    def counting_build(*args, **kwargs):
        built.append(1)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(presentation, "build_manifest", counting_build)
    record = make_record(title="Hội trước khi sửa")
    url = f"/iiif/records/{record.public_id}/manifest.json"
    first = client.get(url)
    again = client.get(url)
    assert first.status_code == again.status_code == 200 and len(built) == 1
    assert first.get_data() == again.get_data() and first.headers["ETag"] == again.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304

    fields = dict(row=0, identifier=None, slug=None, category="festival", status="published",
                  access_level="public", texts={"title": [LangString("Hội sau khi sửa", "vi")]},
                  ethnic_groups=["tay"], places=["pre2025-p06"])  # fmt: skip
    update_record(db.session.get(HeritageRecord, record.id), RecordInput(**fields), None)
    db.session.commit()
    edited = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert edited.status_code == 200 and len(built) == 2
    assert edited.get_json()["label"] == {"vi": ["Hội sau khi sửa"]}
    assert edited.headers["ETag"] != first.headers["ETag"]


def test_a_media_change_makes_a_new_manifest(client, db, av_record):
    url = f"/iiif/records/{av_record.public_id}/manifest.json"
    before = client.get(url).get_json()
    image = db.session.scalar(
        select(MediaFile).where(MediaFile.record_id == av_record.id, MediaFile.kind == "image")
    )
    image.caption = [{"lang": "vi", "value": "Chú thích mới"}, {"lang": "en", "value": "A new caption"}]
    db.session.commit()
    after = client.get(url).get_json()
    label = next(c["label"] for c in after["items"] if c["id"].endswith(image.public_id))
    assert label == {"vi": ["Chú thích mới"], "en": ["A new caption"]}
    assert before != after
