"""/healthz and /readyz: what a load balancer and a supervisor see."""

from __future__ import annotations

import json

import pytest

from archive.core import health


def _get(client, path):
    response = client.get(path)
    return response, json.loads(response.get_data(as_text=True))


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_endpoints_answer_outside_the_language_prefix_without_cookies_or_caching(client, path):
    response, body = _get(client, path)
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_ready_names_every_check(client):
    _response, body = _get(client, "/readyz")
    assert set(body["checks"]) == {"database", "queue", "search", "storage"}
    assert body["failing"] == []


def test_not_ready_names_the_failing_check_and_leaks_nothing(client, app, tmp_path, monkeypatch):
    missing = tmp_path / "no-such-replica"
    monkeypatch.setitem(app.config, "REPLICA_DIR", str(missing))
    response, body = _get(client, "/readyz")
    assert response.status_code == 503
    assert body["failing"] == ["storage"]
    assert body["checks"]["storage"]["reason"] == "replica_missing"
    assert str(tmp_path) not in response.get_data(as_text=True)


def test_a_broken_database_is_reported_without_its_address(client, app, monkeypatch):
    import sqlalchemy as sa

    def broken():
        engine = sa.create_engine("postgresql+psycopg://secret-user:hunter2@127.0.0.1:1/nowhere")
        try:
            with engine.connect():
                pass
        except sa.exc.SQLAlchemyError:
            raise health.CheckFailed("unreachable") from None
        finally:
            engine.dispose()

    monkeypatch.setitem(health.CHECKS, "database", broken)
    response, body = _get(client, "/readyz")
    assert response.status_code == 503 and body["failing"] == ["database"]
    text = response.get_data(as_text=True)
    assert "hunter2" not in text and "secret-user" not in text and "Traceback" not in text


def test_an_unexpected_error_is_a_failure_without_a_stack_trace(client, monkeypatch):
    def explode():
        raise RuntimeError("internal detail /srv/secret")

    monkeypatch.setitem(health.CHECKS, "search", explode)
    response, body = _get(client, "/readyz")
    assert response.status_code == 503 and body["checks"]["search"]["reason"] == "error"
    assert "secret" not in response.get_data(as_text=True)


def test_queue_check_follows_the_configured_queue(isolated_app, tmp_path):
    """The SQLite queue file must be writable; a Redis queue must answer."""
    queued = isolated_app("healthq", JOBS_IMMEDIATE=False, REDIS_URL=None)
    (tmp_path / "healthq-data" / "originals").mkdir(parents=True, exist_ok=True)
    body = json.loads(queued.test_client().get("/readyz").get_data(as_text=True))
    assert body["checks"]["queue"]["ok"] is True
    dead = isolated_app("healthr", JOBS_IMMEDIATE=False, REDIS_URL="redis://127.0.0.1:1/0")
    response = dead.test_client().get("/readyz")
    body = json.loads(response.get_data(as_text=True))
    assert response.status_code == 503 and "queue" in body["failing"]
