"""Personal API tokens: the page that makes and revokes them, what is stored, and their life cycle."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from tests.api.conftest import bearer


def _new_secret(html: str) -> str:
    found = re.search(r'id="new-token"[^>]*value="(ha_[A-Za-z0-9_-]+)"', html)
    assert found, "the new token is shown on the page"
    return found.group(1)


def test_a_contributor_makes_uses_and_revokes_a_token(client, db, login):
    from archive.api.models import ApiToken
    from archive.audit.models import AuditEvent

    user = login("contributor")
    page = client.get("/en/account/tokens")
    assert page.status_code == 200 and "You have no API tokens yet." in page.get_data(as_text=True)
    made = client.post("/en/account/tokens", data={"name": "field laptop", "lifetime": "90"})
    assert made.status_code == 201
    assert made.headers["Cache-Control"] == "no-store"
    secret = _new_secret(made.get_data(as_text=True))
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    # Only the hash is stored; the page shows the secret once and then only its first characters.
    assert token.token_hash != secret and len(token.token_hash) == 64 and secret.startswith(token.prefix)
    assert token.expires_at is not None
    listed = client.get("/en/account/tokens").get_data(as_text=True)
    assert secret not in listed and token.prefix in listed and "field laptop" in listed

    cookieless = client.application.test_client()  # no session: the token alone is enough
    used = cookieless.get("/api/v1/records?per_page=1", headers=bearer(secret))
    assert used.status_code == 200
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at is not None

    revoked = client.post(f"/en/account/tokens/{token.id}/revoke")
    assert revoked.status_code == 303
    refused = cookieless.get("/api/v1/records", headers={**bearer(secret), "Accept-Language": "en"})
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "invalid_token"
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(token.id))))
    assert {"api_token_created", "api_token_revoked"} <= actions


def test_the_token_page_is_for_contributors_and_up(client, login):
    assert client.get("/en/account/tokens").status_code == 302  # to the sign-in page
    login("researcher")
    assert client.get("/en/account/tokens").status_code == 403
    assert client.post("/en/account/tokens", data={"name": "x", "lifetime": "30"}).status_code == 403


def test_a_token_needs_a_name_and_a_lifetime(client, login):
    login("contributor")
    nameless = client.post("/en/account/tokens", data={"name": "  ", "lifetime": "30"})
    assert nameless.status_code == 400 and "Give the token a name" in nameless.get_data(as_text=True)
    forever = client.post("/en/account/tokens", data={"name": "script", "lifetime": "7"})
    assert forever.status_code == 400 and "Choose how long" in forever.get_data(as_text=True)


def test_nobody_revokes_someone_elses_token(client, make_token, login):
    from archive.api.models import ApiToken
    from archive.core.extensions import db

    owner, secret = make_token("contributor")
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == owner.id))
    login("contributor")
    assert client.post(f"/en/account/tokens/{token.id}/revoke").status_code == 404
    assert client.get("/api/v1/records", headers=bearer(secret)).status_code == 200


def test_unknown_expired_and_malformed_tokens_are_refused(client, db, make_token):
    from archive.api.models import ApiToken

    user, secret = make_token("contributor", lifetime_days=30)
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    token.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.session.commit()
    for header in (f"Bearer {secret}", "Bearer ha_unknown", "Bearer", "Basic dXNlcjpwYXNz", "Bearer a b"):
        response = client.get("/api/v1/records", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.get_json()["error"]["code"] == "invalid_token"


def test_a_deactivated_accounts_tokens_stop_working(client, db, make_token):
    user, secret = make_token("contributor")
    assert client.get("/api/v1/records", headers=bearer(secret)).status_code == 200
    user.is_active = False
    db.session.commit()
    assert client.get("/api/v1/records", headers=bearer(secret)).status_code == 401
