"""Every account form refuses a POST without a CSRF token (the suite switches the check off elsewhere)."""

import re

from archive.accounts import services


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_account_forms_refuse_posts_without_a_csrf_token(app, client, db, login, make_user, monkeypatch):
    admin = login("administrator")  # signed in before the check is switched on
    other = make_user("researcher")
    with app.test_request_context():
        reset = services.issue_token(other, "reset")
        invite = services.issue_token(make_user("curator"), "invite")
    db.session.commit()
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)

    posts = {
        "/password/forgot": {"email": other.email},
        f"/password/reset/{reset}": {"password": "x", "confirm": "x"},
        f"/invite/{invite}": {"password": "x", "confirm": "x"},
        "/account/password": {"current_password": "x", "password": "y", "confirm": "y"},
        "/admin/users": {"email": "z@example.vn", "display_name": "Z", "role": "curator", "language": "vi"},
        f"/admin/users/{other.id}/role": {f"user-{other.id}-role": "curator"},
        f"/admin/users/{other.id}/deactivate": {},
        f"/admin/users/{other.id}/reactivate": {},
        f"/admin/users/{other.id}/invitation": {},
    }
    for path, data in posts.items():
        assert client.post(path, data=data).status_code == 400, path
    db.session.refresh(other)
    assert other.role == "researcher" and other.is_active

    # With the page's token the same forms go through.
    token = _token(client.get("/vi/password/forgot").get_data(as_text=True))
    assert (
        client.post("/password/forgot", data={"email": other.email, "csrf_token": token}).status_code == 200
    )
    page = client.get("/vi/admin/users").get_data(as_text=True)
    role_token = re.search(
        rf'id="user-{other.id}-csrf_token" name="user-{other.id}-csrf_token" type="hidden" value="([^"]+)"',
        page,
    ).group(1)
    changed = client.post(
        f"/admin/users/{other.id}/role",
        data={f"user-{other.id}-role": "curator", f"user-{other.id}-csrf_token": role_token},
    )
    assert changed.status_code == 302
    deactivated = client.post(f"/admin/users/{other.id}/deactivate", data={"csrf_token": _token(page)})
    assert deactivated.status_code == 302
    db.session.refresh(other)
    assert other.role == "curator" and not other.is_active
    assert admin.is_active
