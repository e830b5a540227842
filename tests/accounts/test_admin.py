"""Administration of accounts: invitations, roles, deactivation; administrators only."""

import socket

import pytest
import sqlalchemy as sa

from archive.accounts.models import AccountToken, User
from tests.accounts import EN, STRONG

PASSWORD = "correct horse battery"


def _user(db, email):
    return db.session.scalar(sa.select(User).where(User.email == email))


def _invite(client, email="mai.lo@example.vn", name="Lò Thị Mai", role="curator", language="en"):
    return client.post(
        "/admin/users",
        data={"email": email, "display_name": name, "role": role, "language": language},
        headers=EN,
    )


def _sign_in(client, email, password):
    return client.post("/login", data={"email": email, "password": password})


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/vi/admin/users")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]
    assert client.post("/admin/users", data={}).status_code == 302


@pytest.mark.parametrize("role", ["researcher", "contributor", "curator"])
def test_other_roles_are_refused(client, db, login, make_user, role):
    login(role)
    other = make_user("researcher")
    assert client.get("/vi/admin/users").status_code == 403
    assert _invite(client).status_code == 403
    assert (
        client.post(
            f"/admin/users/{other.id}/role", data={f"user-{other.id}-role": "administrator"}
        ).status_code
        == 403
    )
    assert client.post(f"/admin/users/{other.id}/deactivate").status_code == 403
    assert _user(db, "mai.lo@example.vn") is None
    db.session.refresh(other)
    assert other.role == "researcher" and other.is_active


def test_administrators_see_every_account_with_role_and_state(client, db, login, make_user):
    admin = login("administrator")
    researcher = make_user("researcher")
    page = client.get("/en/admin/users", headers=EN)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert admin.email in text and researcher.email in text
    assert '<option selected value="researcher">' in text
    assert "Active" in text
    assert "Accounts" in client.get("/en/", headers=EN).get_data(as_text=True)  # the menu link


def test_invitation_end_to_end(app, client, db, login, mailbox):
    login("administrator")
    response = _invite(client)
    assert response.status_code == 302
    assert "An invitation has been sent to mai.lo@example.vn." in client.get(
        "/en/admin/users", headers=EN
    ).get_data(as_text=True)
    invited = _user(db, "mai.lo@example.vn")
    assert invited.role == "curator" and invited.password_hash is None and invited.is_active
    mail = mailbox.messages[-1]
    assert "Subject: Invitation to Heritage Archive" in mail and "with the role “Curator”" in mail
    path = mailbox.last_link("invite")
    token = db.session.scalar(sa.select(AccountToken).where(AccountToken.user_id == invited.id))
    assert token.purpose == "invite" and path.rsplit("/", 1)[1] not in token.token_hash
    assert 6.9 < (token.expires_at - token.created_at).total_seconds() / 86400 <= 7

    person = app.test_client()
    assert _sign_in(person, invited.email, "anything at all").status_code == 401
    welcome = person.get(path, headers=EN)
    assert welcome.status_code == 200 and "Welcome, Lò Thị Mai." in welcome.get_data(as_text=True)
    with_name = person.post(
        path, data={"password": "lò thị mai 1990!", "confirm": "lò thị mai 1990!"}, headers=EN
    )
    assert with_name.status_code == 400
    assert "must not contain your name" in with_name.get_data(as_text=True)
    done = person.post(path, data={"password": STRONG, "confirm": STRONG}, headers=EN)
    assert done.status_code == 302
    assert _sign_in(person, invited.email, STRONG).status_code == 302
    assert person.get(path, headers=EN).status_code == 400  # single use


def test_inviting_an_existing_address_or_a_bad_one_is_refused(client, db, login, make_user, mailbox):
    login("administrator")
    existing = make_user("researcher")
    duplicate = _invite(client, email=existing.email.upper())
    assert duplicate.status_code == 409
    assert f"An account for {existing.email} already exists." in duplicate.get_data(as_text=True)
    bad = _invite(client, email="not-an-address")
    assert bad.status_code == 400
    assert "Enter an email address such as name@example.vn." in bad.get_data(as_text=True)
    unknown_role = _invite(client, role="emperor")
    assert unknown_role.status_code == 400
    assert "Choose one of the listed roles." in unknown_role.get_data(as_text=True)
    assert _user(db, "mai.lo@example.vn") is None
    assert mailbox.links("invite") == []


def test_an_invitation_that_cannot_be_mailed_saves_nothing(app, client, db, login, monkeypatch):
    login("administrator")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 2)
    response = _invite(client)
    assert response.status_code == 503
    assert "could not be sent, so nothing was saved" in response.get_data(as_text=True)
    assert _user(db, "mai.lo@example.vn") is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountToken)) == 0


def test_sending_the_invitation_again_ends_the_first_link(client, db, login, mailbox):
    login("administrator")
    _invite(client)
    invited = _user(db, "mai.lo@example.vn")
    assert client.post(f"/admin/users/{invited.id}/invitation", headers=EN).status_code == 302
    first, second = mailbox.links("invite")
    assert client.get(first, headers=EN).status_code == 400
    assert client.get(second, headers=EN).status_code == 200


def test_roles_change_but_not_ones_own(client, db, login, make_user):
    admin = login("administrator")
    other = make_user("contributor")
    changed = client.post(f"/admin/users/{other.id}/role", data={f"user-{other.id}-role": "curator"})
    assert changed.status_code == 302
    db.session.refresh(other)
    assert other.role == "curator"
    own = client.post(
        f"/admin/users/{admin.id}/role", data={f"user-{admin.id}-role": "researcher"}, headers=EN
    )
    assert own.status_code == 409
    assert "You cannot take away your own administrator role." in own.get_data(as_text=True)
    bogus = client.post(
        f"/admin/users/{other.id}/role", data={f"user-{other.id}-role": "emperor"}, headers=EN
    )
    assert bogus.status_code == 400
    db.session.refresh(admin)
    db.session.refresh(other)
    assert admin.role == "administrator" and other.role == "curator"
    assert client.post("/admin/users/999999/role", data={"user-999999-role": "curator"}).status_code == 404


def test_deactivation_signs_out_and_blocks_until_reactivated(app, client, db, login, make_user):
    admin = login("administrator")
    other = make_user("contributor")
    theirs = app.test_client()
    assert _sign_in(theirs, other.email, PASSWORD).status_code == 302
    assert theirs.get("/vi/account/password").status_code == 200

    assert client.post(f"/admin/users/{other.id}/deactivate").status_code == 302
    assert theirs.get("/vi/account/password").status_code == 302  # signed out
    assert _sign_in(theirs, other.email, PASSWORD).status_code == 401
    assert "Deactivated" in client.get("/en/admin/users", headers=EN).get_data(as_text=True)

    own = client.post(f"/admin/users/{admin.id}/deactivate", headers=EN)
    assert own.status_code == 409
    assert "You cannot deactivate your own account." in own.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.is_active

    assert client.post(f"/admin/users/{other.id}/reactivate").status_code == 302
    assert theirs.get("/vi/account/password").status_code == 302  # the old session stays ended
    assert _sign_in(app.test_client(), other.email, PASSWORD).status_code == 302
