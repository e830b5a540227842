"""Rebuilding derivatives from the originals, and the bounded IIIF render cache."""

import sqlalchemy as sa

from archive.media.models import MediaFile


def test_rebuild_derivatives_reproduces_the_same_files(runner, db):
    media = db.session.scalar(
        sa.select(MediaFile).where(MediaFile.kind == "audio", MediaFile.state == "ready").limit(1)
    )
    before = {d.name: d.sha256 for d in media.derivatives}
    result = runner.invoke(args=["archive", "rebuild-derivatives", media.public_id])
    assert result.exit_code == 0 and "Queued 1 rebuilds." in result.output
    db.session.expire_all()
    media = db.session.get(MediaFile, media.id)
    assert media.state == "ready" and media.attempts == 1
    assert {d.name: d.sha256 for d in media.derivatives} == before
    assert runner.invoke(args=["archive", "rebuild-derivatives"]).exit_code != 0  # names or --all


def test_render_cache_stays_within_its_budget(app, tmp_path, monkeypatch):
    from archive.iiif import cache

    monkeypatch.setitem(app.config, "DATA_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "IIIF_CACHE_BYTES", 10_000)
    with app.app_context():
        for i in range(30):
            cache.put(f"{i:064x}", b"x" * 1000)
        files = [p for p in (tmp_path / "iiif-cache").rglob("*") if p.is_file()]
        assert sum(p.stat().st_size for p in files) <= 10_000
        assert cache.get(f"{29:064x}") == b"x" * 1000  # the newest entries stay
        assert cache.get(f"{0:064x}") is None  # the oldest were evicted
