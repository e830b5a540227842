"""Derivative jobs on real queues: Huey on SQLite (the default) and on Redis, and a worker killed mid-job."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import IN_CI, process_env, wait_for
from tests.media import samples

REDIS_URL = os.environ.get("ARCHIVE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_available() -> bool:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception:  # noqa: BLE001
        return False
    return True


def _ingest(app, source: Path, name: str) -> int:
    from archive.core.extensions import db
    from archive.media.services import ingest_file, queue_derivatives
    from archive.records.services import create_record
    from metadata.csv_records import RecordInput

    with app.app_context():
        record = create_record(
            RecordInput.titled(f"Hàng đợi {name}"),
            actor=None,
        )
        media = ingest_file(record, source, source.name, actor=None)
        db.session.commit()
        queue_derivatives(media)
        media_id = media.id
        db.session.remove()
    return media_id


def _state(app, media_id: int) -> str:
    from archive.core.extensions import db
    from archive.media.models import MediaFile

    with app.app_context():
        try:
            return db.session.scalar(sa.select(MediaFile.state).where(MediaFile.id == media_id))
        finally:
            db.session.remove()


def _run_consumer(app):
    from huey.consumer import Consumer

    consumer = Consumer(
        app.extensions["huey"],
        workers=1,
        worker_type="thread",
        periodic=False,
        initial_delay=0.05,
        max_delay=0.5,
    )
    consumer._set_signal_handlers = lambda: None  # noqa: SLF001 - leave pytest's signal handlers alone
    consumer.start()  # scheduler and worker threads; run() would also block on the signal loop
    return consumer


def _stop(consumer):
    consumer.stop(graceful=True)


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_jobs_run_on_a_real_queue(tmp_path, isolated_app, backend):
    settings = {"JOBS_IMMEDIATE": False, "REDIS_URL": None}  # the embedded queue, also in production mode
    if backend == "redis":
        if not _redis_available():
            if IN_CI:
                pytest.fail(f"Redis is required in CI and is not reachable at {REDIS_URL}")
            pytest.skip(f"no Redis at {REDIS_URL}")
        settings["REDIS_URL"] = REDIS_URL
    app = isolated_app(f"queue_{backend}", **settings)
    huey = app.extensions["huey"]
    assert type(huey).__name__ == ("RedisHuey" if backend == "redis" else "SqliteHuey")
    huey.flush()
    media_id = _ingest(app, samples.wav(tmp_path / "q.wav", seconds=2), backend)
    queued = [task.name for task in huey.pending()]
    # The derivative job, and the index update queued by the commit that added the record and its media.
    assert _state(app, media_id) == "pending"
    assert sorted(queued) == ["derive_media", "search.sync"], queued
    consumer = _run_consumer(app)
    try:
        wait_for(lambda: _state(app, media_id) == "ready", timeout=120)
    finally:
        _stop(consumer)
    assert len(huey) == 0


def test_a_worker_killed_mid_job_loses_nothing(tmp_path, isolated_app):
    """SIGKILL the worker while it builds a video's renditions; a new worker finishes the job."""
    app = isolated_app("killed", JOBS_IMMEDIATE=False)
    media_id = _ingest(app, samples.mp4(tmp_path / "long.mp4", seconds=40, size="1920x1080"), "killed")
    env = process_env(app, ARCHIVE_WORKERS="1")
    command = [str(Path(sys.executable).with_name("archive")), "worker"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        derivatives = Path(app.config["DATA_DIR"]) / "derivatives"
        # kill it once it is really at work: claimed, and writing renditions into its hidden directory
        wait_for(
            lambda: _state(app, media_id) == "processing" and list(derivatives.glob(".*")),
            timeout=60,
            interval=0.05,
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    assert _state(app, media_id) == "processing"  # the claim of a dead worker is left behind
    work_dirs = list((Path(app.config["DATA_DIR"]) / "derivatives").glob(".*"))
    second = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _state(app, media_id) == "ready", timeout=300, interval=0.5)
    finally:
        second.send_signal(signal.SIGINT)
        try:
            second.wait(timeout=30)
        except subprocess.TimeoutExpired:
            second.kill()
    from archive.core.extensions import db
    from archive.media.models import MediaFile

    with app.app_context():
        media = db.session.get(MediaFile, media_id)
        assert {d.name for d in media.derivatives} == {"720", "360", "audio_low", "poster"}
        assert media.attempts == 2
        db.session.remove()
    assert work_dirs  # the killed job had started writing; its half-built directory is cleaned up
    assert list((Path(app.config["DATA_DIR"]) / "derivatives").glob(".*")) == []
