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
