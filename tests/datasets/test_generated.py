"""Datasets generated from the archive: they count exactly what a visitor sees, and refresh on change."""

from __future__ import annotations

import pytest

from archive.browse import services as browse
from archive.core.jobs import huey_for
from archive.datasets import services
from archive.datasets.generated import (
    GENERATORS,
    REFRESH_JOB,
    dataset_of,
    refresh_generated,
    refresh_schedule,
)
from archive.datasets.models import DatasetRefresh
from archive.records.services import public_records
from archive.vocab.models import EthnicGroup, Place


def _column(generator: str, table: str, key: str, value: str) -> dict[str, int]:
    dataset = dataset_of(generator)
    content = services.table_content(dataset.latest_version.table(table))
    rows = [dict(zip(content.names, row, strict=True)) for row in content.rows]
    return {r[key]: r[value] for r in rows}


def test_generated_datasets_exist_and_are_public(db):
    for name, generator in GENERATORS.items():
        dataset = dataset_of(name)
        assert dataset is not None and dataset.is_public, name
        assert dataset.slug == generator.slug and dataset.origin == "generated"
        assert dataset.accrual_periodicity == "DAILY"


def test_counts_are_those_of_the_browse_pages_for_visitors(db, app):
    visible = public_records()
    by_group = _column("records-by-ethnic-group", "by-ethnic-group", "group_slug", "records")
    groups = {g.id: g.slug for g in db.session.query(EthnicGroup)}
    assert len(by_group) == len(groups) == 54
    expected = browse.counts_by_ethnic_group(visible)
    assert {slug: by_group[slug] for slug in groups.values()} == {
        slug: expected.get(gid, 0) for gid, slug in groups.items()
    }
    assert sum(by_group.values()) > 0
    for system, table in (("2025", "provinces-2025"), ("pre2025", "provinces-pre2025")):
        counted = _column("records-by-province", table, "province_code", "records")
        codes = {p.id: p.code for p in db.session.query(Place).filter_by(system=system, level="province")}
        expected = browse.counts_by_province(visible, system)
        assert counted == {code: expected.get(pid, 0) for pid, code in codes.items()}
    assert _column("records-by-category", "by-category", "category", "records") == {
        code: n for code, n in browse.counts_by_category(visible).items()
    } | {
        code: 0
        for code in _column("records-by-category", "by-category", "category", "records")
        if code not in browse.counts_by_category(visible)
    }
    pages = _column("records-by-ethnic-group", "by-ethnic-group", "group_slug", "page")
    assert pages["tay"] == f"{app.config['BASE_URL']}/groups/tay"
    assert len(_column("festivals-by-lunar-month", "by-lunar-month", "lunar_month", "records")) == 12


def test_restricted_and_draft_records_are_not_counted_public_ones_are(db, make_record):
    refresh_generated()  # in step with the database before the test's records
    before = dataset_of("records-by-ethnic-group").latest_version.number
    tay = _column("records-by-ethnic-group", "by-ethnic-group", "group_slug", "records")["tay"]
    thai_nguyen = _column("records-by-province", "provinces-2025", "province_code", "records")["2025-p19"]
    make_record(status="draft")
    make_record(access_level="private")
    run = refresh_generated()
    assert run.outcome["records-by-ethnic-group"] == "unchanged"
    assert dataset_of("records-by-ethnic-group").latest_version.number == before
    make_record()  # public, Tày, in Bắc Kạn (now Thái Nguyên)
    run = refresh_generated()
    assert run.outcome["records-by-ethnic-group"] == f"new version {before + 1}"
    assert _column("records-by-ethnic-group", "by-ethnic-group", "group_slug", "records")["tay"] == tay + 1
    assert (
        _column("records-by-province", "provinces-2025", "province_code", "records")["2025-p19"]
        == thai_nguyen + 1
    )
    assert run.finished_at is not None and db.session.get(DatasetRefresh, run.id) is not None


def test_an_unchanged_refresh_makes_no_version(db, runner):
    refresh_generated()
    numbers = {name: len(dataset_of(name).versions) for name in GENERATORS}
    result = runner.invoke(args=["archive", "datasets", "refresh"])
    assert result.exit_code == 0, result.output
    assert all(f"{name}: unchanged" in result.output for name in GENERATORS)
    assert {name: len(dataset_of(name).versions) for name in GENERATORS} == numbers


def test_a_failing_publication_leaves_no_half_made_version(db, make_record, monkeypatch):
    refresh_generated()
    make_record()
    dataset = dataset_of("records-by-category")
    versions = [v.number for v in dataset.versions]

    def refuse(*args, **kwargs):
        raise services.DatasetError("checksum_mismatch", 409)

    monkeypatch.setattr(services, "publish_version", refuse)
    run = refresh_generated(["records-by-category"])
    assert run.outcome["records-by-category"].startswith("error")
    dataset = dataset_of("records-by-category")
    assert [v.number for v in dataset.versions] == versions
    assert dataset.draft_version is None


@pytest.mark.parametrize(("hour", "utc"), [(2, "19"), (7, "0"), (23, "16")])
def test_the_schedule_is_vietnam_time_in_utc(hour, utc):
    assert refresh_schedule(hour) == {"minute": "0", "hour": utc}


def test_the_daily_job_is_registered(app):
    assert REFRESH_JOB in app.extensions["jobs"]
    assert huey_for(app).utc  # crontabs are read in UTC, hence the conversion above


def test_media_becoming_ready_asks_for_one_refresh_per_burst(app, db):
    """A media file that becomes ready schedules a refresh in DATASET_REFRESH_DELAY seconds, once per
    burst; the refresh clears the mark, so the next change asks again."""
    from archive.core.jobs import huey_for
    from archive.datasets import generated

    huey = huey_for(app)
    huey.get(generated._PENDING_KEY)  # start clean
    before = len(huey.scheduled())
    app.config["DATASET_REFRESH_DELAY"] = 300
    try:
        generated.request_refresh()
        generated.request_refresh()
        scheduled = huey.scheduled()
        assert len(scheduled) == before + 1
        assert scheduled[-1].name == generated.REFRESH_SOON_JOB
        runs = db.session.query(generated.DatasetRefresh).count()
        app.extensions["jobs"][generated.REFRESH_SOON_JOB]()  # what the consumer runs when it is due
        assert db.session.query(generated.DatasetRefresh).count() == runs + 1
        generated.request_refresh()
        assert len(huey.scheduled()) == before + 2
    finally:
        app.config["DATASET_REFRESH_DELAY"] = 0
        huey.get(generated._PENDING_KEY)
        huey.storage.flush_schedule()


def test_no_refresh_is_scheduled_when_the_delay_is_zero(app, db):
    from archive.core.jobs import huey_for
    from archive.datasets import generated

    huey = huey_for(app)
    before = len(huey.scheduled())
    generated.request_refresh()
    assert len(huey.scheduled()) == before
