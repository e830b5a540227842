"""Real processes for the crash tests: the web app under gunicorn, ``archive worker`` and one-off
``archive`` commands, each in its own process group so that SIGKILL takes the whole group; and the checks
that a deployment is consistent after a crash and a recovery."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import process_env, wait_for

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Deployment:
    """The processes of one archive (a data directory and a database), started and killed by a test."""

    def __init__(self, app, logs: Path) -> None:
        self.app = app
        self.data_dir = Path(app.config["DATA_DIR"])
        self.logs = logs
        self.processes: list[subprocess.Popen] = []
        self.port: int | None = None
        env = process_env(
            app,
            ARCHIVE_WORKERS="1",
            ARCHIVE_API_WRITE_RATE_LIMIT="100000 per minute",
            SECRET_KEY="crash-test-secret",
            PYTHONUNBUFFERED="1",
        )
        self.env = env

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = (self.logs / f"{name}-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and commands
            args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        process.log_path = log.name  # type: ignore[attr-defined]
        self.processes.append(process)
        return process

    def start_web(self) -> subprocess.Popen:
        """gunicorn serving the archive (one sync worker), once it answers."""
        self.port = free_port()
        process = self._spawn(
            "web",
            [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{self.port}", "--timeout", "120",
             "archive:create_app()"],
        )  # fmt: skip

        def answers() -> bool:
            assert process.poll() is None, self.log(process)
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                connection.request("GET", "/api/v1/records?per_page=1")
                return connection.getresponse().status < 500
            except OSError:
                return False
            finally:
                connection.close()

        wait_for(answers, timeout=60)
        return process

    def start_worker(self) -> subprocess.Popen:
        """``archive worker`` (it runs a recovery pass and re-queues lost jobs before consuming)."""
        return self._spawn("worker", [sys.executable, "-m", "flask", "--app", "archive", "archive", "worker"])

    def spawn_command(self, *args: str) -> subprocess.Popen:
        """An ``archive`` command running in the background."""
        return self._spawn("command", [sys.executable, "-m", "flask", "--app", "archive", "archive", *args])

    def run_command(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """An ``archive`` command run to the end."""
        return subprocess.run(  # noqa: S603
            [sys.executable, "-m", "flask", "--app", "archive", "archive", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip

    @staticmethod
    def log(process: subprocess.Popen) -> str:
        """The end of a process's output (for assertion messages)."""
        return Path(process.log_path).read_text(errors="replace")[-3000:]  # type: ignore[attr-defined]

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the process and its whole group (gunicorn's workers, the consumer's threads)."""
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)

    def close(self) -> None:
        """Kill whatever is still running."""
        for process in self.processes:
            if process.poll() is None:
                self.kill(process)


def kill_children_named(parent_pid: int, name: str) -> list[int]:
    """SIGKILL the processes called *name* whose parent is *parent_pid* (ffmpeg runs in its own session,
    so killing the worker's group does not reach it); returns their pids."""
    killed = []
    for pid in children_named(parent_pid, name):
        try:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        except ProcessLookupError:
            pass
    return killed


def children_named(parent_pid: int, name: str) -> list[int]:
    """Pids of the children of *parent_pid* called *name*."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == parent_pid and comm == name:
            found.append(int(entry.name))
    return found


def send_slowly(
    port: int,
    path: str,
    headers: dict[str, str],
    body: bytes,
    stop_after: int,
    chunk: int = 16384,
    method: str = "POST",
):
    """Start a request whose body is sent a chunk at a time, stopping after *stop_after* bytes; returns the
    open connection (the caller kills the server in the middle of the body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.putrequest(method, path)
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders()
    sent = 0
    while sent < stop_after:
        try:
            connection.send(body[sent : sent + chunk])
        except OSError:  # the server answered early (a refusal): say what it said
            response = connection.getresponse()
            connection.close()
            raise AssertionError(f"request refused: {response.status} {response.read()[:500]!r}") from None
        sent += chunk
        time.sleep(0.01)
    return connection


def multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with text fields and one file called ``file``; returns (body, type)."""
    boundary = "crash-test-boundary-7d1f"
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# --- consistency checks ---------------------------------------------------------------------------------


def files_under(path: Path) -> set[Path]:
    """Every file below *path*."""
    return {p for p in path.rglob("*") if p.is_file()} if path.exists() else set()


def temporary_leftovers(data_dir: Path) -> list[Path]:
    """Temporary files and directories a crashed process may leave: received uploads, derivative work
    directories, claimed bulk imports, parked originals."""
    found = sorted(files_under(data_dir / "incoming") - files_under(data_dir / "incoming" / "tus"))
    derivatives = data_dir / "derivatives"
    if derivatives.exists():
        found += sorted(p for p in derivatives.iterdir() if p.name.startswith("."))
    imports = data_dir / "bulk-imports"
    if imports.exists():
        found += sorted(p for p in imports.iterdir() if p.name.endswith("-confirming"))
    found += (
        sorted((data_dir / "originals").rglob(".recovering-*")) if (data_dir / "originals").exists() else []
    )
    return found


def check_consistent(app) -> None:
    """No orphan files, no half-written rows, every job finished, and the index agrees with the database."""
    from archive.core.extensions import db
    from archive.core.storage import original_path
    from archive.media.models import MediaDerivative, MediaFile
    from archive.media.services import derivative_path
    from archive.preservation.recovery import referenced_storage_keys
    from archive.records.models import HeritageRecord, RecordText

    data_dir = Path(app.config["DATA_DIR"])
    with app.app_context():
        referenced = referenced_storage_keys()
        root = data_dir / "originals"
        stored = {p.relative_to(root).as_posix() for p in files_under(root)}
        assert stored - referenced == set(), "orphan originals"
        assert temporary_leftovers(data_dir) == [], "temporary files left"
        for media in db.session.scalars(sa.select(MediaFile)):
            assert original_path(media.storage_key).is_file(), f"media {media.public_id} without its original"
            assert media.state == "ready", f"media {media.public_id} is {media.state}"
        for derivative in db.session.scalars(sa.select(MediaDerivative)):
            assert derivative_path(derivative).exists(), f"derivative {derivative.storage_key} missing"
        untitled = db.session.scalars(
            sa.select(HeritageRecord.public_id).where(
                ~sa.exists().where(RecordText.record_id == HeritageRecord.id, RecordText.field == "title")
            )
        ).all()
        assert untitled == [], "records without their texts"
        db.session.remove()
    assert indexed_ids(app) == public_ids(app), "the index disagrees with the database"


def indexed_ids(app) -> set[int]:
    """Record ids a match-all search finds for an anonymous visitor."""
    from archive.core.extensions import db
    from archive.search.base import ANONYMOUS, SearchRequest
    from archive.search.service import get_backend, parse_query

    with app.app_context():
        result = get_backend().search(SearchRequest(parse_query(""), {}, "relevance", 0, 100_000), ANONYMOUS)
        db.session.remove()
    return set(result.record_ids)


def public_ids(app) -> set[int]:
    """Ids of the records an anonymous visitor may find (published and public)."""
    from archive.core.extensions import db
    from archive.records.models import HeritageRecord

    with app.app_context():
        ids = set(
            db.session.scalars(
                sa.select(HeritageRecord.id).where(
                    HeritageRecord.status == "published", HeritageRecord.access_level == "public"
                )
            )
        )
        db.session.remove()
    return ids
