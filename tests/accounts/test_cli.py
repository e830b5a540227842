"""``archive create-admin``: create or promote an administrator, with the password rules."""

import sqlalchemy as sa

from archive.accounts.models import User
from tests.accounts import STRONG, STRONGER


def _user(db, email):
    return db.session.scalar(sa.select(User).where(User.email == email))


def _create_admin(runner, *args, password=None, **kwargs):
    env = {"ARCHIVE_ADMIN_PASSWORD": password} if password is not None else {"ARCHIVE_ADMIN_PASSWORD": ""}
    return runner.invoke(args=["archive", "create-admin", *args, "--lang", "en"], env=env, **kwargs)


def test_creates_an_administrator_from_the_environment(runner, db, client):
    result = _create_admin(runner, "--email", "Root@Example.vn", "--name", "Quản trị", password=STRONG)
    assert result.exit_code == 0, result.output
    assert "Administrator account root@example.vn created." in result.output
    admin = _user(db, "root@example.vn")
    assert admin.role == "administrator" and admin.display_name == "Quản trị" and admin.is_active
    assert client.post("/login", data={"email": "root@example.vn", "password": STRONG}).status_code == 302
    assert client.get("/vi/admin/users").status_code == 200


def test_promotes_an_existing_account_with_a_prompted_password(runner, db, make_user, monkeypatch):
    monkeypatch.delenv("ARCHIVE_ADMIN_PASSWORD", raising=False)
    user = make_user("researcher")
    result = _create_admin(runner, "--email", user.email, input=f"{STRONGER}\n{STRONGER}\n")
    assert result.exit_code == 0, result.output
    assert STRONGER not in result.output  # the prompt hides what is typed
    assert f"Account {user.email} is now an administrator" in result.output
    db.session.refresh(user)
    assert user.role == "administrator" and user.display_name == "researcher"
    assert user.check_password(STRONGER) and not user.check_password("correct horse battery")


def test_a_weak_password_changes_nothing(runner, db, make_user):
    user = make_user("researcher")
    weak = _create_admin(runner, "--email", "new-admin@example.vn", "--name", "Admin", password="admin")
    assert weak.exit_code == 1
    assert "The password must have at least 12 characters." in weak.output
    assert "Nothing was changed" in weak.output
    assert _user(db, "new-admin@example.vn") is None
    promoted = _create_admin(runner, "--email", user.email, password="password1234")
    assert promoted.exit_code == 1 and "most common" in promoted.output
    db.session.refresh(user)
    assert user.role == "researcher" and user.check_password("correct horse battery")


def test_a_bad_address_is_refused(runner, db):
    result = _create_admin(runner, "--email", "not-an-address", password=STRONG)
    assert result.exit_code == 1
    assert "Enter an email address" in result.output
