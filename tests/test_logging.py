"""Structured logs: request ids in, out and on every record; JSON lines in production."""

from __future__ import annotations

import io
import json
import logging

import pytest

from archive.core import observability


@pytest.fixture
def json_lines():
    """Capture the root logger as the production handler writes it."""
    stream = io.StringIO()
    handler = observability.configure_logging("json", "INFO", stream=stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    logging.getLogger().removeHandler(handler)


def test_incoming_request_id_is_kept_returned_and_logged(client, json_lines):
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123.req"})
    assert response.headers["X-Request-ID"] == "abc-123.req"
    line = next(entry for entry in json_lines() if entry["logger"] == "archive.request")
    assert line["request_id"] == "abc-123.req"
    assert line["method"] == "GET" and line["path"] == "/healthz" and line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["user_id"] is None
    assert line["level"] == "INFO" and line["time"].endswith("+00:00")
    assert "remote_addr" in line


@pytest.mark.parametrize("bad", ["", "x" * 129, "a b", "<script>", "id;rm"])
def test_malformed_request_ids_are_replaced(client, bad):
    response = client.get("/healthz", headers={"X-Request-ID": bad})
    returned = response.headers["X-Request-ID"]
    assert returned != bad and len(returned) == 32 and returned.isalnum()


def test_records_of_a_request_carry_its_id_and_the_signed_in_user(client, login, json_lines, monkeypatch):
    user = login("curator")
    from archive.core import health

    def noisy():
        logging.getLogger("archive.test").warning("checking %s", "search")

    monkeypatch.setitem(health.CHECKS, "search", noisy)
    client.get("/readyz", headers={"X-Request-ID": "req-42"})
    lines = json_lines()
    inner = next(entry for entry in lines if entry["logger"] == "archive.test")
    assert inner["request_id"] == "req-42" and inner["message"] == "checking search"
    access = next(entry for entry in lines if entry["logger"] == "archive.request")
    assert access["user_id"] == user.id
    # After the request, records no longer carry its id.
    logging.getLogger("archive.test").warning("later")
    assert json_lines()[-1]["request_id"] is None


def test_jobs_queued_by_a_request_log_with_its_id(app, json_lines):
    """Jobs queued by a request carry its id into the job's log records."""
    from archive.core import jobs

    seen = []

    def probe(value):
        logging.getLogger("archive.test").info("job ran with %s", value)
        seen.append(observability.current_request_id.get())

    fn = jobs._in_app_context(app, probe)
    token = observability.current_request_id.set("from-request")
    try:
        kwargs = {jobs.REQUEST_ID_KWARG: observability.current_request_id.get()}
    finally:
        observability.current_request_id.reset(token)
    fn(7, **kwargs)
    assert seen == ["from-request"]
    line = next(entry for entry in json_lines() if entry["logger"] == "archive.test")
    assert line["request_id"] == "from-request"
    assert observability.current_request_id.get() is None


def test_text_format_and_settings(app):
    stream = io.StringIO()
    handler = observability.configure_logging("text", "WARNING", stream=stream)
    try:
        logging.getLogger("archive.test").info("hidden")
        logging.getLogger("archive.test").warning("shown")
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(logging.WARNING)
    assert "hidden" not in stream.getvalue() and "WARNING archive.test [None] shown" in stream.getvalue()
