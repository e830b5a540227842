"""Fixity checks: a flipped byte, a removed file, a damaged derivative are found, recorded, shown to curators;
the scheduled job cycles through every file in bounded batches."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import delete as sa_delete
from sqlalchemy import func, select

from tests.media import samples


def ingest_image(app, tmp_path: Path, name: str, color=(10, 200, 30)) -> str:
    """A record with one picture, its derivatives built; returns the media's public id."""
    from archive.core.extensions import db
    from archive.media.services import ingest_file, queue_derivatives
    from archive.records.services import create_record
    from metadata.csv_records import RecordInput

    with app.app_context():
        record = create_record(RecordInput.titled(f"Bảo quản {name}"), actor=None)
        source = samples.jpeg(tmp_path / f"{name}.jpg", size=(640, 400), color=color)
        media = ingest_file(record, source, source.name, actor=None)
        db.session.commit()
        queue_derivatives(media)
        public_id = media.public_id
        db.session.remove()
    return public_id


def flip_byte(path: Path, offset: int = 100) -> None:
    """Change one byte of a stored (read-only) file in place."""
    os.chmod(path, 0o644)
    with path.open("r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0xFF]))
    os.chmod(path, 0o444)


def media_paths(app, public_id: str) -> tuple[Path, Path, str]:
    """(original path, pyramid directory, original storage key)."""
    from archive.core.extensions import db
    from archive.core.storage import original_path
    from archive.media.models import MediaFile
    from archive.media.services import derivative_path

    with app.app_context():
        media = db.session.scalar(select(MediaFile).where(MediaFile.public_id == public_id))
        assert media.state == "ready"
        result = (
            original_path(media.storage_key),
            derivative_path(media.derivative("pyramid")),
            media.storage_key,
        )
        db.session.remove()
    return result


def run_cli(app, *args: str):
    from archive.preservation.cli_fixity import fixity_command

    return app.test_cli_runner().invoke(fixity_command, list(args))


def checks_of(app, key: str) -> list[tuple[str, str]]:
    from archive.core.extensions import db
    from archive.preservation.models import FixityCheck

    with app.app_context():
        rows = db.session.execute(
            select(FixityCheck.location, FixityCheck.outcome)
            .where(FixityCheck.storage_key == key)
            .order_by(FixityCheck.id)
        ).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def sign_in(app, role: str):
    from archive.accounts.models import User
    from archive.core.extensions import db

    with app.app_context():
        user = User(email=f"{role}@example.vn", display_name=role, role=role)
        user.set_password("correct horse battery")
        db.session.add(user)
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    answer = client.post("/login", data={"email": f"{role}@example.vn", "password": "correct horse battery"})
    assert answer.status_code == 302
    return client


@pytest.fixture
def archive_app(isolated_app):
    return isolated_app("fixity")


def test_good_files_pass_and_the_ingest_digest_is_the_first_check(archive_app, tmp_path):
    public_id = ingest_image(archive_app, tmp_path, "good")
    original, _pyramid, key = media_paths(archive_app, public_id)
    result = run_cli(archive_app, "--all")
    assert result.exit_code == 0, result.output
    assert "All files good." in result.output
    assert checks_of(archive_app, key) == [("primary", "ingested"), ("primary", "ok")]


def test_a_flipped_byte_in_an_original_is_found_recorded_and_shown(archive_app, tmp_path):
    public_id = ingest_image(archive_app, tmp_path, "flip")
    original, _pyramid, key = media_paths(archive_app, public_id)
    flip_byte(original)
    result = run_cli(archive_app, "--kind", "originals")
    assert result.exit_code == 1
    assert re.search(rf"mismatch\s+original\s+primary\s+{re.escape(key)}", result.output)
    assert checks_of(archive_app, key)[-1] == ("primary", "mismatch")
    # without a second copy, --repair cannot help: the failure stays
    assert run_cli(archive_app, "--repair").exit_code == 1
    curator = sign_in(archive_app, "curator")
    page = curator.get("/en/admin/preservation").get_data(as_text=True)
    assert key in page
    assert "Content changed (checksum differs)" in page
    assert "/records/" in page  # the record the file belongs to is linked


def test_a_missing_original_is_reported(archive_app, tmp_path):
    public_id = ingest_image(archive_app, tmp_path, "gone", color=(200, 10, 10))
    original, _pyramid, key = media_paths(archive_app, public_id)
    os.chmod(original, 0o644)
    original.unlink()
    result = run_cli(archive_app, "--all")
    assert result.exit_code == 1
    assert re.search(rf"missing\s+original\s+primary\s+{re.escape(key)}", result.output)
    curator = sign_in(archive_app, "administrator")
    page = curator.get("/en/admin/preservation").get_data(as_text=True)
    assert "File missing" in page and key in page


def test_a_damaged_derivative_is_found_and_rebuilt_from_the_original(archive_app, tmp_path):
    public_id = ingest_image(archive_app, tmp_path, "deriv", color=(20, 20, 220))
    _original, pyramid, _key = media_paths(archive_app, public_id)
    tile = next(p for p in sorted(pyramid.rglob("*.jpg")))
    flip_byte(tile, offset=50)
    result = run_cli(archive_app, "--kind", "derivatives")
    assert result.exit_code == 1
    derivative_key = f"{public_id}/pyramid"
    assert re.search(rf"mismatch\s+derivative\s+primary\s+{re.escape(derivative_key)}", result.output)
    repaired = run_cli(archive_app, "--kind", "derivatives", "--repair")
    assert repaired.exit_code == 0, repaired.output
    assert "Repaired: 1." in repaired.output
    assert checks_of(archive_app, derivative_key)[-1] == ("primary", "repaired")
    assert run_cli(archive_app, "--kind", "derivatives").exit_code == 0


def test_a_failing_file_the_archive_no_longer_holds_leaves_the_list(archive_app, tmp_path):
    """A derivative whose row is gone (its media's derivative set changed on a rebuild) is not listed as
    failing for ever: the next check of it, or the next run, forgets its latest state; the checks stay."""
    from archive.core.extensions import db
    from archive.media.models import MediaDerivative
    from archive.preservation.models import FixityState

    public_id = ingest_image(archive_app, tmp_path, "dropped", color=(90, 20, 160))
    _original, pyramid, _key = media_paths(archive_app, public_id)
    flip_byte(next(p for p in sorted(pyramid.rglob("*.jpg"))), offset=50)
    derivative_key = f"{public_id}/pyramid"
    assert run_cli(archive_app, "--kind", "derivatives").exit_code == 1
    curator = sign_in(archive_app, "curator")
    assert derivative_key in curator.get("/en/admin/preservation").get_data(as_text=True)

    with archive_app.app_context():
        db.session.execute(sa_delete(MediaDerivative).where(MediaDerivative.storage_key == derivative_key))
        db.session.commit()
        db.session.remove()
    archive_app.config["WTF_CSRF_ENABLED"] = False
    answer = curator.post("/en/admin/preservation/check", data={"kind": "derivative", "key": derivative_key})
    assert answer.status_code == 303
    page = curator.get("/en/admin/preservation").get_data(as_text=True)
    assert "no longer holds this file" in page
    assert f">{derivative_key}<" not in page
    # Asking again about a file it never held is still a 404, and the trail of checks is kept.
    again = curator.post("/en/admin/preservation/check", data={"kind": "derivative", "key": derivative_key})
    assert again.status_code == 404
    assert checks_of(archive_app, derivative_key)[-1] == ("primary", "mismatch")

    # A whole run forgets such files too: here the media's other derivative, checked good, then dropped.
    with archive_app.app_context():
        other = db.session.scalar(
            select(MediaDerivative.storage_key).where(MediaDerivative.storage_key.startswith(f"{public_id}/"))
        )
        assert db.session.scalar(select(func.count()).where(FixityState.storage_key == other)) == 1
        db.session.execute(sa_delete(MediaDerivative).where(MediaDerivative.storage_key == other))
        db.session.commit()
        db.session.remove()
    result = run_cli(archive_app, "--kind", "derivatives")
    assert result.exit_code == 0, result.output
    with archive_app.app_context():
        assert db.session.scalar(select(func.count()).where(FixityState.storage_key == other)) == 0
        db.session.remove()


def test_the_scheduled_job_checks_bounded_batches_oldest_first(isolated_app, tmp_path):
    from archive.core.extensions import db
    from archive.preservation.fixity import SCHEDULED_JOB
    from archive.preservation.models import FixityCheck, FixityRun

    # 3 pictures = 3 originals + 6 derivatives; a cycle of 9/24 days means one file per hourly run
    app = isolated_app("schedule", FIXITY_CYCLE_DAYS=9 / 24)
    for number in range(3):
        ingest_image(app, tmp_path, f"batch{number}", color=(number * 60, 90, 90))
    seen = []
    with app.app_context():
        for _ in range(9):
            app.extensions["jobs"][SCHEDULED_JOB]()
            run = db.session.scalars(select(FixityRun).order_by(FixityRun.started_at.desc())).first()
            assert run.files_checked == 1 and run.started_by == "schedule"
            seen += db.session.scalars(
                select(FixityCheck.storage_key).where(FixityCheck.run_id == run.id)
            ).all()
            db.session.rollback()  # SQLite: hold no lock while the next job runs in its own session
        assert len(set(seen)) == 9, "every file checked once in a full cycle"
        app.extensions["jobs"][SCHEDULED_JOB]()
        again = db.session.scalars(select(FixityCheck.storage_key).order_by(FixityCheck.id.desc())).first()
        assert again == seen[0], "the next cycle starts again with the oldest-checked file"
        assert db.session.scalar(select(func.count()).select_from(FixityRun)) == 10
        db.session.remove()


def test_fixity_checks_are_append_only(archive_app, tmp_path):
    from archive.core.extensions import db
    from archive.preservation.models import FixityCheck, FixityCheckIsAppendOnly

    ingest_image(archive_app, tmp_path, "append")
    with archive_app.app_context():
        check = db.session.scalars(select(FixityCheck)).first()
        check.outcome = "ok"
        with pytest.raises(FixityCheckIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        db.session.remove()


def test_only_curators_and_administrators_see_the_page(archive_app):
    visitor = archive_app.test_client()
    answer = visitor.get("/en/admin/preservation")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    for role in ("contributor", "researcher"):
        assert sign_in(archive_app, role).get("/en/admin/preservation").status_code == 403
    contributor = archive_app.test_client()
    contributor.post("/login", data={"email": "contributor@example.vn", "password": "correct horse battery"})
    assert (
        contributor.post("/admin/preservation/check", data={"kind": "original", "key": "x"}).status_code
        == 403
    )
    curator = sign_in(archive_app, "curator")
    page = curator.get("/vi/admin/preservation")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"


def test_recheck_posts_need_a_csrf_token(archive_app, tmp_path):
    public_id = ingest_image(archive_app, tmp_path, "csrf")
    _original, _pyramid, key = media_paths(archive_app, public_id)
    curator = sign_in(archive_app, "curator")
    archive_app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = curator.post("/admin/preservation/check", data={"kind": "original", "key": key})
        assert refused.status_code == 400
        assert checks_of(archive_app, key) == [("primary", "ingested")]
        page = curator.get("/en/admin/preservation").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        if token is None:  # no failure listed: take the token from the sign-out form
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        accepted = curator.post(
            "/admin/preservation/check", data={"kind": "original", "key": key, "csrf_token": token.group(1)}
        )
        assert accepted.status_code == 303
        assert checks_of(archive_app, key)[-1] == ("primary", "ok")
    finally:
        archive_app.config["WTF_CSRF_ENABLED"] = False


def test_rebuilding_derivatives_keeps_the_uploaded_captions(archive_app, tmp_path):
    """Captions live beside the renditions but are uploads: a rebuild (or a fixity repair) must keep them."""
    from archive.core.extensions import db
    from archive.media.models import MediaFile
    from archive.media.services import (
        attach_captions,
        derivative_path,
        queue_derivatives,
        rebuild_derivatives,
    )
    from archive.records.services import create_record
    from metadata.csv_records import RecordInput

    with archive_app.app_context():
        record = create_record(RecordInput.titled("Bảo quản phụ đề"), actor=None)
        media = ingest_file_of(record, samples.wav(tmp_path / "song.wav"))
        db.session.commit()
        queue_derivatives(media)
        media = db.session.get(MediaFile, media.id)
        track = attach_captions(media, samples.VTT.encode(), "vi", "Lời hát", "captions", None)
        db.session.commit()
        caption_file = derivative_path(media.derivative("web")).parent / "captions" / "captions-vi.vtt"
        assert caption_file.read_text(encoding="utf-8") == samples.VTT
        key = track.storage_key
        rebuild_derivatives(media)
        db.session.commit()
        db.session.remove()
    assert caption_file.read_text(encoding="utf-8") == samples.VTT
    result = run_cli(archive_app, "--all")
    assert result.exit_code == 0, result.output
    assert checks_of(archive_app, key)[-1] == ("primary", "ok")


def ingest_file_of(record, source: Path):
    from archive.media.services import ingest_file

    return ingest_file(record, source, source.name, actor=None)
