"""Rate limits: past the configured number of requests a client gets 429 with Retry-After and a JSON
error; anonymous reads count per client address, writes per token."""

from __future__ import annotations

from tests.api.conftest import bearer, register_api


def test_reads_and_writes_are_limited(isolated_app):
    from archive.accounts.models import User
    from archive.api import tokens
    from archive.core.extensions import db

    app = isolated_app("ratelimit", API_READ_RATE_LIMIT="3 per minute", API_WRITE_RATE_LIMIT="2 per minute")
    register_api(app)
    client = app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/vocabularies/categories").status_code == 200
    limited = client.get("/api/v1/vocabularies/categories", headers={"Accept-Language": "en"})
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 61  # a one-minute window, rounded up
    assert limited.get_json()["error"]["code"] == "too_many_requests"
    assert limited.headers["Access-Control-Allow-Origin"] == "*"
    # Another address has its own allowance.
    other = client.get("/api/v1/vocabularies/categories", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200

    with app.app_context():
        user = User(email="writer@example.vn", display_name="writer", role="contributor")
        db.session.add(user)
        db.session.commit()
        _token, secret = tokens.create_token(user, "limit", None)
        db.session.commit()
    statuses = [
        client.post("/api/v1/records", json={"category": "x"}, headers=bearer(secret)).status_code
        for _ in range(3)
    ]
    assert statuses == [422, 422, 429]
