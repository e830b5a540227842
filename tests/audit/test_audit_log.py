"""Every change to the audited models is logged with who, when, before and after; the log is append-only
in the ORM and in the database itself (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import io
import json

import click
import pytest
import sqlalchemy as sa
from flask_login import login_user

from archive.audit import AuditEvent, AuditLogIsAppendOnly, acting_as, current_actor, record
from archive.media.models import MediaFile
from archive.records.models import HeritageRecord, RecordText
from archive.records.services import create_record
from metadata.csv_records import RecordInput
from metadata.model import DocDate
from tests.media import samples


def _events(db, object_type: str, object_id, action: str | None = None) -> list[AuditEvent]:
    stmt = sa.select(AuditEvent).where(
        AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id)
    )
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return list(db.session.scalars(stmt.order_by(AuditEvent.id)))


def _input(title: str, **fields) -> RecordInput:
    return RecordInput.titled(title, ethnic_groups=["tay"], places=["pre2025-p06"], **fields)


def test_creating_a_record_logs_the_record_and_its_parts_with_the_signed_in_actor(app, db, make_user):
    curator = make_user("curator")
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "203.0.113.7"}):
        login_user(curator)
        created = create_record(
            _input("Lễ hội thử nghiệm nhật ký", dates=[DocDate("held", dt.date(2024, 2, 10))]), actor=curator
        )
        db.session.flush()

    [event] = _events(db, "heritage_record", created.id)
    assert event.action == "create"
    assert (event.actor_id, event.actor_label, event.ip) == (curator.id, curator.email, "203.0.113.7")
    assert event.before is None
    assert event.after["public_id"] == created.public_id
    assert event.after["status"] == "published" and event.after["category"] == "festival"
    assert event.after["ethnic_groups"] == ["tay"] and event.after["places"] == ["pre2025-p06"]
    assert "version_id" not in event.after and "updated_at" not in event.after
    assert created.public_id in event.summary
    assert event.at <= dt.datetime.now(dt.UTC) and event.at.tzinfo is not None

    [text] = created.texts
    [text_event] = _events(db, "record_text", text.id)
    assert text_event.after["value"] == "Lễ hội thử nghiệm nhật ký" and text_event.actor_id == curator.id
    [date] = created.dates
    [date_event] = _events(db, "documented_date", date.id)
    assert date_event.after["start"] == "2024-02-10"  # dates as ISO 8601 in the JSON


def test_an_edit_logs_only_the_changed_fields_before_and_after(app, db, make_user, make_record):
    from archive.vocab.services import find_ethnic_group

    editor = make_user("curator")
    nung = find_ethnic_group("nung")
    created = make_record(title="Bản ghi sẽ được sửa")  # committed: every attribute is expired now
    [text] = created.texts
    db.session.expire(created)
    # One flush, as a form handler would do it (a lazy load in between would autoflush a first part).
    with app.test_request_context("/"), db.session.no_autoflush:
        login_user(editor)
        created.status = "withdrawn"
        created.access_level = "researchers"
        created.category = created.category  # set to the same value: not a change
        text.value = "Tên đã sửa"
        created.ethnic_groups = [nung]
        db.session.flush()

    [update] = _events(db, "heritage_record", created.id, "update")
    assert update.before == {
        "status": "published",
        "access_level": "public",
        "ethnic_groups": ["tay"],
    }
    assert update.after == {
        "status": "withdrawn",
        "access_level": "researchers",
        "ethnic_groups": ["nung"],
    }
    assert update.actor_label == editor.email
    [text_update] = _events(db, "record_text", text.id, "update")
    assert text_update.before == {"value": "Bản ghi sẽ được sửa"}
    assert text_update.after == {"value": "Tên đã sửa"}


def test_deleting_a_record_logs_its_last_values_and_those_of_its_parts(app, db, make_user, make_record):
    created = make_record(title="Bản ghi sẽ bị xoá")
    record_id, public_id, text_id = created.id, created.public_id, created.texts[0].id
    db.session.expire_all()
    with acting_as("cli"):
        db.session.delete(db.session.get(HeritageRecord, record_id))
        db.session.flush()

    [deleted] = _events(db, "heritage_record", record_id, "delete")
    assert deleted.after is None and deleted.actor_label == "cli" and deleted.actor_id is None
    assert deleted.before["public_id"] == public_id and deleted.before["ethnic_groups"] == ["tay"]
    [text_deleted] = _events(db, "record_text", text_id, "delete")
    assert text_deleted.before["value"] == "Bản ghi sẽ bị xoá"
    assert text_deleted.before["record_id"] == record_id


def test_removing_a_part_from_a_record_logs_its_deletion(db, make_record):
    created = make_record()
    created.texts.append(RecordText(field="alternative", lang="en", value="Another name", position=0))
    db.session.commit()
    [extra] = [t for t in created.texts if t.field == "alternative"]
    extra_id = extra.id
    created.texts.remove(extra)  # an orphan: deleted by the unit of work, not by session.delete()
    db.session.flush()
    [event] = _events(db, "record_text", extra_id, "delete")
    assert event.before["value"] == "Another name" and event.actor_label == "system"


def test_a_password_change_is_logged_without_the_hash(app, db, make_user):
    user = make_user("researcher")
    old_hash = user.password_hash
    [created] = _events(db, "user_account", user.id, "create")
    assert created.after["password_hash"] == "***" and created.after["email"] == user.email
    with app.test_request_context("/"):
        login_user(user)
        user.set_password("a new and long passphrase")
        db.session.flush()
    new_hash = user.password_hash
    [update] = _events(db, "user_account", user.id, "update")
    assert update.before["password_hash"] == "***" and update.after["password_hash"] == "***changed***"
    assert update.actor_id == user.id
    stored = json.dumps([update.before, update.after, created.after])
    assert old_hash not in stored and new_hash not in stored
    assert "scrypt" not in stored


def test_actor_outside_a_request_is_the_cli_or_the_system(app):
    with app.app_context():
        assert current_actor().label == "system"
        with click.Context(click.Command("import-csv")):
            assert current_actor().label == "cli"
        with acting_as("worker"):
            assert current_actor().label == "worker"
    with app.test_request_context("/"):
        assert current_actor().label == "anonymous"


def test_named_events_are_recorded_in_the_same_transaction(app, db, make_user):
    user = make_user("contributor")
    with app.test_request_context("/login", environ_base={"REMOTE_ADDR": "198.51.100.4"}):
        record("login", "user_account", user.id, "signed in", actor=user)
        record("login_failed", "user_account", None, "wrong password for someone@example.vn")
    db.session.flush()
    [login] = _events(db, "user_account", user.id, "login")
    assert (login.actor_id, login.actor_label, login.ip, login.summary) == (
        user.id, user.email, "198.51.100.4", "signed in"
    )  # fmt: skip
    failed = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "login_failed"))
    assert failed.actor_label == "anonymous" and failed.object_id is None
    db.session.rollback()  # nothing of a rolled-back transaction stays in the log
    assert _events(db, "user_account", user.id, "login") == []


def test_an_upload_through_the_web_form_is_logged_with_its_uploader(client, db, login, make_record, tmp_path):
    user = login("contributor")
    own = make_record(title="Bản ghi có ảnh", created_by=user)
    path = samples.jpeg(tmp_path / "audit.jpg", size=(300, 200))
    response = client.post(
        f"/records/{own.public_id}/media",
        data={"files": [(io.BytesIO(path.read_bytes()), "audit.jpg")], "caption_vi": "Ảnh thử"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    media = db.session.scalar(sa.select(MediaFile).where(MediaFile.record_id == own.id))
    events = _events(db, "media_file", media.id)
    assert [e.action for e in events] == ["create"]  # processing state changes are not logged
    assert events[0].actor_id == user.id and events[0].after["original_filename"] == "audit.jpg"
    assert events[0].after["caption"] == [{"lang": "vi", "value": "Ảnh thử"}]
    assert "state" not in events[0].after and "claimed_by" not in events[0].after


def test_the_orm_refuses_to_change_or_remove_an_entry(db):
    entry = record("note", "heritage_record", 1, "an entry")
    db.session.commit()
    entry.summary = "rewritten"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(entry)
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(AuditEvent, entry.id).summary == "an entry"


def test_the_database_refuses_to_change_or_remove_an_entry(db):
    entry = record("note", "heritage_record", 1, "kept for good")
    db.session.commit()
    statements = [
        ("UPDATE audit_event SET summary = 'tampered' WHERE id = :id", {"id": entry.id}),
        ("DELETE FROM audit_event WHERE id = :id", {"id": entry.id}),
        ("DELETE FROM audit_event", {}),
    ]
    if db.session.get_bind().dialect.name == "postgresql":
        statements.append(("TRUNCATE audit_event", {}))
    for sql, params in statements:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with db.session.begin_nested():
                db.session.execute(sa.text(sql), params)
    db.session.expire_all()
    kept = db.session.scalar(sa.select(AuditEvent.summary).where(AuditEvent.id == entry.id))
    assert kept == "kept for good"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) > 1
