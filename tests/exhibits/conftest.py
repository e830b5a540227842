"""Exhibit fixtures: exhibits built directly in the database, and the demo's public media."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

_numbers = itertools.count(1)
SECTION_FIELDS = ("heading", "body", "caption", "alt", "region", "start_seconds", "end_seconds")


@pytest.fixture
def make_exhibit(db):
    """Create a published exhibit (or as ``overrides`` say) with ``sections``: a list of dicts with a
    ``kind`` and the section's fields; ``media`` is a MediaFile and ``records`` a list of records."""
    from archive.exhibits.models import Exhibit, ExhibitItem, ExhibitSection

    def factory(sections=(), **overrides):
        number = next(_numbers)
        fields = {
            "slug": f"trung-bay-thu-{number}",
            "title": [
                {"lang": "vi", "value": f"Trưng bày thử {number}"},
                {"lang": "en", "value": f"Test exhibit {number}"},
            ],
            "introduction": [
                {"lang": "vi", "value": "Giới thiệu."},
                {"lang": "en", "value": "Introduction."},
            ],
            "status": "published",
        }
        fields.update(overrides)
        exhibit = Exhibit(**fields)
        for position, spec in enumerate(sections):
            section = ExhibitSection(kind=spec["kind"], position=position)
            for name in SECTION_FIELDS:
                if name in spec:
                    setattr(section, name, spec[name])
            if spec.get("media") is not None:
                section.media_id = spec["media"].id
            for index, record in enumerate(spec.get("records", ())):
                section.items.append(ExhibitItem(record_id=record.id, position=index))
            exhibit.sections.append(section)
        db.session.add(exhibit)
        db.session.commit()
        return exhibit

    return factory


@pytest.fixture
def demo_media(db):
    """The demo's ready media files that everyone may see, by kind: {"image": [...], "audio": [...], ...}."""
    from archive.media.models import MediaFile
    from archive.records.models import HeritageRecord

    rows = db.session.scalars(
        select(MediaFile)
        .join(HeritageRecord, MediaFile.record_id == HeritageRecord.id)
        .where(
            MediaFile.state == "ready",
            MediaFile.access_level == "public",
            MediaFile.community_id.is_(None),
            HeritageRecord.status == "published",
            HeritageRecord.access_level == "public",
        )
        .order_by(MediaFile.id)
    ).all()
    found: dict[str, list] = {"image": [], "audio": [], "video": []}
    for media in rows:
        found[media.kind].append(media)
    assert found["image"] and found["audio"], "the demo content lacks public images or recordings"
    return found
