"""Password reset by mailed, expiring, single-use links (the log mail backend)."""

import datetime as dt
import hashlib

import sqlalchemy as sa

from archive.accounts.models import AccountToken
from tests.accounts import EN, STRONG, STRONGER

OLD = "correct horse battery"


def _ask(client, email):
    return client.post("/password/forgot", data={"email": email}, headers=EN)


def _reset(client, path, password, confirm=None):
    return client.post(path, data={"password": password, "confirm": confirm or password}, headers=EN)


def _sign_in(client, email, password):
    return client.post("/login", data={"email": email, "password": password})


def test_the_login_page_links_to_the_reset_form(client):
    page = client.get("/en/login", headers=EN).get_data(as_text=True)
    assert 'href="/en/password/forgot"' in page
    assert client.get("/en/password/forgot", headers=EN).status_code == 200


def test_reset_end_to_end_and_the_link_works_once(client, db, make_user, mailbox):
    user = make_user()
    answer = _ask(client, user.email.upper())
    assert answer.status_code == 200
    assert "If an active account has this address" in answer.get_data(as_text=True)
    path = mailbox.last_link("password/reset")
    mail = mailbox.messages[-1]
    assert f"To: {user.email}" in mail and "Someone, probably you, asked to reset" in mail
    assert "within 60 minutes" in mail

    # Only the hash of the secret is stored.
    secret = path.rsplit("/", 1)[1]
    token = db.session.scalar(sa.select(AccountToken).where(AccountToken.user_id == user.id))
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.purpose == "reset" and token.used_at is None
    assert dt.timedelta(minutes=59) < token.expires_at - token.created_at <= dt.timedelta(minutes=60)

    form = client.get(path, headers=EN)
    assert form.status_code == 200
    assert form.headers["Cache-Control"] == "no-store"
    assert f"Choose a new password for the account {user.email}" in form.get_data(as_text=True)

    weak = _reset(client, path, "abcdefghijklmnop")
    assert weak.status_code == 400
    assert "simple sequence" in weak.get_data(as_text=True)
    mismatch = _reset(client, path, STRONG, STRONGER)
    assert mismatch.status_code == 400
    assert "The two passwords are not the same." in mismatch.get_data(as_text=True)
    db.session.expire_all()
    assert token.used_at is None and user.check_password(OLD)  # nothing half-saved

    done = _reset(client, path, STRONG)
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert "Your password has been changed." in client.get("/en/login", headers=EN).get_data(as_text=True)
    assert _sign_in(client, user.email, OLD).status_code == 401
    assert _sign_in(client, user.email, STRONG).status_code == 302

    again = client.get(path, headers=EN)
    assert again.status_code == 400
    assert "This link has already been used." in again.get_data(as_text=True)
    assert _reset(client, path, STRONGER).status_code == 400
    db.session.expire_all()
    assert user.check_password(STRONG)


def test_unknown_addresses_get_the_same_answer_and_no_mail(client, make_user, mailbox):
    user = make_user()
    known = _ask(client, user.email)
    unknown = _ask(client, "no-account@example.vn")
    assert unknown.status_code == known.status_code == 200
    assert unknown.get_data() == known.get_data()
    assert len(mailbox.links("password/reset")) == 1
    assert "no-account@example.vn" not in " ".join(mailbox.messages)


def test_no_mail_for_deactivated_accounts(client, db, make_user, mailbox):
    user = make_user()
    user.is_active = False
    db.session.commit()
    assert _ask(client, user.email).status_code == 200
    assert mailbox.links("password/reset") == []


def test_an_expired_link_is_refused(client, db, make_user, mailbox):
    user = make_user()
    _ask(client, user.email)
    path = mailbox.last_link("password/reset")
    for token in db.session.scalars(sa.select(AccountToken).where(AccountToken.user_id == user.id)):
        # Mailed 61 minutes ago: its hour ended a minute ago.
        token.created_at -= dt.timedelta(minutes=61)
        token.expires_at = token.created_at + dt.timedelta(minutes=60)
    db.session.commit()
    response = client.get(path, headers=EN)
    assert response.status_code == 400
    assert "This link has expired." in response.get_data(as_text=True)
    assert _reset(client, path, STRONG).status_code == 400
    db.session.expire_all()
    assert user.check_password(OLD)


def test_a_new_request_ends_the_older_links(client, db, make_user, mailbox):
    user = make_user()
    _ask(client, user.email)
    _ask(client, user.email)
    first, second = mailbox.links("password/reset")
    assert first != second
    assert client.get(first, headers=EN).status_code == 400
    assert _reset(client, first, STRONG).status_code == 400
    assert _reset(client, second, STRONG).status_code == 302


def test_unknown_links_are_not_found(client):
    response = client.get("/en/password/reset/not-a-real-token", headers=EN)
    assert response.status_code == 404
    assert "This link is not valid." in response.get_data(as_text=True)
    assert _reset(client, "/password/reset/not-a-real-token", STRONG).status_code == 404


def test_the_reset_mail_speaks_the_language_of_the_request(client, make_user, mailbox):
    user = make_user()
    client.post("/password/forgot", data={"email": user.email})  # Vietnamese, the default
    assert "Kho Di sản" in mailbox.messages[-1] and "Heritage Archive" not in mailbox.messages[-1]
    client.post("/password/forgot?lang=en", data={"email": user.email})
    assert "Subject: Choose a new password for Heritage Archive" in mailbox.messages[-1]


def test_a_bad_address_is_a_clear_400(client):
    response = client.post("/password/forgot", data={"email": "not an address"}, headers=EN)
    assert response.status_code == 400
    assert "Enter an email address such as name@example.vn." in response.get_data(as_text=True)


def test_reset_links_are_limited_per_account_and_hour(client, app, make_user, mailbox):
    user = make_user()
    limit = app.config["PASSWORD_RESET_MAX_PER_HOUR"]
    for _ in range(limit + 2):
        response = _ask(client, user.email)
        assert response.status_code == 200  # the same neutral answer every time
    assert len(mailbox.links("password/reset")) == limit
