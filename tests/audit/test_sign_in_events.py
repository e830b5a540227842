"""Sign-ins, failed sign-ins, lock-outs and sign-outs are in the audit log, never with a password."""

from __future__ import annotations

from sqlalchemy import select

from archive.audit.models import AuditEvent


def _events(db, action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_sign_in_events_are_logged_without_secrets(app, db, client, make_user):
    user = make_user("researcher")
    assert (
        client.post("/login", data={"email": user.email, "password": "wrong password here"}).status_code
        == 401
    )
    failed = [e for e in _events(db, "login_failed") if user.email in e.summary]
    assert len(failed) == 1 and failed[0].actor_label == user.email
    assert "wrong password" not in str(failed[0].before) + str(failed[0].after) + failed[0].summary

    assert (
        client.post("/login", data={"email": user.email, "password": "correct horse battery"}).status_code
        == 302
    )
    signed_in = [e for e in _events(db, "login") if e.actor_id == user.id]
    assert len(signed_in) == 1
    client.post("/logout")
    assert [e for e in _events(db, "logout") if e.actor_id == user.id]

    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/login", data={"email": user.email, "password": "still wrong, sorry"})
    assert [e for e in _events(db, "login_locked") if user.email in e.summary]
