"""Forms are protected against cross-site request forgery (the suite switches the check off elsewhere)."""

import re


def test_forms_refuse_posts_without_a_csrf_token(client, app, make_user, make_record, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    user = make_user("curator")
    record = make_record(created_by=user)
    refused = client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    assert refused.status_code == 400
    page = client.get("/vi/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    accepted = client.post(
        "/login", data={"email": user.email, "password": "correct horse battery", "csrf_token": token}
    )
    assert accepted.status_code == 302
    upload = client.post(f"/records/{record.public_id}/media", data={}, content_type="multipart/form-data")
    assert upload.status_code == 400
    assert client.post("/logout").status_code == 400
