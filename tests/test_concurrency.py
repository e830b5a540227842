"""Several contributors upload and edit at once while visitors browse and search, against a real threaded
server on the suite's database (a SQLite file, or PostgreSQL on the PostgreSQL run): no server error, no
"database is locked", and no lost update — of two people saving the same version, one wins and the other
gets the conflict message with what they typed kept."""

from __future__ import annotations

import gc
import io
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import lxml.html
import pytest
import requests
import sqlalchemy as sa
from PIL import Image

from tests.conftest import PRODUCTION_MODE, ROOT, process_env, wait_for
from tests.media.test_tus import committed_contributor
from tests.records.test_editing import submit_form

ROUNDS = 6
CONFLICT_EN = "Someone else saved this record after you opened the form"


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), tuple(uuid.uuid4().bytes[:3])).save(buffer, "JPEG")
    return buffer.getvalue()


def _form(text: str):
    return lxml.html.fromstring(text)


@pytest.fixture
def server_log():
    collector = _Collector()
    root = logging.getLogger()
    root.addHandler(collector)
    yield collector
    root.removeHandler(collector)


@pytest.fixture(scope="module")
def live_server(request, app, tmp_path_factory):
    """The server the contributors and visitors use. In production mode: gunicorn with three worker
    processes on the suite's PostgreSQL database, as deployed (psycopg's binary driver has crashed the
    test process with SIGSEGV when a threaded server ran inside it). Otherwise the threaded werkzeug
    server of tests/conftest.py, in this process."""
    if not PRODUCTION_MODE:
        yield request.getfixturevalue("live_server_in_process")
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = process_env(app, ARCHIVE_CONFIG="test",
                      ARCHIVE_TEST_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"])  # fmt: skip
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "--workers", "3", "--bind", f"127.0.0.1:{port}",
             "--timeout", "120", "archive:create_app()"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        assert server.poll() is None, log.read_text(errors="replace")[-3000:]  # gunicorn did not start
        return _answers(base + "/healthz")

    try:
        wait_for(ready, timeout=120, interval=0.2)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        text = log.read_text(errors="replace")
        assert "locked" not in text.lower() and "Traceback" not in text, text[-3000:]


def _answers(url: str) -> bool:
    """True once the server answers 200; a refused connection or a slow answer (gunicorn's workers still
    starting on a busy machine) is "not yet"."""
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def test_contributors_and_visitors_at_once(app, live_server, server_log):
    from archive.core.extensions import db
    from archive.records.models import HeritageRecord

    responses: list[tuple[str, int, str]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    stop = threading.Event()

    def note(label: str, response: requests.Response) -> None:
        with lock:
            responses.append(
                (
                    label,
                    response.status_code,
                    response.text if "text" in response.headers.get("Content-Type", "") else "",
                )
            )

    with committed_contributor(app) as first, committed_contributor(app) as second:
        sessions = {}
        for name, account in (("a1", first), ("a2", first), ("b", second)):
            http = requests.Session()
            credentials = {"email": account.email, "password": account.password}
            signed = http.post(f"{live_server}/login", data=credentials, allow_redirects=False)
            assert signed.status_code == 302, signed.text
            sessions[name] = (http, account)
        opened = threading.Barrier(2)
        saved = threading.Barrier(2)
        outcomes: list[tuple[int, str, int, str]] = []  # (round, who, status, text typed)

        def editor(name: str) -> None:
            http, account = sessions[name]
            url = f"{live_server}/en/records/{account.record}/edit"
            try:
                for n in range(ROUNDS):
                    page = http.get(url)
                    note(name, page)
                    if name != "b":
                        opened.wait(timeout=60)
                    typed = f"Tóm tắt vòng {n} của {name} {uuid.uuid4().hex[:6]}"
                    sent = submit_form(_form(page.text), **{"summary-0-value": typed})
                    response = http.post(url, data=sent, allow_redirects=False)
                    note(name, response)
                    with lock:
                        outcomes.append((n, name, response.status_code, typed))
                    if response.status_code == 409:
                        assert CONFLICT_EN in response.text
                        kept = _form(response.text).get_element_by_id("summary-0-value").value
                        assert kept == typed  # what they typed is shown back
                    if name != "b":
                        saved.wait(timeout=60)
                    upload = http.post(f"{live_server}/records/{account.record}/media?lang=en",
                                       files={"files": (f"anh-{n}.jpg", _jpeg(), "image/jpeg")})  # fmt: skip
                    note(name, upload)
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                failures.append(exc)
                opened.abort()
                saved.abort()

        def visitor() -> None:
            http = requests.Session()
            pages = ["/vi/", "/en/records", "/vi/search?q=l%E1%BB%85+h%E1%BB%99i", "/en/search?q=festival",
                     "/vi/map", "/en/calendar"]  # fmt: skip
            try:
                while not stop.is_set():
                    for path in pages:
                        note("visitor", http.get(live_server + path))
            except BaseException as exc:  # noqa: BLE001
                failures.append(exc)

        threads = [threading.Thread(target=editor, args=(n,)) for n in ("a1", "a2", "b")]
        threads += [threading.Thread(target=visitor) for _ in range(3)]
        # The garbage collector runs in whichever thread allocates: here it would collect the session's
        # psycopg objects from the clients' threads, which has crashed this process (SIGSEGV) on
        # PostgreSQL. Collect now, and not again until the threads are done.
        gc.collect()
        gc.disable()
        try:
            for thread in threads:
                thread.start()
            for thread in threads[:3]:
                thread.join(timeout=600)
            stop.set()
            for thread in threads[3:]:
                thread.join(timeout=60)
        finally:
            gc.enable()

        assert not failures, failures
        errors = [(label, status) for label, status, _text in responses if status >= 500]
        assert not errors, errors
        assert not [t for _l, _s, t in responses if "database is locked" in t]
        assert not [line for line in server_log.lines if "locked" in line.lower()]
        visitors = [s for label, s, _t in responses if label == "visitor"]
        assert visitors and set(visitors) <= {200}, set(visitors)
        # The two sessions of the same person saved the same version every round: exactly one won.
        for n in range(ROUNDS):
            statuses = sorted(s for r, who, s, _t in outcomes if r == n and who != "b")
            assert statuses == [303, 409], (n, statuses)
        assert all(s == 303 for _r, who, s, _t in outcomes if who == "b")
        uploads = [s for label, s, t in responses if label in ("a1", "a2", "b") and s == 201]
        assert len(uploads) == 3 * ROUNDS
        with app.app_context():
            record = db.session.scalar(
                sa.select(HeritageRecord).where(HeritageRecord.public_id == first.record)
            )
            winner = next(t for r, who, s, t in outcomes if r == ROUNDS - 1 and who != "b" and s == 303)
            assert record.values("summary")[0].value == winner  # the last winner's text, not lost
            other = db.session.scalar(
                sa.select(HeritageRecord).where(HeritageRecord.public_id == second.record)
            )
            last_b = next(t for r, who, s, t in outcomes if r == ROUNDS - 1 and who == "b")
            assert other.values("summary")[0].value == last_b
            assert len(record.media) == 2 * ROUNDS and len(other.media) == ROUNDS
            db.session.remove()
