"""Keeping the index available and up to date: a missing or corrupt index, a rebuild in progress, and
concurrent edits applied by a real worker through the queue (one writer, no lock errors)."""

from __future__ import annotations

import logging
import threading
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from archive.search import service
from tests.conftest import ON_POSTGRES, process_env, use_search_backend, wait_for

BACKENDS = ["whoosh", "postgresql"] if ON_POSTGRES else ["whoosh"]


def _whoosh_dir(app) -> Path:
    with app.app_context():
        root = service.search_dir()
    return root / (root / "CURRENT").read_text().strip()


def _search(app, text, **options):
    with app.test_request_context("/?lang=vi"):
        return service.search_records(text, **options)


@pytest.fixture
def whoosh(app):
    """These tests damage and rebuild the Whoosh index: make it the backend (also in production mode)."""
    with use_search_backend(app, "whoosh"):
        yield


@pytest.fixture
def writer_lock(app):
    """Hold the index writer lock, as a worker rebuilding the index would."""
    from archive.core.jobs import huey_for

    lock = huey_for(app).lock_task(service.WRITER_LOCK)
    lock.acquire()
    yield lock
    lock.release()


def _damage(app, how: str) -> None:
    directory = _whoosh_dir(app)
    if how == "missing":
        (directory.parent / "CURRENT").unlink()
    elif how == "deleted":
        for child in directory.iterdir():
            child.unlink()
        directory.rmdir()
    else:  # corrupt: every segment and table of contents overwritten in place with garbage (bit rot;
        # same length, as a shorter file under a live memory map would kill the process, not the index)
        for child in directory.iterdir():
            if child.suffix in (".seg", ".toc"):
                size = child.stat().st_size
                with child.open("r+b") as handle:
                    handle.write((b"\xffgarbage" * (size // 8 + 1))[:size])


@pytest.mark.parametrize("how", ["missing", "deleted", "corrupt"])
def test_a_broken_index_answers_with_a_message_then_is_rebuilt(app, whoosh, db, client, writer_lock, how):
    assert _search(app, "le hoi").total > 0
    _damage(app, how)
    # While a writer is busy (a rebuild in progress), search says so and never fails.
    page = _search(app, "le hoi")
    assert page.unavailable and page.total == 0
    response = client.get("/vi/search?q=le+hoi")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "đang được xây dựng lại" in response.get_data(as_text=True)
    api = client.get("/search.json?q=le+hoi")
    assert api.status_code == 503 and api.get_json()["error"]["code"] == "unavailable"
    assert client.get("/search/autocomplete.json?q=le+h").get_json()["results"] == []
    writer_lock.release()
    # The next search asks for a rebuild (run at once here: jobs are immediate in tests) ...
    _search(app, "le hoi")
    # ... after which search answers again from the rebuilt index.
    page = _search(app, "le hoi")
    assert not page.unavailable and page.total > 0
    writer_lock.acquire()


def test_reindex_keeps_serving_the_old_index_until_the_new_one_is_complete(app, whoosh, db):
    from archive.search.whoosh_backend import WhooshBackend

    with app.app_context():
        backend = WhooshBackend(service.search_dir())
        before = _whoosh_dir(app)
        seen_during = []

        def documents():
            for n, doc in enumerate(service._documents(db.session, None)):
                if n == 5:  # half-way through the rebuild, a visitor searches: the old index answers
                    seen_during.append(_search(app, "le hoi").total)
                yield doc

        backend.rebuild(documents())
        after = _whoosh_dir(app)
    assert seen_during and seen_during[0] > 0
    assert after != before
    assert _search(app, "le hoi").total == seen_during[0]


def _new_record(app, title: str, status: str = "published") -> int:
    from archive.core.extensions import db
    from archive.records.services import create_record
    from metadata.csv_records import RecordInput

    with app.app_context():
        record = create_record(
            RecordInput.titled(title, status=status),
            actor=None,
        )
        db.session.commit()
        record_id = record.id
        db.session.remove()
    return record_id


def _retitle(app, record_id: int, title: str) -> None:
    from archive.core.extensions import db
    from archive.records.models import RecordText

    with app.app_context():
        text = db.session.scalar(
            sa.select(RecordText).where(RecordText.record_id == record_id, RecordText.field == "title")
        )
        text.value = title
        db.session.commit()
        db.session.remove()


def _found(app, word: str) -> int:
    from archive.core.extensions import db

    try:
        with app.test_request_context("/?lang=vi"):
            return service.search_records(word).total
    finally:
        with app.app_context():
            db.session.remove()


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_concurrent_edits_reach_the_index_through_one_writer(isolated_app, caplog, backend_name):
    """Four threads create and edit records at once; a real consumer with two worker threads applies
    the outbox. Every final state becomes searchable, the outbox empties, and nothing fails."""
    from huey.consumer import Consumer

    from archive.core.extensions import db
    from archive.search.models import SearchOutbox

    app = isolated_app(f"concurrent_{backend_name}", JOBS_IMMEDIATE=False, SEARCH_BACKEND=backend_name)
    with app.app_context():
        service.rebuild_index()
        db.session.remove()
    consumer = Consumer(app.extensions["huey"], workers=2, worker_type="thread", periodic=False,
                        initial_delay=0.05, max_delay=0.2)  # fmt: skip
    consumer._set_signal_handlers = lambda: None  # noqa: SLF001 - leave pytest's signal handlers alone
    caplog.set_level(logging.WARNING)
    consumer.start()
    run = uuid.uuid4().hex[:6]
    errors: list[BaseException] = []

    def editor(n: int) -> None:
        try:
            for k in range(3):
                record_id = _new_record(app, f"Đồng thời {run} nguoi{n}so{k} bản đầu")
                _retitle(app, record_id, f"Đồng thời {run} nguoi{n}so{k} bản cuối")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=editor, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        wait_for(lambda: _found(app, f"{run} cuoi") == 12, timeout=60)
        assert _found(app, f"{run} dau") == 0
        with app.app_context():
            wait_for(lambda: db.session.scalar(sa.select(sa.func.count()).select_from(SearchOutbox)) == 0)
            db.session.remove()
    finally:
        consumer.stop(graceful=True)
    problems = [r for r in caplog.records if r.levelno >= logging.ERROR or "locked" in r.getMessage().lower()]
    assert not problems, [r.getMessage() for r in problems]


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_a_published_record_is_searchable_once_the_worker_has_run(isolated_app, backend_name):
    """The path of a real deployment: the web process commits, a separate worker writes the index."""
    import subprocess
    import sys

    app = isolated_app(f"publish_{backend_name}", JOBS_IMMEDIATE=False, SEARCH_BACKEND=backend_name)
    word = "xuatban" + uuid.uuid4().hex[:6]
    env = process_env(app)
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "archive", "archive", "worker", "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # The worker builds the missing index when it starts, then applies the outbox as records change.
        wait_for(lambda: not _search(app, "").unavailable, timeout=60)
        _new_record(app, f"Lễ công bố {word}")
        assert wait_for(lambda: _found(app, word) == 1, timeout=30)
    finally:
        worker.terminate()
        _, err = worker.communicate(timeout=30)
    assert b"Traceback" not in err, err.decode()[-2000:]
