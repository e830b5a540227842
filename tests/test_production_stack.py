"""The production stack for real: gunicorn with three workers, one `archive worker`, PostgreSQL, Redis and
the PostgreSQL search backend, configured from environment variables only.

It runs in the PostgreSQL run of scripts/test (its own database next to the suite's, Redis db 5 unless
ARCHIVE_TEST_STACK_REDIS_URL says otherwise). Under CI a missing Redis or gunicorn fails it; elsewhere
it is skipped with the reason.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from tests.conftest import IN_CI, ON_POSTGRES, ROOT, _driver_url, fresh_database_url, wait_for
from tests.media import samples

STACK_REDIS_URL = os.environ.get("ARCHIVE_TEST_STACK_REDIS_URL") or "redis://127.0.0.1:6379/5"
BIN = Path(sys.executable).parent
PASSWORD = "a long and quite unguessable passphrase 42"


def _unavailable() -> str | None:
    if not ON_POSTGRES:
        return "needs PostgreSQL: runs in the PostgreSQL run of scripts/test (ARCHIVE_TEST_DATABASE_URL)"
    if not (BIN / "gunicorn").exists():
        return "gunicorn is not installed in the virtual environment"
    try:
        import redis

        redis.Redis.from_url(STACK_REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        return f"Redis at {STACK_REDIS_URL} does not answer: {exc}"
    return None


def _require_stack():
    reason = _unavailable()
    if reason is None:
        return
    if IN_CI and ON_POSTGRES:
        pytest.fail(f"the production stack test must run in CI: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """Processes started for one test, all stopped at the end."""

    def __init__(self, tmp: Path, env: dict[str, str]):
        self.tmp, self.env, self.processes = tmp, env, []

    def run(self, *args: str) -> str:
        done = subprocess.run(args, env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
        return done.stdout

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> Path:
        log = self.tmp / f"{name}.log"
        handle = log.open("wb")
        process = subprocess.Popen(
            args,
            env=env or self.env,
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append((process, handle))
        return log

    def gunicorn(self, name: str, port: int, workers: int, env: dict[str, str] | None = None) -> Path:
        env = dict(env or self.env, ARCHIVE_BIND=f"127.0.0.1:{port}", ARCHIVE_WEB_WORKERS=str(workers))
        log = self.start(
            name, str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
            "archive:create_app()", env=env,
        )  # fmt: skip
        wait_for(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), timeout=90)
        return log

    def stop(self):
        for process, handle in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
            handle.close()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


@pytest.fixture
def stack(tmp_path):
    _require_stack()
    import redis

    redis.Redis.from_url(STACK_REDIS_URL).flushdb()
    database_url = fresh_database_url(tmp_path, "stack")
    data_dir = tmp_path / "data"
    (data_dir / "originals").mkdir(parents=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ARCHIVE_", "FLASK_", "PYTEST_")) and key != "SECRET_KEY"
    }
    env.update(
        FLASK_APP="archive",
        ARCHIVE_CONFIG="production",
        ARCHIVE_DATABASE_URL=database_url,
        ARCHIVE_REDIS_URL=STACK_REDIS_URL,
        ARCHIVE_SEARCH_BACKEND="postgresql",
        ARCHIVE_DATA_DIR=str(data_dir),
        SECRET_KEY=uuid.uuid4().hex + uuid.uuid4().hex,
        ARCHIVE_SECURE_COOKIES="0",
        ARCHIVE_FORCE_HSTS="0",
        ARCHIVE_BASE_URL="http://127.0.0.1",
        ARCHIVE_WORKERS="2",
    )
    running = Stack(tmp_path, env)
    running.database_url = database_url
    try:
        yield running
    finally:
        running.stop()
        redis.Redis.from_url(STACK_REDIS_URL).flushdb()
        engine = sa.create_engine(_driver_url(database_url))
        engine.dispose()


def test_production_stack_serves_processes_and_searches(stack, tmp_path):
    stack.run(str(BIN / "flask"), "db", "upgrade")
    stack.run(str(BIN / "archive"), "load-vocabularies")
    admin_env = dict(stack.env, ARCHIVE_ADMIN_PASSWORD=PASSWORD)
    subprocess.run(
        [str(BIN / "archive"), "create-admin", "--email", "admin@example.vn", "--lang", "en"],
        env=admin_env, cwd=ROOT, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    port = _free_port()
    web_log = stack.gunicorn("web", port, workers=3)
    worker_log = stack.start("worker", str(BIN / "archive"), "worker")
    base = f"http://127.0.0.1:{port}"

    health = requests.get(f"{base}/healthz", timeout=5)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = requests.get(f"{base}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    assert ready.json()["failing"] == [] and "Set-Cookie" not in ready.headers

    # Sign in through the form (CSRF on, as in production) and create a published record.
    session = requests.Session()
    login_page = session.get(f"{base}/en/login", timeout=10)
    signed = session.post(
        f"{base}/en/login",
        data={"email": "admin@example.vn", "password": PASSWORD, "csrf_token": _csrf(login_page.text)},
        headers={"X-Request-ID": "stack-login-1"},
        allow_redirects=False,
        timeout=10,
    )
    assert signed.status_code == 302, signed.text[:500]
    word = "Xoè" + uuid.uuid4().hex[:6]
    title = f"Lễ hội {word} thử nghiệm"
    created = stack.run(
        str(BIN / "python"), "-c",
        "from archive import create_app\n"
        "from archive.core.extensions import db\n"
        "from archive.records.services import create_record\n"
        "from metadata.csv_records import RecordInput\n"
        "from metadata.languages import LangString\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    r = create_record(RecordInput(row=0, identifier=None, slug=None, category='festival',"
        f" status='published', access_level='public', texts={{'title': [LangString({title!r}, 'vi')]}},"
        " ethnic_groups=['tay'],"
        f" places=['pre2025-p06']), actor=None)\n"
        "    db.session.commit()\n"
        "    print(r.public_id)\n",
    )  # fmt: skip
    public_id = created.strip().splitlines()[-1]

    record_page = session.get(f"{base}/en/records/{public_id}", timeout=10)
    token = _csrf(record_page.text)
    for path in (samples.jpeg(tmp_path / "photo.jpg"), samples.wav(tmp_path / "song.wav", seconds=2)):
        with path.open("rb") as handle:
            uploaded = session.post(
                f"{base}/records/{public_id}/media?lang=en",
                data={"csrf_token": token, "caption_vi": "Chú thích"},
                files={"files": (path.name, handle)},
                headers={"X-Request-ID": f"stack-upload-{path.stem}"},
                timeout=60,
            )
        assert uploaded.status_code == 201, uploaded.text[:500]

    # The worker makes the derivatives.
    engine = sa.create_engine(_driver_url(stack.database_url))
    try:

        def ready_media():
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.text(
                        "SELECT m.kind, m.state, array_agg(d.name) FROM media_file m "
                        "JOIN heritage_record r ON r.id = m.record_id "
                        "LEFT JOIN media_derivative d ON d.media_id = m.id "
                        "WHERE r.public_id = :p GROUP BY m.kind, m.state"
                    ),
                    {"p": public_id},
                ).all()
            states = {kind: (state, set(names) - {None}) for kind, state, names in rows}
            if len(states) == 2 and all(state in ("ready", "failed") for state, _ in states.values()):
                return states
            return None

        states = wait_for(ready_media, timeout=180, interval=1)
    finally:
        engine.dispose()
    assert states["image"][0] == "ready" and {"pyramid", "thumbnail"} <= states["image"][1]
    assert states["audio"][0] == "ready" and {"web", "low", "peaks"} <= states["audio"][1]

    # Found through the PostgreSQL backend, by whichever web worker answers (no keep-alive).
    def found():
        answer = requests.get(
            f"{base}/en/search", params={"q": word}, headers={"Connection": "close"}, timeout=10
        )
        return answer.status_code == 200 and word in answer.text

    wait_for(found, timeout=60, interval=0.5)
    pids = set()
    for _ in range(12):
        answer = requests.get(
            f"{base}/en/search", params={"q": word}, headers={"Connection": "close"}, timeout=10
        )
        assert answer.status_code == 200 and word in answer.text
        pids.add(answer.headers.get("X-Request-ID"))
    assert len(pids) == 12  # a fresh request id each time

    # Structured logs: JSON lines carrying the request ids sent.
    time.sleep(0.5)
    entries = [json.loads(line) for line in web_log.read_text().splitlines() if line.startswith("{")]
    login_lines = [
        e for e in entries if e.get("request_id") == "stack-login-1" and e["logger"] == "archive.request"
    ]
    assert login_lines and login_lines[0]["status"] == 302 and login_lines[0]["path"] == "/en/login"
    upload = next(
        e for e in entries if e.get("request_id") == "stack-upload-photo" and e["logger"] == "archive.request"
    )
    assert upload["status"] == 201 and upload["user_id"] and upload["duration_ms"] > 0
    non_json = [
        line for line in web_log.read_text().splitlines() if line.strip() and not line.startswith("{")
    ]
    assert non_json == [], non_json[:5]
    worker_entries = [
        json.loads(line) for line in worker_log.read_text().splitlines() if line.startswith("{")
    ]
    assert any(e.get("request_id") == "stack-upload-photo" for e in worker_entries), worker_log.read_text()[
        -2000:
    ]

    # A second web server whose Redis is gone is alive but not ready, and says why.
    dead_port = _free_port()
    dead_env = dict(stack.env, ARCHIVE_REDIS_URL="redis://127.0.0.1:1/0")
    stack.gunicorn("dead", dead_port, workers=1, env=dead_env)
    not_ready = requests.get(f"http://127.0.0.1:{dead_port}/readyz", timeout=30)
    assert not_ready.status_code == 503
    assert not_ready.json()["failing"] == ["queue"]
    assert "127.0.0.1:1" not in not_ready.text
