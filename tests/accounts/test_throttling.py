"""Sign-in throttling: lock-out per email address (also unknown ones), 429 per IP address, unlocking."""

import datetime as dt

import sqlalchemy as sa

from archive.accounts.models import LoginFailure, User
from tests.accounts import EN

PASSWORD = "correct horse battery"  # the make_user fixture's password


def _sign_in(client, email, password, ip="192.0.2.10"):
    return client.post(
        "/login", data={"email": email, "password": password}, headers=EN, environ_base={"REMOTE_ADDR": ip}
    )


def _failures(db, email_key):
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(LoginFailure).where(LoginFailure.email_key == email_key)
    )


def _age_failures(db, minutes):
    """Move every stored failure *minutes* into the past (instead of waiting)."""
    for failure in db.session.scalars(sa.select(LoginFailure)):
        failure.at -= dt.timedelta(minutes=minutes)
    db.session.commit()


def test_five_failures_lock_the_address_and_the_password_is_not_even_checked(
    client, db, make_user, monkeypatch
):
    user = make_user()
    for _attempt in range(4):
        assert _sign_in(client, user.email, "not the password").status_code == 401
    fifth = _sign_in(client, user.email, "not the password")
    assert fifth.status_code == 429
    assert "Too many failed sign-ins. Try again in 15 minutes." in fifth.get_data(as_text=True)
    assert 14 * 60 < int(fifth.headers["Retry-After"]) <= 15 * 60

    checked = []
    monkeypatch.setattr(User, "check_password", lambda self, password: checked.append(password) or True)
    locked = _sign_in(client, user.email, PASSWORD)
    assert locked.status_code == 429
    assert "Retry-After" in locked.headers
    assert checked == []
    assert client.get("/vi/account/password").status_code == 302  # not signed in


def test_unknown_addresses_are_locked_the_same_way(client, db):
    statuses = [_sign_in(client, "Nobody.Here@Example.vn", f"guess {i}").status_code for i in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    # The address is compared in lower case, as accounts are.
    assert _failures(db, "nobody.here@example.vn") == 5
    again = _sign_in(client, "nobody.here@example.VN", "guess 6")
    assert again.status_code == 429
    assert "Too many failed sign-ins" in again.get_data(as_text=True)


def test_the_lock_ends_after_the_window_and_success_clears_the_failures(client, db, make_user):
    user = make_user()
    for _attempt in range(5):
        _sign_in(client, user.email, "wrong wrong wrong")
    assert _sign_in(client, user.email, PASSWORD).status_code == 429
    _age_failures(db, 14)
    still = _sign_in(client, user.email, PASSWORD)
    assert still.status_code == 429
    assert "Try again in 1 minute." in still.get_data(as_text=True)
    _age_failures(db, 2)  # 16 minutes after the last failure
    assert _sign_in(client, user.email, PASSWORD).status_code == 302
    assert _failures(db, user.email.lower()) == 0
    # Old failures were pruned, and four new ones do not lock again.
    client.post("/logout")
    assert [_sign_in(client, user.email, "nope nope nope").status_code for _ in range(4)] == [401] * 4
    assert _sign_in(client, user.email, PASSWORD).status_code == 302


def test_failures_before_a_success_do_not_add_up(client, db, make_user):
    user = make_user()
    for _attempt in range(4):
        _sign_in(client, user.email, "wrong wrong wrong")
    assert _sign_in(client, user.email, PASSWORD).status_code == 302
    client.post("/logout")
    for _attempt in range(4):
        assert _sign_in(client, user.email, "wrong wrong wrong").status_code == 401


def test_one_ip_address_is_refused_after_too_many_failures(client, app, db, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_IP", 3)
    user = make_user()
    attacker = "203.0.113.9"
    assert _sign_in(client, "a@example.vn", "guess guess", attacker).status_code == 401
    assert _sign_in(client, "b@example.vn", "guess guess", attacker).status_code == 401
    third = _sign_in(client, "c@example.vn", "guess guess", attacker)
    assert third.status_code == 429
    refused = _sign_in(client, user.email, PASSWORD, attacker)
    assert refused.status_code == 429
    assert 14 * 60 < int(refused.headers["Retry-After"]) <= 15 * 60
    # The same person from another address is not affected.
    assert _sign_in(client, user.email, PASSWORD, "198.51.100.7").status_code == 302


def test_inactive_accounts_fail_like_wrong_passwords(client, db, make_user):
    user = make_user()
    user.is_active = False
    db.session.commit()
    response = _sign_in(client, user.email, PASSWORD)
    assert response.status_code == 401
    assert "The email or password is wrong." in response.get_data(as_text=True)
    assert _failures(db, user.email.lower()) == 1
