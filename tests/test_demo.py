"""The demo content: enough real festivals and customs, places old and new, and working media."""

import hashlib

import sqlalchemy as sa

from archive.core.storage import original_path
from archive.media.models import MediaFile
from archive.records.models import FestivalTiming, HeritageRecord, record_ethnic_group, record_place
from archive.vocab.models import Place


def test_demo_covers_enough_records_groups_and_provinces(db):
    assert db.session.scalar(sa.select(sa.func.count()).select_from(HeritageRecord)) >= 40
    assert (
        db.session.scalar(sa.select(sa.func.count(sa.distinct(record_ethnic_group.c.ethnic_group_id)))) >= 20
    )
    provinces = set()
    for place in db.session.scalars(sa.select(Place).join(record_place, record_place.c.place_id == Place.id)):
        provinces.add(place.current_province_id)
    assert len(provinces) >= 15
    systems = set(
        db.session.scalars(sa.select(Place.system).join(record_place, record_place.c.place_id == Place.id))
    )
    assert systems == {"pre2025", "2025"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FestivalTiming)) >= 10


def test_every_record_is_bilingual(db):
    for record in db.session.scalars(sa.select(HeritageRecord)):
        for field in ("title", "summary", "description"):
            assert {v.lang for v in record.values(field)} >= {"vi", "en"}, (record.slug, field)


def test_demo_media_exist_are_labelled_and_match_their_checksums(db):
    media = db.session.scalars(sa.select(MediaFile)).all()
    assert {m.kind for m in media} == {"image", "audio", "video"}
    for m in media:
        assert m.is_illustration
        data = original_path(m.storage_key).read_bytes()
        assert hashlib.sha256(data).hexdigest() == m.sha256 and len(data) == m.size_bytes
        if m.kind in ("audio", "video"):
            assert m.duration_seconds and m.duration_seconds > 0.5
        else:
            assert m.width == 1200 and m.height == 800


def test_every_demo_media_file_has_working_renditions(db, client):
    """Each demo file was derived by the pipeline: ready, with its renditions on disk and served."""
    from archive.media.services import derivative_path

    expected = {
        "image": {"pyramid", "thumbnail"},
        "audio": {"web", "low", "peaks"},
        "video": {"720", "360", "audio_low", "poster"},
    }
    media = db.session.scalars(sa.select(MediaFile)).all()
    for m in media:
        assert m.state == "ready", (m.public_id, m.state, m.state_detail)
        assert {d.name for d in m.derivatives} == expected[m.kind], m.public_id
        for d in m.derivatives:
            assert derivative_path(d).exists()
    sample = {
        m.kind: m
        for m in media
        if m.access_level == "public" and m.record.access_level == "public" and m.record.status == "published"
    }
    with client.get(f"/media/{sample['audio'].public_id}/r/low") as low:
        assert low.status_code == 200 and low.mimetype == "audio/ogg"
    with client.get(f"/media/{sample['video'].public_id}/r/360", headers={"Range": "bytes=0-1023"}) as video:
        assert video.status_code == 206 and len(video.data) == 1024
    with client.get(f"/iiif/3/{sample['image'].public_id}/full/!400,400/0/default.jpg") as image:
        assert image.status_code == 200 and image.mimetype == "image/jpeg"
