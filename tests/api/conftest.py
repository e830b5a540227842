"""API fixtures: the blueprints registered on the session application (until create_app does it), a
personal token factory, and a generous rate limit so that the suite never trips it by accident."""

from __future__ import annotations

import pytest


def register_api(application) -> None:
    """Register the API and token page blueprints on an application that lacks them."""
    from archive.api.account_views import bp as tokens_bp
    from archive.api.views import bp as api_bp

    for blueprint in (api_bp, tokens_bp):
        if blueprint.name not in application.blueprints:
            application.register_blueprint(blueprint)


@pytest.fixture(scope="session", autouse=True)
def _api_registered(app):
    register_api(app)


@pytest.fixture(autouse=True)
def _generous_limits(app, monkeypatch):
    monkeypatch.setitem(app.config, "API_READ_RATE_LIMIT", "100000 per minute")
    monkeypatch.setitem(app.config, "API_WRITE_RATE_LIMIT", "100000 per minute")


@pytest.fixture
def make_token(db, make_user):
    """Factory: (user, secret) of a new personal token for a new account with *role* (or *user*)."""
    from archive.api import tokens

    def factory(role: str = "contributor", user=None, lifetime_days: int | None = None):
        user = user or make_user(role)
        _token, secret = tokens.create_token(user, "test", lifetime_days)
        db.session.commit()
        return user, secret

    return factory


def bearer(secret: str) -> dict[str, str]:
    """The Authorization header of a token."""
    return {"Authorization": f"Bearer {secret}"}
