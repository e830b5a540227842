"""The curators' exhibit admin: permissions, per-field errors, the alt-text and excerpt-time rules,
reordering, stale edits, CSRF and the audit log."""

import re

import pytest
from sqlalchemy import select


def _audit(db, action):
    from archive.audit.models import AuditEvent

    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_anonymous_visitors_are_sent_to_sign_in(client, make_exhibit):
    exhibit = make_exhibit()
    for url in ("/vi/admin/exhibits", "/vi/admin/exhibits/new", f"/vi/admin/exhibits/{exhibit.id}/edit"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"]
    response = client.post(f"/vi/admin/exhibits/{exhibit.id}/delete")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["contributor", "researcher"])
def test_other_roles_are_refused(client, login, make_exhibit, role):
    exhibit = make_exhibit()
    login(role)
    assert client.get("/vi/admin/exhibits").status_code == 403
    assert client.get(f"/vi/admin/exhibits/{exhibit.id}/edit").status_code == 403
    response = client.post("/vi/admin/exhibits/new", data={"slug": "x-y", "title_vi": "Tên"})
    assert response.status_code == 403
    assert client.post(f"/vi/admin/exhibits/{exhibit.id}/delete").status_code == 403


def test_curator_creates_an_exhibit_and_it_is_audited(client, login, db):
    from archive.exhibits.models import Exhibit

    curator = login("curator")
    response = client.post(
        "/vi/admin/exhibits/new",
        data={
            "slug": "gong-culture",
            "title_vi": "Văn hóa cồng chiêng",
            "title_en": "Gong culture",
            "introduction_vi": "Giới thiệu",
            "status": "draft",
            "position": "3",
        },
    )
    assert response.status_code == 303
    exhibit = db.session.scalar(select(Exhibit).where(Exhibit.slug == "gong-culture"))
    assert exhibit.status == "draft" and exhibit.position == 3 and exhibit.created_by_id == curator.id
    assert [v.value for v in exhibit.title_values] == ["Văn hóa cồng chiêng", "Gong culture"]
    events = [e for e in _audit(db, "exhibit_created") if e.object_id == str(exhibit.id)]
    assert len(events) == 1 and events[0].actor_id == curator.id
    listing = client.get("/vi/admin/exhibits").get_data(as_text=True)
    assert "Văn hóa cồng chiêng" in listing and "gong-culture" in listing


def test_bad_exhibit_form_answers_400_with_messages_and_keeps_input(client, login, make_exhibit):
    taken = make_exhibit()
    login("curator")
    response = client.post(
        "/en/admin/exhibits/new",
        data={"slug": "Not A Slug!", "title_en": "Only English title", "cover": "nope", "position": "x"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Give the exhibit a title in Vietnamese." in page
    assert "Use lowercase letters" in page
    assert "There is no media file with this identifier." in page
    assert 'value="Only English title"' in page
    assert 'aria-invalid="true"' in page
    response = client.post("/en/admin/exhibits/new", data={"slug": taken.slug, "title_vi": "Tên"})
    assert response.status_code == 400
    assert "Another exhibit already uses this address." in response.get_data(as_text=True)


def test_image_section_requires_vietnamese_alt_text(client, login, make_exhibit, demo_media, db):
    exhibit = make_exhibit()
    image = demo_media["image"][0]
    login("curator")
    url = f"/en/admin/exhibits/{exhibit.id}/sections/new"
    data = {
        "kind": "image",
        "media": image.public_id,
        "alt_en": "Only English alt",
        "version_id": str(exhibit.version_id),
    }
    refused = client.post(url, data=data)
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Describe the image for people who cannot see it, at least in Vietnamese." in page
    assert 'value="Only English alt"' in page
    db.session.expire_all()
    assert exhibit.sections == []

    bad_region = client.post(url, data=dict(data, alt_vi="Ảnh", region="0,0,99999,10"))
    assert bad_region.status_code == 400
    assert "The region must lie inside the image" in bad_region.get_data(as_text=True)
    not_image = client.post(url, data=dict(data, alt_vi="Ảnh", media=demo_media["audio"][0].public_id))
    assert not_image.status_code == 400

    accepted = client.post(url, data=dict(data, alt_vi="Quả còn trên cây nêu", region="10,10,200,100"))
    assert accepted.status_code == 303
    db.session.expire_all()
    [section] = exhibit.sections
    assert section.kind == "image" and section.region == "10,10,200,100"
    assert {v.lang for v in section.alt_values} == {"vi", "en"}
    assert any(e.object_id == str(exhibit.id) for e in _audit(db, "exhibit_section_added"))


def test_excerpt_times_are_checked_against_the_recording(client, login, make_exhibit, demo_media, db):
    exhibit = make_exhibit()
    audio = next(m for m in demo_media["audio"] if m.duration_seconds)
    login("curator")
    url = f"/en/admin/exhibits/{exhibit.id}/sections/new"
    base = {"kind": "excerpt", "media": audio.public_id, "version_id": str(exhibit.version_id)}
    cases = [
        ({"start": "2", "end": "1"}, "The start must be before the end."),
        ({"start": "1", "end": "1"}, "The start must be before the end."),
        ({"start": "-1", "end": "1"}, "Enter a time in seconds"),
        ({"start": "abc", "end": "1"}, "Enter a time in seconds"),
        (
            {"start": "0", "end": str(int(audio.duration_seconds) + 5)},
            "must not be after the end of the recording",
        ),
        (
            {"start": "0", "end": "1", "media": demo_media["image"][0].public_id},
            "Choose an audio or video file",
        ),
    ]
    for fields, message in cases:
        response = client.post(url, data=dict(base, **fields))
        assert response.status_code == 400, fields
        assert message in response.get_data(as_text=True), fields
    accepted = client.post(url, data=dict(base, start="0:01", end="2"))
    assert accepted.status_code == 303
    db.session.expire_all()
    [section] = exhibit.sections
    assert (section.start_seconds, section.end_seconds) == (1.0, 2.0)


def test_records_section_refuses_unknown_records(client, login, make_exhibit, make_record, db):
    exhibit = make_exhibit()
    record = make_record()
    login("curator")
    url = f"/en/admin/exhibits/{exhibit.id}/sections/new"
    base = {"kind": "records", "version_id": str(exhibit.version_id)}
    empty = client.post(url, data=base)
    assert empty.status_code == 400 and "Choose at least one record." in empty.get_data(as_text=True)
    unknown = client.post(
        url, data=dict(base, **{"item-0-record": "ZZZ-NOPE", "item-1-record": record.public_id})
    )
    assert unknown.status_code == 400
    page = unknown.get_data(as_text=True)
    assert "There is no record with this identifier." in page and record.public_id in page
    ok = client.post(url, data=dict(base, **{"item-0-record": record.public_id, "item-0-note_vi": "Ghi chú"}))
    assert ok.status_code == 303
    db.session.expire_all()
    assert exhibit.sections[0].items[0].record_id == record.id


def _section_order(exhibit, db):
    db.session.expire_all()
    return [s.body_values[0].value for s in exhibit.sections]


def test_sections_move_up_and_down_and_are_deleted(client, login, make_exhibit, db):
    exhibit = make_exhibit(
        sections=[{"kind": "narrative", "body": [{"lang": "vi", "value": t}]} for t in ("A", "B", "C")]
    )
    login("curator")
    first, second, third = exhibit.sections
    move = f"/vi/admin/exhibits/{exhibit.id}/sections/{third.id}/move"
    assert client.post(move, data={"direction": "up", "version_id": exhibit.version_id}).status_code == 303
    assert _section_order(exhibit, db) == ["A", "C", "B"]
    move = f"/vi/admin/exhibits/{exhibit.id}/sections/{first.id}/move"
    assert client.post(move, data={"direction": "down", "version_id": exhibit.version_id}).status_code == 303
    assert _section_order(exhibit, db) == ["C", "A", "B"]
    assert (
        client.post(move, data={"direction": "sideways", "version_id": exhibit.version_id}).status_code == 400
    )
    page = client.get(f"/vi/exhibits/{exhibit.slug}").get_data(as_text=True)
    assert page.index(">C<") < page.index(">A<") < page.index(">B<")
    delete = f"/vi/admin/exhibits/{exhibit.id}/sections/{second.id}/delete"
    assert client.post(delete, data={"version_id": exhibit.version_id}).status_code == 303
    assert _section_order(exhibit, db) == ["C", "A"]
    actions = {e.action for e in _audit(db, "exhibit_section_moved") + _audit(db, "exhibit_section_deleted")
               if e.object_id == str(exhibit.id)}  # fmt: skip
    assert actions == {"exhibit_section_moved", "exhibit_section_deleted"}


def test_a_stale_edit_gets_409_and_keeps_what_was_typed(client, login, make_exhibit, db):
    exhibit = make_exhibit(sections=[{"kind": "narrative", "body": [{"lang": "vi", "value": "A"}]}])
    login("curator")
    opened = exhibit.version_id
    form = client.get(f"/vi/admin/exhibits/{exhibit.id}/edit").get_data(as_text=True)
    assert re.search(rf'name="version_id" value="{opened}"', form)
    # Someone else saves first...
    first = client.post(f"/vi/admin/exhibits/{exhibit.id}/edit",
                        data={"slug": exhibit.slug, "title_vi": "Tên mới", "version_id": opened})  # fmt: skip
    assert first.status_code == 303
    # ...so the form opened before is refused, with its text kept.
    mine = {"slug": exhibit.slug, "title_vi": "Tên cũ tôi", "version_id": opened}
    stale = client.post(f"/vi/admin/exhibits/{exhibit.id}/edit", data=mine)
    assert stale.status_code == 409
    assert 'value="Tên cũ tôi"' in stale.get_data(as_text=True)
    db.session.expire_all()
    assert exhibit.title_values[0].value == "Tên mới"
    section = exhibit.sections[0]
    stale_section = client.post(f"/vi/admin/exhibits/{exhibit.id}/sections/{section.id}/edit",
                                data={"body_vi": "B", "version_id": opened})  # fmt: skip
    assert stale_section.status_code == 409
    stale_move = client.post(f"/vi/admin/exhibits/{exhibit.id}/sections/{section.id}/delete",
                             data={"version_id": opened})  # fmt: skip
    assert stale_move.status_code == 409
    db.session.expire_all()
    assert [s.body_values[0].value for s in exhibit.sections] == ["A"]


def test_admin_forms_need_a_csrf_token(client, app, login, make_exhibit, monkeypatch):
    exhibit = make_exhibit(sections=[{"kind": "narrative", "body": [{"lang": "vi", "value": "A"}]}])
    login("curator")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    data = {"slug": exhibit.slug, "title_vi": "Tên", "version_id": exhibit.version_id}
    assert client.post(f"/vi/admin/exhibits/{exhibit.id}/edit", data=data).status_code == 400
    page = client.get(f"/vi/admin/exhibits/{exhibit.id}/edit").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert (
        client.post(f"/vi/admin/exhibits/{exhibit.id}/edit", data=dict(data, csrf_token=token)).status_code
        == 303
    )


def test_deleting_needs_the_version_the_curator_saw(client, login, make_exhibit, db):
    from archive.exhibits.models import Exhibit

    exhibit = make_exhibit(sections=[{"kind": "narrative", "body": [{"lang": "vi", "value": "A"}]}])
    login("curator")
    section = exhibit.sections[0]
    assert client.post(f"/vi/admin/exhibits/{exhibit.id}/sections/{section.id}/delete").status_code == 409
    assert client.post(f"/vi/admin/exhibits/{exhibit.id}/delete").status_code == 409
    db.session.expire_all()
    assert db.session.get(Exhibit, exhibit.id) is not None and len(exhibit.sections) == 1
    response = client.post(f"/vi/admin/exhibits/{exhibit.id}/delete", data={"version_id": exhibit.version_id})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Exhibit, exhibit.id) is None
