"""Write endpoints: drafts made and changed with a personal token under the record form's rules,
optimistic locking with If-Match, media uploads, submission; never with the session cookie alone."""

from __future__ import annotations

import io
import uuid

import pytest
from sqlalchemy import func, select

from tests.api.conftest import bearer


def _input(title: str | None = None, **members) -> dict:
    body = {
        "texts": {
            "title": [{"lang": "vi", "value": title or f"Lễ thử {uuid.uuid4().hex[:6]}"}],
            "summary": [{"lang": "en", "value": "A test festival."}],
        },
        "category": "festival",
        "ethnic_groups": ["tay"],
        "places": ["pre2025-p06"],
        "timings": [{"calendar": "lunar", "month": 1, "day": 15, "duration_days": 2, "note": []}],
        "dates": [{"kind": "held", "start": "2025-02-12", "end": None}],
        "agents": [{"name": "Ông Hoàng Văn A", "role": "ritual_master", "kind": "person"}],
    }
    body.update(members)
    return body


def _count_records(db) -> int:
    from archive.records.models import HeritageRecord

    return db.session.scalar(select(func.count()).select_from(HeritageRecord))


def test_a_contributor_creates_a_draft(client, db, make_token):
    from archive.records.models import HeritageRecord

    user, secret = make_token("contributor")
    response = client.post("/api/v1/records", json=_input("Lễ hội Lồng Tồng thử"), headers=bearer(secret))
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "draft" and body["texts"]["title"][0]["value"] == "Lễ hội Lồng Tồng thử"
    assert response.headers["Location"].endswith(f"/api/v1/records/{body['id']}")
    assert response.headers["ETag"] == f'"{body["version"]}"'
    assert "Access-Control-Allow-Origin" not in response.headers  # no CORS on writes
    record = db.session.scalar(select(HeritageRecord).where(HeritageRecord.public_id == body["id"]))
    assert record.created_by_id == user.id and record.status == "draft"
    assert [t.month for t in record.timings] == [1] and record.timings[0].duration_days == 2
    assert [g.slug for g in record.ethnic_groups] == ["tay"]
    assert client.get(f"/api/v1/records/{body['id']}").status_code == 404  # a draft: not for visitors
    assert client.get(f"/api/v1/records/{body['id']}", headers=bearer(secret)).status_code == 200


def test_a_contributor_cannot_publish_through_the_api(client, db, make_token):
    _user, secret = make_token("contributor")
    refused = client.post("/api/v1/records", json=_input(status="published"), headers=bearer(secret))
    assert refused.status_code == 422 and "status" in refused.get_json()["error"]["fields"]


def test_writes_need_a_token_not_a_session(client, db, login):
    before = _count_records(db)
    login("curator")
    response = client.post("/api/v1/records", json=_input(), headers={"Accept-Language": "en"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "token_required"
    assert _count_records(db) == before


def test_a_researchers_token_may_not_write(client, db, make_user):
    from archive.api import tokens

    researcher = make_user("researcher")
    # Researchers cannot make tokens on the page; a token made before a role change still cannot write.
    researcher.role = "contributor"
    _token, secret = tokens.create_token(researcher, "old", None)
    researcher.role = "researcher"
    db.session.commit()
    response = client.post("/api/v1/records", json=_input(), headers=bearer(secret))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ("title=x", "application/x-www-form-urlencoded", 415),
    ],
)
def test_bodies_that_are_not_a_json_object(client, db, make_token, data, content_type, status):
    _user, secret = make_token("contributor")
    before = _count_records(db)
    response = client.post("/api/v1/records", data=data, content_type=content_type, headers=bearer(secret))
    assert response.status_code == status
    assert response.get_json()["error"]["message"]
    assert _count_records(db) == before


def test_invalid_values_get_per_field_messages_and_nothing_is_saved(client, db, make_token):
    _user, secret = make_token("contributor")
    before = _count_records(db)
    body = _input(
        category="picnic",
        places=["no-such-place-anywhere"],
        timings=[{"calendar": "lunar", "month": 13, "day": 40}],
        dates=[{"kind": "held", "start": "2025-02-30"}],
    )
    body["texts"]["title"] = [{"lang": "not a language!", "value": "Tên"}]
    response = client.post("/api/v1/records", json=body, headers={**bearer(secret), "Accept-Language": "en"})
    assert response.status_code == 422, response.get_data(as_text=True)
    fields = response.get_json()["error"]["fields"]
    assert fields["category"] == "Choose one of the options offered."
    assert "texts/title/0/lang" in fields
    assert "places/0" in fields
    assert "timings/0/month" in fields and "timings/0/day" in fields
    assert "dates/0/start" in fields
    assert _count_records(db) == before


def test_wrong_types_and_unknown_members_are_named(client, make_token):
    _user, secret = make_token("contributor")
    body = _input(places="pre2025-p06", colour="red")
    body["texts"]["title"] = "Tên"
    response = client.post("/api/v1/records", json=body, headers=bearer(secret))
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert {"places", "colour"} <= set(fields)
    untitled = client.post("/api/v1/records", json={"category": "festival"}, headers=bearer(secret))
    assert untitled.status_code == 422 and "texts/title/0/value" in untitled.get_json()["error"]["fields"]


def _create(client, secret, **members) -> dict:
    response = client.post("/api/v1/records", json=_input(**members), headers=bearer(secret))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def test_patch_needs_the_version_read(client, make_token):
    _user, secret = make_token("contributor")
    created = _create(client, secret)
    url = f"/api/v1/records/{created['id']}"
    change = {"texts": {"summary": [{"lang": "vi", "value": "Tóm tắt mới."}]}}
    missing = client.patch(url, json=change, headers=bearer(secret))
    assert missing.status_code == 428
    stale = client.patch(url, json=change, headers={**bearer(secret), "If-Match": '"999"'})
    assert stale.status_code == 412
    assert stale.get_json()["error"]["code"] == "version_mismatch"
    etag = client.get(url, headers=bearer(secret)).headers["ETag"]
    saved = client.patch(url, json=change, headers={**bearer(secret), "If-Match": etag})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    body = saved.get_json()
    assert body["texts"]["summary"] == [{"lang": "vi", "value": "Tóm tắt mới."}]
    assert body["texts"]["title"] == created["texts"]["title"]  # members not sent are kept
    assert [t["month"] for t in body["timings"]] == [1]
    assert saved.headers["ETag"] != etag
    again = client.patch(url, json=change, headers={**bearer(secret), "If-Match": etag})
    assert again.status_code == 412  # the old version no longer matches


def test_an_invalid_patch_changes_nothing(client, db, make_token):
    _user, secret = make_token("contributor")
    created = _create(client, secret)
    url = f"/api/v1/records/{created['id']}"
    etag = f'"{created["version"]}"'
    response = client.patch(url, json={"texts": {"title": []}}, headers={**bearer(secret), "If-Match": etag})
    assert response.status_code == 422
    after = client.get(url, headers=bearer(secret))
    assert after.get_json()["texts"]["title"] == created["texts"]["title"]
    assert after.headers["ETag"] == etag


def test_hidden_and_others_records(client, db, make_token, make_record, make_user):
    _user, secret = make_token("contributor")
    private = make_record(access_level="private", created_by=make_user("contributor"))
    hidden = client.patch(
        f"/api/v1/records/{private.public_id}", json={}, headers={**bearer(secret), "If-Match": '"1"'}
    )
    assert hidden.status_code == 404
    assert (
        client.post(f"/api/v1/records/{private.public_id}/submit", headers=bearer(secret)).status_code == 404
    )
    public = make_record()  # published: visible, but not the caller's to edit
    forbidden = client.patch(
        f"/api/v1/records/{public.public_id}", json={}, headers={**bearer(secret), "If-Match": '"1"'}
    )
    assert forbidden.status_code == 403
    assert client.post(f"/api/v1/records/{public.public_id}/media", headers=bearer(secret)).status_code == 403


def test_submit_for_review(client, make_token):
    _user, secret = make_token("contributor")
    created = _create(client, secret)
    url = f"/api/v1/records/{created['id']}/submit"
    submitted = client.post(url, json={"comment": "Xin duyệt."}, headers=bearer(secret))
    assert submitted.status_code == 200, submitted.get_data(as_text=True)
    assert submitted.get_json()["status"] == "in_review"
    again = client.post(url, headers={**bearer(secret), "Accept-Language": "en"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "wrong_state"
    # In review, the contributor may no longer edit it.
    etag = f'"{submitted.get_json()["version"]}"'
    locked = client.patch(
        f"/api/v1/records/{created['id']}", json={}, headers={**bearer(secret), "If-Match": etag}
    )
    assert locked.status_code == 403


def test_upload_media_to_ones_draft(client, db, make_token, tmp_path):
    from archive.media.models import MediaFile
    from tests.media import samples

    _user, secret = make_token("contributor")
    created = _create(client, secret)
    url = f"/api/v1/records/{created['id']}/media"
    picture = samples.png(tmp_path / "anh.png", size=(64 + uuid.uuid4().int % 50, 48)).read_bytes()
    response = client.post(
        url,
        data={"file": (io.BytesIO(picture), "anh.png"), "caption_vi": "Ảnh thử"},
        content_type="multipart/form-data",
        headers=bearer(secret),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["kind"] == "image" and body["caption"] == [{"lang": "vi", "value": "Ảnh thử"}]
    assert db.session.scalar(select(MediaFile).where(MediaFile.public_id == body["id"])) is not None
    listed = client.get(url, headers=bearer(secret)).get_json()
    assert body["id"] in [m["id"] for m in listed["items"]]
    duplicate = client.post(
        url,
        data={"file": (io.BytesIO(picture), "anh.png")},
        content_type="multipart/form-data",
        headers=bearer(secret),
    )
    assert duplicate.status_code == 409 and duplicate.get_json()["error"]["code"] == "duplicate"
    refused = client.post(
        url,
        data={"file": (io.BytesIO(b"MZ not a picture"), "x.png")},
        content_type="multipart/form-data",
        headers=bearer(secret),
    )
    assert refused.status_code in (415, 422) and refused.get_json()["error"]["fields"]["file"]
    nothing = client.post(url, data={}, content_type="multipart/form-data", headers=bearer(secret))
    assert nothing.status_code == 422
