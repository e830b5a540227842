"""The review workflow: who may move a record where, comments, notifications, revisions, diff, restore."""

from __future__ import annotations

import logging
import uuid

import pytest
from sqlalchemy import select

from archive.audit.models import AuditEvent
from archive.core.types import utcnow
from archive.records.services import update_record
from archive.workflow import services
from archive.workflow.models import Notification, RecordRevision, WorkflowEvent
from metadata.csv_records import RecordInput
from metadata.languages import LangString


@pytest.fixture
def people(make_user):
    return {
        "owner": make_user("contributor"),
        "other": make_user("contributor"),
        "curator": make_user("curator"),
        "researcher": make_user("researcher"),
    }


def test_draft_to_published_through_review_with_a_return(app, db, client, make_record, people, caplog):
    owner, curator = people["owner"], people["curator"]
    started = utcnow()
    word = "zq" + uuid.uuid4().hex[:8]
    record = make_record(title=f"Lễ hội {word}", status="draft", created_by=owner)
    assert client.get(f"/vi/records/{record.public_id}").status_code == 404  # visitors never see drafts

    with pytest.raises(services.WorkflowError) as refused:
        services.transition(record, "publish", owner)
    assert refused.value.status == 403
    with pytest.raises(services.WorkflowError):
        services.transition(record, "submit", people["other"])

    caplog.set_level(logging.INFO, logger="archive.mail")
    services.transition(record, "submit", owner)
    db.session.commit()
    assert record.status == "in_review"
    told = db.session.scalars(select(Notification).where(Notification.record_id == record.id)).all()
    assert curator.id in {n.user_id for n in told}
    assert curator.email in caplog.text  # the development mail backend writes the message to the log

    with pytest.raises(services.WorkflowError) as no_comment:
        services.transition(record, "return", curator, "  ")
    assert no_comment.value.code == "comment_required"
    services.transition(record, "return", curator, "Thiếu tên người chủ lễ.")
    db.session.commit()
    assert record.status == "returned"
    note = db.session.scalar(
        select(Notification).where(Notification.user_id == owner.id, Notification.kind == "returned")
    )
    assert note is not None and "Lễ hội" in services.notice_text(note)

    services.transition(record, "submit", owner)
    services.transition(record, "publish", curator)
    db.session.commit()
    assert record.status == "published" and record.published_at is not None
    assert word in client.get(f"/vi/records/{record.public_id}/{record.slug}").get_data(as_text=True)

    events = db.session.scalars(
        select(WorkflowEvent).where(WorkflowEvent.record_id == record.id).order_by(WorkflowEvent.id)
    ).all()
    assert [(e.from_status, e.to_status) for e in events] == [
        ("draft", "in_review"),
        ("in_review", "returned"),
        ("returned", "in_review"),
        ("in_review", "published"),
    ]
    assert events[1].comment == "Thiếu tên người chủ lễ."
    # Each transition is in the audit log. (Ids can repeat across tests that commit, so match this test's
    # events by id and time.)
    logged = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.object_type == "workflow_event",
            AuditEvent.action == "create",
            AuditEvent.object_id.in_([str(e.id) for e in events]),
            AuditEvent.at >= started,
        )
    ).all()
    assert sorted((e.after["from_status"], e.after["to_status"]) for e in logged) == sorted(
        (e.from_status, e.to_status) for e in events
    )


def test_withdrawn_record_answers_410_and_leaves_search(app, db, client, make_record, people):
    word = "zq" + uuid.uuid4().hex[:8]
    record = make_record(title=f"Hát Then {word}")
    assert client.get(f"/search.json?q={word}").get_json()["total"] == 1
    services.transition(record, "withdraw", people["curator"], "Cộng đồng yêu cầu gỡ.")
    db.session.commit()
    response = client.get(f"/vi/records/{record.public_id}")
    assert response.status_code == 410 and word not in response.get_data(as_text=True)
    assert client.get(f"/records/{record.public_id}/record.csv").status_code == 410
    assert client.get(f"/search.json?q={word}").get_json()["total"] == 0
    with pytest.raises(services.WorkflowError) as again:
        services.transition(record, "publish", people["curator"])
    assert again.value.status == 409


def test_every_save_makes_a_revision_and_curators_see_a_readable_diff(app, db, client, make_record, people):
    owner, curator = people["owner"], people["curator"]
    record = make_record(title="Lễ hội Lồng Tồng bản Cải", status="draft", created_by=owner)
    data = RecordInput.titled("Lễ hội Lồng Tồng bản Cải Mới", status="draft", ethnic_groups=["tay"])
    data.texts["summary"] = [LangString("Lễ xuống đồng của người Tày.", "vi")]
    update_record(record, data, owner)
    services.capture_revision(record, owner, "edited")
    db.session.commit()
    numbers = [r.number for r in services.revisions(record)]
    assert numbers == [2, 1]

    client.post("/login", data={"email": curator.email, "password": "correct horse battery"})
    page = client.get(f"/vi/records/{record.public_id}/history/2").get_data(as_text=True)
    assert "<ins>Mới</ins>" in page
    assert "summary@vi" in page and "<ins>Lễ xuống đồng của người Tày.</ins>" in page

    response = client.post(f"/records/{record.public_id}/history/1/restore")
    assert response.status_code == 303
    db.session.expire_all()
    assert [v.value for v in record.values("title")] == ["Lễ hội Lồng Tồng bản Cải"]
    assert record.values("summary") == []
    latest = services.revisions(record)[0]
    assert latest.number == 3 and latest.reason == "restored from 1"


def test_history_is_for_curators_and_the_owner_and_restore_for_curators(app, db, client, make_record, people):
    record = make_record(title="Lễ cúng rừng", status="draft", created_by=people["owner"])
    url = f"/vi/records/{record.public_id}/history"
    assert client.get(url).status_code == 302  # sign in first
    client.post("/login", data={"email": people["other"].email, "password": "correct horse battery"})
    assert client.get(url).status_code == 403
    client.post("/logout")
    client.post("/login", data={"email": people["owner"].email, "password": "correct horse battery"})
    assert client.get(url).status_code == 200
    before = db.session.scalar(select(db.func.count()).select_from(RecordRevision))
    client.post(f"{url}/1/restore")
    assert db.session.scalar(select(db.func.count()).select_from(RecordRevision)) == before
    assert client.get(f"{url}/99").status_code == 404
