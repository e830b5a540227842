"""Crash safety with real processes: the web app (gunicorn) and ``archive worker`` are killed with SIGKILL
in the middle of an upload, an import, a derivative job and an index update, then restarted. Afterwards
there is no orphan file, no half-written row, every job has finished and the index agrees with the
database. Each test has its own data directory and database (SQLite file, or PostgreSQL in that run)."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass

import pytest
import requests
import sqlalchemy as sa

from archive.media.models import MediaDerivative, MediaFile
from tests.conftest import wait_for
from tests.media.test_tus import OCTET, TUS, metadata_header, noisy_jpeg, sign_in
from tests.preservation.crash_helpers import (
    Deployment,
    check_consistent,
    children_named,
    files_under,
    kill_children_named,
    multipart,
    send_slowly,
    temporary_leftovers,
)

HOUR_AGO = time.time() - 3600 * 2


@dataclass(frozen=True)
class Contributor:
    """A contributor with a draft record and an API token, committed for the processes."""

    email: str
    password: str
    user_id: int
    record: str
    token: str


@pytest.fixture
def deployment(isolated_app, tmp_path, request):
    """An empty archive on its own database and data directory, whose processes are killed afterwards."""
    name = "crash_" + hashlib.sha256(request.node.name.encode()).hexdigest()[:8]  # one database per test
    app = isolated_app(name, JOBS_IMMEDIATE=False, SEARCH_BACKEND="whoosh")
    logs = tmp_path / "logs"
    logs.mkdir()
    deployed = Deployment(app, logs)
    try:
        yield deployed
    finally:
        deployed.close()


def _contributor(app) -> Contributor:
    from archive.accounts.models import User
    from archive.api.tokens import create_token
    from archive.core.extensions import db
    from archive.records.services import create_record
    from metadata.csv_records import RecordInput

    password = "correct horse battery"
    with app.app_context():
        user = User(
            email=f"crash-{uuid.uuid4().hex[:8]}@example.vn", display_name="Cán bộ", role="contributor"
        )
        user.set_password(password)
        db.session.add(user)
        db.session.flush()
        record = create_record(RecordInput.titled("Lễ hội thử sự cố", status="draft"), actor=user)
        _row, secret = create_token(user, "crash test", None)
        db.session.commit()
        found = Contributor(user.email, password, user.id, record.public_id, secret)
        db.session.remove()
    return found


def _media(app) -> list[tuple[str, str]]:
    from archive.core.extensions import db

    with app.app_context():
        rows = db.session.execute(
            sa.select(MediaFile.public_id, MediaFile.state).order_by(MediaFile.id)
        ).all()
        db.session.remove()
    return [tuple(r) for r in rows]


def _api_upload(deployment: Deployment, account: Contributor, name: str, content: bytes) -> requests.Response:
    body, content_type = multipart({"caption_vi": "Tư liệu"}, name, content)
    return requests.post(
        f"http://127.0.0.1:{deployment.port}/api/v1/records/{account.record}/media",
        data=body,
        headers={"Authorization": f"Bearer {account.token}", "Content-Type": content_type},
        timeout=60,
    )


def _all_ready(app) -> bool:
    media = _media(app)
    return bool(media) and all(state == "ready" for _id, state in media)


# --- a. uploads -----


def test_upload_killed_mid_body_leaves_nothing_and_a_new_upload_works(deployment, tmp_path):
    """The web process dies while a file's body is arriving: no media row, no file in the store or the
    incoming area; the restarted server takes the same file, and the worker makes its renditions."""
    app = deployment.app
    account = _contributor(app)
    content = noisy_jpeg(tmp_path / "le-hoi.jpg", size=(1400, 1000)).read_bytes()
    web = deployment.start_web()
    body, content_type = multipart({"caption_vi": "Lễ hội"}, "le-hoi.jpg", content)
    connection = send_slowly(
        deployment.port,
        f"/api/v1/records/{account.record}/media",
        {"Authorization": f"Bearer {account.token}", "Content-Type": content_type},
        body,
        stop_after=len(body) // 2,
    )
    deployment.kill(web)
    connection.close()

    assert _media(app) == []
    assert files_under(deployment.data_dir / "originals") == set()
    assert temporary_leftovers(deployment.data_dir) == []

    deployment.start_web()
    deployment.start_worker()
    response = _api_upload(deployment, account, "le-hoi.jpg", content)
    assert response.status_code == 201, response.text
    wait_for(lambda: _all_ready(app), timeout=60)
    check_consistent(app)


def test_resumable_upload_killed_mid_chunk_resumes_after_the_restart(deployment, tmp_path):
    """The web process dies in the middle of a tus PATCH: after the restart the server reports the bytes
    it kept, the client sends the rest, and the file becomes a media file like any other."""
    app = deployment.app
    account = _contributor(app)
    from archive.media.tus import RECORD_EVERY

    # Big enough for the server to record its offset (every RECORD_EVERY bytes) before the crash.
    content = noisy_jpeg(tmp_path / "le-hoi.jpg", size=(3400, 2800)).read_bytes()
    assert len(content) > 2 * RECORD_EVERY
    web = deployment.start_web()
    base = f"http://127.0.0.1:{deployment.port}"
    with requests.Session() as http:
        token = sign_in(http, base, account)
        cookies = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    headers = {**TUS, "Cookie": cookies, "X-CSRFToken": token}
    created = requests.post(
        f"{base}/uploads/",
        headers={**headers, "Upload-Length": str(len(content)),
                 "Upload-Metadata": metadata_header(filename="le-hoi.jpg", record=account.record)},
        timeout=30,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    path = created.headers["Location"].split("://", 1)[-1].split("/", 1)[-1]
    part = deployment.data_dir / "incoming" / "tus" / (path.rsplit("/", 1)[1] + ".part")
    connection = send_slowly(
        deployment.port,
        f"/{path}",
        {**headers, "Upload-Offset": "0", "Content-Type": OCTET},
        content,
        stop_after=RECORD_EVERY + 1024 * 1024,
        chunk=65536,
        method="PATCH",
    )
    wait_for(lambda: part.exists() and part.stat().st_size > RECORD_EVERY + 512 * 1024, timeout=30)
    deployment.kill(web)
    connection.close()

    deployment.start_web()
    base = f"http://127.0.0.1:{deployment.port}"
    head = requests.head(f"{base}/{path}", headers=headers, timeout=30)
    assert head.status_code == 200, head.text
    kept = int(head.headers["Upload-Offset"])
    # The bytes recorded before the crash are kept; the ones after it are sent again.
    assert kept == RECORD_EVERY
    rest = requests.patch(
        f"{base}/{path}",
        data=content[kept:],
        headers={**headers, "Upload-Offset": str(kept), "Content-Type": OCTET},
        timeout=60,
    )
    assert rest.status_code == 204, rest.text
    deployment.start_worker()
    wait_for(lambda: _all_ready(app), timeout=60)
    from archive.core.extensions import db
    from archive.core.storage import original_path

    with app.app_context():
        media = db.session.scalar(sa.select(MediaFile))
        assert original_path(media.storage_key).read_bytes() == content  # the very same bytes
        db.session.remove()
    check_consistent(app)


def test_recovery_removes_old_orphans_and_keeps_what_may_still_be_committed(deployment, tmp_path):
    """An original moved into the store by an ingest killed before its commit is removed once it is older
    than the grace period; a recent one (an ingest about to commit) and every referenced file are kept.
    The same for the incoming area and derivative directories of media that do not exist."""
    from archive.core.extensions import db
    from archive.core.storage import original_path
    from archive.media.services import ingest_file
    from archive.records.models import HeritageRecord

    app = deployment.app
    account = _contributor(app)
    with app.app_context():
        record = db.session.scalar(
            sa.select(HeritageRecord).where(HeritageRecord.public_id == account.record)
        )
        kept = ingest_file(record, noisy_jpeg(tmp_path / "kept.jpg", size=(300, 200)), "kept.jpg", None)
        db.session.commit()
        referenced = original_path(kept.storage_key)
        db.session.remove()
    os.utime(referenced, (HOUR_AGO, HOUR_AGO))  # referenced: kept however old
    originals = deployment.data_dir / "originals"
    old_orphan = originals / "ab" / "cd" / ("abcd" + "0" * 60 + ".jpg")
    new_orphan = originals / "ef" / "01" / ("ef01" + "1" * 60 + ".jpg")
    for path in (old_orphan, new_orphan):
        path.parent.mkdir(parents=True)
        path.write_bytes(b"\xff\xd8 not committed")
        path.chmod(0o444)
    old_upload = deployment.data_dir / "incoming" / "upload-killed"
    new_upload = deployment.data_dir / "incoming" / "upload-arriving"
    old_upload.parent.mkdir(exist_ok=True)
    old_upload.write_bytes(b"half")
    new_upload.write_bytes(b"half")
    gone_media = deployment.data_dir / "derivatives" / "m0000000000"
    gone_media.mkdir(parents=True)
    (gone_media / "web.m4a").write_bytes(b"x")
    for path in (old_orphan, old_upload, gone_media / "web.m4a", gone_media):
        os.utime(path, (HOUR_AGO, HOUR_AGO))

    dry = deployment.run_command("recover", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"would remove unreferenced original originals/{old_orphan.relative_to(originals)}" in dry.stdout
    assert old_orphan.exists() and old_upload.exists()

    done = deployment.run_command("recover")
    assert done.returncode == 0, done.stderr
    assert "removed unreferenced original" in done.stdout and "Recovery done: 3 files removed." in done.stdout
    assert not old_orphan.exists() and not old_upload.exists() and not gone_media.exists()
    assert new_orphan.exists() and new_upload.exists() and referenced.exists()

    # Once the grace period has passed for them too (here: none), nothing unreferenced is left.
    done = deployment.run_command("recover", "--older-than", "0")
    assert done.returncode == 0, done.stderr
    assert not new_orphan.exists() and not new_upload.exists() and referenced.exists()


# --- b. import -----


def test_import_killed_midway_leaves_nothing_and_runs_again(deployment, tmp_path):
    """``archive import-csv`` with media, killed after it has stored some originals but before its
    commit: no record or media of it exists; recovery removes the stored files; the import runs again."""
    app = deployment.app
    media_dir = tmp_path / "media"
    media_dir.mkdir()
    rows = ["category,status,title@vi,files"]
    count = 30
    for n in range(count):
        noisy_jpeg(media_dir / f"anh-{n}.jpg", size=(400, 300))
        rows.append(f"festival,published,Lễ hội nhập {n},anh-{n}.jpg")
    csv_path = tmp_path / "records.csv"
    csv_path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    originals = deployment.data_dir / "originals"

    importing = deployment.spawn_command("import-csv", str(csv_path), "--media", str(media_dir))
    wait_for(
        lambda: len(files_under(originals)) >= 5 or importing.poll() is not None, timeout=60, interval=0.02
    )
    assert importing.poll() is None, "the import finished before it could be killed: " + deployment.log(
        importing
    )
    deployment.kill(importing)

    from archive.core.extensions import db
    from archive.records.models import HeritageRecord

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(HeritageRecord)) == 0
        db.session.remove()
    assert _media(app) == []
    stored = files_under(originals)
    assert stored  # the files moved into place before the commit that never came
    done = deployment.run_command("recover", "--older-than", "0")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("removed unreferenced original") == len(stored)
    assert files_under(originals) == set()
    assert temporary_leftovers(deployment.data_dir) == []  # also the copy being ingested when it died

    again = deployment.run_command("import-csv", str(csv_path), "--media", str(media_dir), "--lang", "en")
    assert again.returncode == 0, again.stderr
    assert f"{count} records imported." in again.stdout
    deployment.start_worker()
    wait_for(lambda: len(_media(app)) == count and _all_ready(app), timeout=120)
    check_consistent(app)


# --- c. derivative job -----


def test_worker_killed_while_ffmpeg_runs_finishes_the_job_after_the_restart(deployment, tmp_path):
    """The worker (and its ffmpeg) die while a video's renditions are being made: the restarted worker
    takes the job over, the media ends ready with one row per rendition, and no work directory is left."""
    app = deployment.app
    account = _contributor(app)
    video = tmp_path / "le-hoi.mp4"
    subprocess.run(  # noqa: S603
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=1280x720:rate=25", "-f", "lavfi",
         "-i", "sine=frequency=440", "-t", "6", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(video)],
        check=True, timeout=60,
    )  # fmt: skip
    deployment.start_web()
    worker = deployment.start_worker()
    response = _api_upload(deployment, account, "le-hoi.mp4", video.read_bytes())
    assert response.status_code == 201, response.text
    derivatives = deployment.data_dir / "derivatives"

    def encoding() -> bool:
        assert worker.poll() is None, deployment.log(worker)
        work_dirs = list(derivatives.glob(".m*")) if derivatives.exists() else []
        return bool(work_dirs and children_named(worker.pid, "ffmpeg"))

    wait_for(encoding, timeout=60, interval=0.05)
    assert _media(app)[0][1] == "processing"
    deployment.kill(worker)
    kill_children_named(worker.pid, "ffmpeg")  # ffmpeg runs in a session of its own
    assert any(p.name.startswith(".m") for p in derivatives.iterdir())  # a half-made work directory

    deployment.start_worker()
    wait_for(lambda: _all_ready(app), timeout=120)
    from archive.core.extensions import db

    with app.app_context():
        names = db.session.scalars(sa.select(MediaDerivative.name).order_by(MediaDerivative.name)).all()
        attempts = db.session.scalar(sa.select(MediaFile.attempts))
        db.session.remove()
    assert len(names) == len(set(names)) and {"720", "360", "poster"} <= set(names)
    assert attempts == 2  # the killed attempt and the one that finished
    check_consistent(app)


# --- d. index update -----


def _create_records(app, count: int) -> list[int]:
    from archive.core.extensions import db
    from archive.records.services import create_record
    from metadata.csv_records import RecordInput

    ids = []
    with app.app_context():
        for n in range(count):
            ids.append(create_record(RecordInput.titled(f"Lễ hội chỉ mục số {n}"), actor=None).id)
        db.session.commit()
        db.session.remove()
    return ids


def test_index_rebuild_killed_midway_is_healed_by_the_restarted_worker(deployment):
    """``archive reindex`` is killed while it holds the index writer lock; records are edited meanwhile.
    The restarted worker releases the dead process's lock, applies the outbox, and the index then agrees
    with the database (edited titles findable); the half-built index directory is swept."""
    from archive.core.extensions import db
    from archive.core.jobs import huey_for
    from archive.records.models import RecordText
    from archive.search.models import SearchOutbox
    from archive.search.service import WRITER_LOCK, rebuild_index, search_records

    app = deployment.app
    ids = _create_records(app, 600)
    with app.app_context():
        rebuild_index()
        db.session.remove()
    huey = huey_for(app)

    search = deployment.data_dir / "search"
    live = (search / "CURRENT").read_text().strip()

    def writing() -> bool:  # the lock is held and the new index directory is being filled
        return huey.is_locked(WRITER_LOCK) and any(
            p.name.startswith("index-") and p.name != live for p in search.iterdir()
        )

    reindexing = deployment.spawn_command("reindex")
    wait_for(lambda: writing() or reindexing.poll() is not None, timeout=60, interval=0.01)
    assert reindexing.poll() is None, "the rebuild finished before it could be killed"
    deployment.kill(reindexing)
    lock_key = f"{huey.name}.lock.{WRITER_LOCK}"
    dead_holder = f"{socket.gethostname()}:{reindexing.pid}"
    assert huey.get(lock_key, peek=True) == dead_holder  # left behind by the killed process

    with app.app_context():
        for record_id in ids[:20]:
            text = db.session.scalar(
                sa.select(RecordText).where(RecordText.record_id == record_id, RecordText.field == "title")
            )
            text.value = f"Hội làng đổi tên {record_id}"
        db.session.commit()
        db.session.remove()

    deployment.start_worker()

    def found(word: str) -> int:
        with app.test_request_context("/?lang=vi"):
            total = search_records(word).total
            db.session.remove()
        return total

    def outbox_empty() -> bool:
        with app.app_context():
            empty = db.session.scalar(sa.select(sa.func.count()).select_from(SearchOutbox)) == 0
            db.session.remove()
        return empty

    wait_for(lambda: found("doi ten") == 20 and outbox_empty(), timeout=90)
    assert huey.get(lock_key, peek=True) != dead_holder  # free, or held by the live worker
    done = deployment.run_command("recover", "--older-than", "0")
    assert done.returncode == 0, done.stderr
    live = (search / "CURRENT").read_text().strip()
    assert [p.name for p in search.iterdir() if p.is_dir()] == [live]
    check_consistent(app)


def test_recovery_leaves_the_lock_of_a_live_writer_alone(deployment):
    """Only a lock whose holder has died is released."""
    from archive.core.jobs import huey_for
    from archive.preservation.recovery import held_lock, release_dead_lock

    app = deployment.app
    huey = huey_for(app)
    with app.app_context(), held_lock(huey, "crash-test-lock"):
        assert release_dead_lock(huey, "crash-test-lock") is None
        assert huey.is_locked("crash-test-lock")
    assert not huey.is_locked("crash-test-lock")
