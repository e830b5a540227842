"""Configuration: environment overrides and production safety checks."""

import importlib

import pytest

import config


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("ARCHIVE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ARCHIVE_REDIS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("ARCHIVE_PAGE_SIZE", "7")
    monkeypatch.delenv("ARCHIVE_DATABASE_URL", raising=False)
    reloaded = importlib.reload(config)
    try:
        assert reloaded.Config.DATA_DIR == str(tmp_path)
        assert reloaded.Config.SQLALCHEMY_DATABASE_URI == f"sqlite:///{tmp_path}/archive.sqlite3"
        assert reloaded.Config.REDIS_URL == "redis://127.0.0.1:6379/3"
        assert reloaded.Config.PAGE_SIZE == 7
    finally:
        monkeypatch.undo()
        importlib.reload(config)


def _production(**attrs):
    return type("P", (config.ProductionConfig,), attrs)


def test_production_refuses_the_default_secret_key():
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        _production(
            SECRET_KEY=config.DEFAULT_SECRET_KEY, SQLALCHEMY_DATABASE_URI="postgresql://x@localhost/archive"
        ).check()


def test_production_refuses_sqlite_unless_allowed():
    with pytest.raises(RuntimeError, match="PostgreSQL"):
        _production(SECRET_KEY="a-long-random-value", SQLALCHEMY_DATABASE_URI="sqlite:///x.db").check()
    _production(
        SECRET_KEY="a-long-random-value", SQLALCHEMY_DATABASE_URI="sqlite:///x.db", ALLOW_SQLITE=True
    ).check()
    _production(
        SECRET_KEY="a-long-random-value", SQLALCHEMY_DATABASE_URI="postgresql://x@localhost/archive"
    ).check()


def test_create_app_refuses_unsafe_production():
    from archive import create_app

    with pytest.raises(RuntimeError):
        create_app(_production(SECRET_KEY=config.DEFAULT_SECRET_KEY))


def test_proxy_hops_trust_exactly_that_many_forwarded_addresses(tmp_path):
    """With PROXY_HOPS=1 the client address comes from X-Forwarded-For; with 0 a forged header is ignored."""
    from flask import request

    from archive import create_app
    from config import TestConfig

    seen = []
    for hops in (0, 1):
        config = type("ProxyConfig", (TestConfig,), {"PROXY_HOPS": hops, "DATA_DIR": str(tmp_path)})
        application = create_app(config)
        application.add_url_rule("/whoami", "whoami", lambda: request.remote_addr or "")
        with application.test_client() as client:
            response = client.get("/vi/whoami", headers={"X-Forwarded-For": "203.0.113.9"})
            seen.append(response.get_data(as_text=True))
    assert seen == ["127.0.0.1", "203.0.113.9"]
