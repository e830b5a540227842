"""The second copy: written after ingest, verified by fixity runs, and used to repair in both directions."""

from __future__ import annotations

import os

import pytest

from tests.preservation.test_fixity import checks_of, flip_byte, ingest_image, media_paths, run_cli, sign_in


@pytest.fixture
def replicated(isolated_app, tmp_path):
    replica = tmp_path / "replica"
    replica.mkdir()
    return isolated_app("replica", REPLICA_DIR=str(replica)), replica


def test_the_copy_is_written_after_ingest_and_repairs_a_damaged_primary(replicated, tmp_path):
    from media.probe import sha256_file

    app, replica = replicated
    public_id = ingest_image(app, tmp_path, "copy")
    original, _pyramid, key = media_paths(app, public_id)
    copy = replica / "originals" / key
    assert copy.read_bytes() == original.read_bytes()
    assert oct(copy.stat().st_mode & 0o777) == "0o444"
    digest = sha256_file(original)

    flip_byte(original)
    found = run_cli(app, "--kind", "originals")
    assert found.exit_code == 1 and "mismatch" in found.output
    repaired = run_cli(app, "--kind", "originals", "--repair")
    assert repaired.exit_code == 0, repaired.output
    assert sha256_file(original) == digest
    assert checks_of(app, key)[-1] == ("primary", "repaired")


def test_a_damaged_or_missing_copy_is_repaired_from_the_primary(replicated, tmp_path):
    from media.probe import sha256_file

    app, replica = replicated
    public_id = ingest_image(app, tmp_path, "badcopy", color=(90, 10, 160))
    original, _pyramid, key = media_paths(app, public_id)
    copy = replica / "originals" / key
    flip_byte(copy)
    assert run_cli(app, "--kind", "originals").exit_code == 1
    assert run_cli(app, "--kind", "originals", "--repair").exit_code == 0
    assert sha256_file(copy) == sha256_file(original)
    os.chmod(copy, 0o644)
    copy.unlink()
    copied = run_cli(app, "--kind", "originals")  # a missing copy is written even without --repair
    assert copied.exit_code == 0 and "Copied to the second copy: 1." in copied.output
    assert copy.exists()


def test_when_both_copies_are_damaged_the_failure_stays(replicated, tmp_path):
    app, replica = replicated
    public_id = ingest_image(app, tmp_path, "both", color=(250, 250, 10))
    original, _pyramid, key = media_paths(app, public_id)
    flip_byte(original)
    flip_byte(replica / "originals" / key, offset=200)
    result = run_cli(app, "--kind", "originals", "--repair")
    assert result.exit_code == 1
    assert "primary" in result.output and "copy" in result.output
    assert checks_of(app, key)[-2:] == [("primary", "mismatch"), ("copy", "mismatch")]
    page = sign_in(app, "curator").get("/en/admin/preservation").get_data(as_text=True)
    assert page.count(key) >= 2


def test_the_copy_job_carries_the_id_of_the_request_that_stored_the_file(isolated_app, tmp_path):
    """The copy is queued from the commit hook through the queue's own path: the queued job carries the id
    of the request that stored the file, and the worker logs the copy with it."""
    import io
    import json
    import logging

    from sqlalchemy import select

    from archive.core import observability
    from archive.core.extensions import db
    from archive.core.jobs import REQUEST_ID_KWARG, huey_for
    from archive.media.models import MediaFile
    from archive.preservation.replica import REPLICATE_JOB

    replica = tmp_path / "replica"
    replica.mkdir()
    app = isolated_app("replica-queued", REPLICA_DIR=str(replica), JOBS_IMMEDIATE=False)
    token = observability.current_request_id.set("upload-req-7")
    try:
        public_id = ingest_image(app, tmp_path, "reqid")
    finally:
        observability.current_request_id.reset(token)
    huey = huey_for(app)
    queued = [task for task in huey.pending() if task.name == REPLICATE_JOB]
    assert [task.kwargs for task in queued] == [{REQUEST_ID_KWARG: "upload-req-7"}]
    with app.app_context():
        key = db.session.scalar(select(MediaFile.storage_key).where(MediaFile.public_id == public_id))
        db.session.remove()
    assert not (replica / "originals" / key).exists()  # nothing copied before the worker runs the job

    stream = io.StringIO()
    handler = observability.configure_logging("json", "INFO", stream=stream)
    try:
        huey.execute(queued[0])  # as the worker would, outside any request
    finally:
        logging.getLogger().removeHandler(handler)
    assert (replica / "originals" / key).exists()
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    copied = [line for line in lines if line["message"] == f"original {key} copied to the replica"]
    assert [line["request_id"] for line in copied] == ["upload-req-7"]
