"""Sessions: cookie flags, password changes sign out the other sessions, remember-me cookies follow."""

import datetime as dt
import importlib

from flask_login import login_user

import config
from tests.accounts import EN, STRONG

PASSWORD = "correct horse battery"


def _sign_in(client, email, password=PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


def _change(client, current, new, confirm=None):
    return client.post(
        "/account/password",
        data={"current_password": current, "password": new, "confirm": confirm or new},
        headers=EN,
    )


def _set_cookie(response, name):
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}="))


def test_the_session_cookie_is_httponly_and_samesite(client, app, make_user, monkeypatch):
    user = make_user()
    cookie = _set_cookie(_sign_in(client, user.email), "session")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # the development default: plain HTTP
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    secure = _set_cookie(_sign_in(app.test_client(), user.email), "session")
    assert "; Secure" in secure and "HttpOnly" in secure


def test_cookie_settings_of_the_configurations(monkeypatch):
    assert config.Config.PERMANENT_SESSION_LIFETIME == dt.timedelta(hours=12)
    assert config.Config.SESSION_COOKIE_HTTPONLY and config.Config.REMEMBER_COOKIE_HTTPONLY
    assert config.Config.SESSION_COOKIE_SAMESITE == config.Config.REMEMBER_COOKIE_SAMESITE == "Lax"
    monkeypatch.delenv("ARCHIVE_SECURE_COOKIES", raising=False)
    reloaded = importlib.reload(config)
    try:
        assert reloaded.ProductionConfig.SESSION_COOKIE_SECURE is True
        assert reloaded.ProductionConfig.REMEMBER_COOKIE_SECURE is True
        assert reloaded.Config.SESSION_COOKIE_SECURE is False
        monkeypatch.setenv("ARCHIVE_SECURE_COOKIES", "1")
        reloaded = importlib.reload(config)
        assert (
            reloaded.Config.SESSION_COOKIE_SECURE is True and reloaded.Config.REMEMBER_COOKIE_SECURE is True
        )
    finally:
        monkeypatch.undo()
        importlib.reload(config)


def test_changing_the_password_signs_out_the_other_sessions(app, client, db, make_user):
    user = make_user()
    laptop, phone = client, app.test_client()
    assert _sign_in(laptop, user.email).status_code == 302
    assert _sign_in(phone, user.email).status_code == 302

    wrong = _change(phone, "not my password", STRONG)
    assert wrong.status_code == 400
    assert "Your current password is wrong." in wrong.get_data(as_text=True)
    weak = _change(phone, PASSWORD, "123456789012345")
    assert weak.status_code == 400 and "simple sequence" in weak.get_data(as_text=True)
    assert laptop.get("/vi/account/password").status_code == 200  # nothing changed yet

    changed = _change(phone, PASSWORD, STRONG)
    assert changed.status_code == 302
    page = phone.get("/en/account/password", headers=EN)
    assert page.status_code == 200  # this session stays signed in
    assert "Your other sessions have been signed out." in page.get_data(as_text=True)
    signed_out = laptop.get("/vi/account/password")
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]
    assert _sign_in(app.test_client(), user.email).status_code == 401
    assert _sign_in(app.test_client(), user.email, STRONG).status_code == 302


def test_wrong_current_passwords_count_as_failed_sign_ins(client, db, make_user):
    user = make_user()
    _sign_in(client, user.email)
    statuses = [_change(client, f"guess number {i}", STRONG).status_code for i in range(5)]
    assert statuses == [400] * 5
    locked = _change(client, PASSWORD, STRONG)
    assert locked.status_code == 429 and "Retry-After" in locked.headers
    assert "Too many failed sign-ins." in locked.get_data(as_text=True)
    assert user.check_password(PASSWORD) and not user.check_password(STRONG)


def test_the_password_page_needs_a_signed_in_person(client):
    response = client.get("/vi/account/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_remember_me_cookie_follows_the_session_token(app, db, make_user):
    user = make_user()
    with app.test_request_context("/"):
        login_user(user, remember=True)
        response = app.process_response(app.make_response("signed in"))
    cookie = _set_cookie(response, "remember_token")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    value = cookie.split(";", 1)[0].split("=", 1)[1]

    returning = app.test_client()
    returning.set_cookie("remember_token", value)
    assert returning.get("/vi/account/password").status_code == 200

    user.set_password(STRONG)
    db.session.commit()
    later = app.test_client()
    later.set_cookie("remember_token", value)
    assert later.get("/vi/account/password").status_code == 302


def test_old_style_session_identifiers_are_refused(app, client, make_user):
    user = make_user()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)  # an identifier from before session tokens
        session["_fresh"] = True
    assert client.get("/vi/account/password").status_code == 302
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
    assert client.get("/vi/account/password").status_code == 200
