"""Model rules of heritage records: identifiers, slugs, controlled values, optimistic locking."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from archive.core.identifiers import ALPHABET, mint_identifier, register_identifier
from archive.records.models import HeritageRecord, RecordText
from archive.records.services import RecordError


def test_public_identifier_is_opaque_and_registered(make_record, db):
    record = make_record(title="Lễ hội Lồng Tồng thử nghiệm")
    assert record.public_id.startswith("r") and len(record.public_id) == 11
    assert set(record.public_id[1:]) <= set(ALPHABET)
    assert "long" not in record.public_id  # nothing readable leaks into the identifier
    assert record.slug == "le-hoi-long-tong-thu-nghiem"


def test_identifiers_are_never_reused_even_after_deletion(make_record, db):
    record = make_record()
    public_id = record.public_id
    db.session.delete(record)
    db.session.flush()
    assert db.session.scalar(sa.select(HeritageRecord).filter_by(public_id=public_id)) is None
    assert register_identifier(public_id, "record") is False
    assert mint_identifier("record") != public_id


def test_slugs_are_unique_and_made_readable(make_record):
    first = make_record(title="Hội Gầu Tào")
    second = make_record(title="Hội Gầu Tào")
    assert (first.slug, second.slug) == ("hoi-gau-tao", "hoi-gau-tao-2")
    with pytest.raises(RecordError) as error:
        make_record(title="Khác", slug="hoi-gau-tao")
    assert error.value.code == "slug_taken"


@pytest.mark.parametrize(
    ("column", "value"), [("category", "party"), ("status", "archived"), ("access_level", "secret")]
)
def test_controlled_values_are_enforced_by_the_database(make_record, db, column, value):
    record = make_record()
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.execute(
                sa.update(HeritageRecord).where(HeritageRecord.id == record.id).values({column: value})
            )


def test_multilingual_values_keep_language_and_order(make_record, db):
    from metadata.languages import LangString

    record = make_record(
        texts={
            "title": [LangString("Lễ Cấp Sắc", "vi"), LangString("Cap Sac initiation", "en")],
            "alternative": [
                LangString("Lễ lập tịch", "vi"),
                LangString("Tẩu sai", "ium"),
                LangString("Quá tăng", "vi"),
            ],
        }
    )
    db.session.expire(record)
    assert [(v.value, v.lang) for v in record.values("alternative")] == [
        ("Lễ lập tịch", "vi"),
        ("Tẩu sai", "ium"),
        ("Quá tăng", "vi"),
    ]
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(RecordText).where(RecordText.record_id == record.id)
        )
        == 5
    )


def test_timestamps_are_timezone_aware(make_record, db):
    record = make_record()
    db.session.expire(record)
    assert record.created_at.tzinfo is not None and record.updated_at.utcoffset().total_seconds() == 0


def test_stale_edits_are_refused(make_record, db):
    """Optimistic locking: an edit based on an old version fails instead of overwriting."""
    record = make_record()
    assert record.version_id == 1  # the version the curator's edit form was based on
    db.session.execute(
        sa.update(HeritageRecord)
        .where(HeritageRecord.id == record.id)
        .values(version_id=HeritageRecord.version_id + 1)
        # as if another curator saved meanwhile: this session still holds the old version
        .execution_options(synchronize_session=False)
    )
    record.category = "ritual"
    with pytest.raises(StaleDataError):
        db.session.flush()
