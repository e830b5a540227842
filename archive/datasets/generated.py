"""Datasets generated from the archive itself, and the job that refreshes them.

Each generator computes a table from what an anonymous visitor can see today: the public records
(archive.records.services.public_records: published, public, not withheld by a community protocol) and,
of their media, the processed files whose own access is public (archive.core.access.media_key). Nothing
a visitor cannot see is counted, so the figures never reveal restricted material.

:func:`refresh_generated` runs every generator and publishes a new version of a generated dataset only
when its content changed (the version checksum over table names, contents and schemas); each dataset is
built and published in its own transaction, so a failure leaves no half-made version, and each run is
recorded as a DatasetRefresh. The worker runs it daily at DATASET_REFRESH_HOUR (Vietnam time); the
``archive datasets refresh`` command runs it now.

Publishing a record does not trigger a refresh: the datasets are declared daily, and a burst of
publications would otherwise make a burst of versions. Run the command for an immediate refresh.
"""

from __future__ import annotations

import logging
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from archive.browse import services as browse
from archive.core import access
from archive.core.extensions import db
from archive.core.jobs import huey_for, job, periodic
from archive.core.types import from_langstrings, utcnow
from archive.datasets import services
from archive.datasets.models import Dataset, DatasetRefresh
from archive.datasets.seed import contact, publisher_values
from archive.media.models import MediaFile
from archive.records.models import (
    DocumentedDate,
    FestivalTiming,
    HeritageRecord,
    record_ethnic_group,
    record_place,
)
from archive.records.services import public_records
from archive.vocab.models import EthnicGroup, Place
from config import Config
from metadata import tables
from metadata.categories import CATEGORIES
from metadata.languages import LangString, from_mapping
from metadata.lunar import lunar_month_name

logger = logging.getLogger(__name__)

REFRESH_JOB = "datasets.refresh"
#: A refresh asked for after a change (media ready), run once after DATASET_REFRESH_DELAY seconds.
REFRESH_SOON_JOB = "datasets.refresh_soon"
_PENDING_KEY = "datasets-refresh-pending"
#: Vietnam's offset from UTC, in hours: the consumer's crontab runs in UTC (Huey's default, utc=True).
VIETNAM_UTC_OFFSET = 7


def refresh_schedule(hour_in_vietnam: int) -> dict[str, str]:
    """The crontab (in UTC) of a daily run at *hour_in_vietnam* o'clock, Vietnam time."""
    return {"minute": "0", "hour": str((hour_in_vietnam - VIETNAM_UTC_OFFSET) % 24)}


# --- what a visitor sees --------------------------------------------------------------------------


@dataclass
class PublicFacts:
    """The public records' ids and categories, and per record its public media (files, seconds)."""

    record_ids: set[int]
    category: dict[int, str]
    media_files: dict[int, int]
    media_seconds: dict[int, float]

    @classmethod
    def read(cls) -> PublicFacts:
        """Read what an anonymous visitor can see today."""
        visible = public_records().with_only_columns(HeritageRecord.id, HeritageRecord.category)
        category = {rid: code for rid, code in db.session.execute(visible)}
        ids = set(category)
        files: dict[int, int] = defaultdict(int)
        seconds: dict[int, float] = defaultdict(float)
        if ids:
            media = db.session.scalars(
                select(MediaFile)
                .where(MediaFile.record_id.in_(sorted(ids)), MediaFile.state == "ready")
                .options(selectinload(MediaFile.record).selectinload(HeritageRecord.consents))
            )
            today = access.today_in_vietnam()
            for item in media:
                if access.media_key(item, today) != access.PUBLIC:
                    continue
                files[item.record_id] += 1
                if item.kind in ("audio", "video") and item.duration_seconds:
                    seconds[item.record_id] += item.duration_seconds
        return cls(ids, category, dict(files), dict(seconds))

    def totals(self, record_ids: set[int]) -> tuple[int, int, str]:
        """(records, media files, media hours as text with two decimals) of a set of public records."""
        ids = record_ids & self.record_ids
        files = sum(self.media_files.get(i, 0) for i in ids)
        hours = sum(self.media_seconds.get(i, 0.0) for i in ids) / 3600
        return len(ids), files, f"{hours:.2f}"


# --- tables ---------------------------------------------------------------------------------------


@dataclass
class GeneratedTable:
    """One table a generator makes: name, title, schema, rows of text, provenance and chart."""

    name: str
    title: dict[str, str]
    schema: dict
    rows: list[list[str]]
    provenance: dict[str, str] = field(default_factory=dict)
    chart: dict | None = None


def _field(
    name: str,
    kind: str,
    vi: str,
    en: str,
    *,
    unit: str | None = None,
    desc: tuple[str, str] | None = None,
    **constraints,
) -> dict:
    item: dict = {"name": name, "type": kind, "title": vi, "titles": {"vi": vi, "en": en}}
    if desc:
        item["descriptions"] = {"vi": desc[0], "en": desc[1]}
    if unit:
        item["unit"] = unit
    if constraints:
        item["constraints"] = constraints
    return item


def _count_fields() -> list[dict]:
    return [
        _field("records", "integer", "Số bản ghi", "Records", required=True, minimum=0),
        _field(
            "media_files", "integer", "Số tệp đa phương tiện", "Media files", required=True, minimum=0,
            desc=("Tệp đã xử lý xong mà khách xem được.", "Processed files any visitor may see."),
        ),
        _field(
            "media_hours", "number", "Số giờ âm thanh, video", "Hours of audio and video", unit="h",
            required=True, minimum=0,
            desc=("Tổng thời lượng các tệp âm thanh, video công khai, làm tròn 2 chữ số.",
                  "Total duration of the public audio and video files, rounded to 2 decimals."),
        ),
    ]  # fmt: skip


def _page_field() -> dict:
    return _field(
        "page", "string", "Trang duyệt", "Browse page", required=True,
        desc=("Địa chỉ trang tương ứng của lưu trữ.", "The address of the matching page of the archive."),
    )  # fmt: skip


PROVENANCE = {
    "vi": "Do lưu trữ tự tính từ các bản ghi và tư liệu đa phương tiện công khai (đúng những gì khách "
    "không đăng nhập xem được vào ngày cập nhật); bản ghi hạn chế, bản nháp và tư liệu hạn chế không được "
    "tính. Một bản ghi về nhiều dân tộc, tỉnh hay năm được tính ở mỗi dòng tương ứng.",
    "en": "Computed by the archive from its public records and media (exactly what a visitor who is not "
    "signed in could see on the day of the update); restricted records, drafts and restricted media are "
    "not counted. A record about several groups, provinces or years counts in each matching row.",
}


def _base() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def _pairs(stmt) -> dict[int, set[int]]:
    """{key: record ids} from a select of (key, record id) rows."""
    out: dict[int, set[int]] = defaultdict(set)
    for key, record_id in db.session.execute(stmt):
        if key is not None:
            out[key].add(record_id)
    return out


def records_by_group(facts: PublicFacts) -> list[GeneratedTable]:
    """Public records and media per ethnic group (all 54, zeros included)."""
    ids = sorted(facts.record_ids)
    by_group = _pairs(
        select(record_ethnic_group.c.ethnic_group_id, record_ethnic_group.c.record_id).where(
            record_ethnic_group.c.record_id.in_(ids)
        )
    )
    rows = []
    for group in db.session.scalars(select(EthnicGroup).order_by(EthnicGroup.gso_code)):
        records, files, hours = facts.totals(by_group.get(group.id, set()))
        rows.append(
            [
                group.slug,
                group.name_vi,
                group.name_en,
                str(records),
                str(files),
                hours,
                f"{_base()}/groups/{group.slug}",
            ]
        )
    schema = {
        "fields": [
            _field("group_slug", "string", "Mã dân tộc", "Group code", required=True, unique=True),
            _field("group_vi", "string", "Dân tộc", "Group (Vietnamese)", required=True),
            _field("group_en", "string", "Dân tộc (tiếng Anh)", "Group (English)", required=True),
            *_count_fields(),
            _page_field(),
        ],
        "missingValues": [""],
        "primaryKey": ["group_slug"],
    }
    title = {"vi": "Theo dân tộc", "en": "By ethnic group"}
    return [
        GeneratedTable(
            "by-ethnic-group", title, schema, rows, PROVENANCE, {"label": "group_vi", "value": "records"}
        )
    ]


def _province_table(facts: PublicFacts, system: str) -> GeneratedTable:
    ids = sorted(facts.record_ids)
    if system == "2025":
        stmt = (
            select(Place.current_province_id, record_place.c.record_id)
            .join(Place, Place.id == record_place.c.place_id)
            .where(record_place.c.record_id.in_(ids))
        )
    else:
        # The browse pages' rule for the old provinces (archive.browse.services, module docstring).
        located = browse._old_province_of_places().subquery()
        stmt = (
            select(located.c.province_id, record_place.c.record_id)
            .join(located, located.c.place_id == record_place.c.place_id)
            .where(record_place.c.record_id.in_(ids))
        )
    by_province = _pairs(stmt)
    rows = []
    for province in db.session.scalars(
        select(Place).where(Place.system == system, Place.level == "province").order_by(Place.code)
    ):
        records, files, hours = facts.totals(by_province.get(province.id, set()))
        rows.append(
            [
                province.code,
                province.name,
                str(records),
                str(files),
                hours,
                f"{_base()}/places/{province.code}",
            ]
        )
    schema = {
        "fields": [
            _field("province_code", "string", "Mã tỉnh", "Province code", required=True, unique=True),
            _field("province", "string", "Tỉnh, thành phố", "Province", required=True),
            *_count_fields(),
            _page_field(),
        ],
        "missingValues": [""],
        "primaryKey": ["province_code"],
    }
    if system == "2025":
        name, title = (
            "provinces-2025",
            {"vi": "Theo tỉnh (từ 1/7/2025)", "en": "By province (since 1 July 2025)"},
        )
    else:
        name, title = (
            "provinces-pre2025",
            {"vi": "Theo tỉnh (trước 1/7/2025)", "en": "By province (before 1 July 2025)"},
        )
    return GeneratedTable(name, title, schema, rows, PROVENANCE, {"label": "province", "value": "records"})


def records_by_province(facts: PublicFacts) -> list[GeneratedTable]:
    """Public records and media per province, in today's system and in the one before July 2025."""
    return [_province_table(facts, "2025"), _province_table(facts, "pre2025")]


def records_by_category(facts: PublicFacts) -> list[GeneratedTable]:
    """Public records and media per record category."""
    by_category: dict[str, set[int]] = defaultdict(set)
    for record_id, code in facts.category.items():
        by_category[code].add(record_id)
    rows = []
    for code, category in CATEGORIES.items():
        records, files, hours = facts.totals(by_category.get(code, set()))
        rows.append(
            [
                code,
                category.labels["vi"],
                category.labels["en"],
                str(records),
                str(files),
                hours,
                f"{_base()}/categories/{code}",
            ]
        )
    schema = {
        "fields": [
            _field(
                "category",
                "string",
                "Mã loại hình",
                "Category code",
                required=True,
                unique=True,
                enum=list(CATEGORIES),
            ),
            _field("category_vi", "string", "Loại hình", "Category (Vietnamese)", required=True),
            _field("category_en", "string", "Loại hình (tiếng Anh)", "Category (English)", required=True),
            *_count_fields(),
            _page_field(),
        ],
        "missingValues": [""],
        "primaryKey": ["category"],
    }
    title = {"vi": "Theo loại hình", "en": "By category"}
    return [
        GeneratedTable(
            "by-category", title, schema, rows, PROVENANCE, {"label": "category_vi", "value": "records"}
        )
    ]


YEAR_DESC = ("Năm của ngày tư liệu ghi nhận (ngày bắt đầu).", "Year of the documented date (its start).")
DECADE_DESC = ("Trang tìm kiếm lọc theo thập niên này.", "The search page filters by this decade.")


def records_by_year(facts: PublicFacts) -> list[GeneratedTable]:
    """Public records and media per year of their documented dates (years with records only)."""
    by_year: dict[int, set[int]] = defaultdict(set)
    for record_id, start in db.session.execute(
        select(DocumentedDate.record_id, DocumentedDate.start).where(
            DocumentedDate.record_id.in_(sorted(facts.record_ids))
        )
    ):
        by_year[start.year].add(record_id)
    rows = []
    for year in sorted(by_year):
        records, files, hours = facts.totals(by_year[year])
        decade = year // 10 * 10
        rows.append(
            [str(year), str(decade), str(records), str(files), hours, f"{_base()}/search?decade={decade}"]
        )
    schema = {
        "fields": [
            _field("year", "year", "Năm", "Year", required=True, unique=True, desc=YEAR_DESC),
            _field("decade", "integer", "Thập niên", "Decade", required=True, desc=DECADE_DESC),
            *_count_fields(),
            _page_field(),
        ],
        "missingValues": [""],
        "primaryKey": ["year"],
    }  # fmt: skip
    title = {"vi": "Theo năm", "en": "By year"}
    return [GeneratedTable("by-year", title, schema, rows, PROVENANCE, {"label": "year", "value": "records"})]


def festivals_by_lunar_month(facts: PublicFacts) -> list[GeneratedTable]:
    """Public records with a festival timing in each lunar month (leap months with their month)."""
    by_month: dict[int, set[int]] = defaultdict(set)
    for record_id, month in db.session.execute(
        select(FestivalTiming.record_id, FestivalTiming.month).where(
            FestivalTiming.calendar == "lunar", FestivalTiming.record_id.in_(sorted(facts.record_ids))
        )
    ):
        by_month[month].add(record_id)
    rows = []
    for month in range(1, 13):
        records, files, hours = facts.totals(by_month.get(month, set()))
        rows.append(
            [
                str(month),
                lunar_month_name(month, "vi"),
                lunar_month_name(month, "en"),
                str(records),
                str(files),
                hours,
                f"{_base()}/calendar",
            ]
        )
    schema = {
        "fields": [
            _field(
                "lunar_month",
                "integer",
                "Tháng âm lịch",
                "Lunar month",
                required=True,
                unique=True,
                minimum=1,
                maximum=12,
            ),
            _field("month_vi", "string", "Tên tháng", "Month (Vietnamese)", required=True),
            _field("month_en", "string", "Tên tháng (tiếng Anh)", "Month (English)", required=True),
            *_count_fields(),
            _page_field(),
        ],
        "missingValues": [""],
        "primaryKey": ["lunar_month"],
    }
    title = {"vi": "Lễ hội theo tháng âm lịch", "en": "Festivals by lunar month"}
    return [
        GeneratedTable(
            "by-lunar-month", title, schema, rows, PROVENANCE, {"label": "month_vi", "value": "records"}
        )
    ]


# --- the generated datasets -----------------------------------------------------------------------


@dataclass(frozen=True)
class Generator:
    """A generated dataset: its slug and description, and the function that builds its tables."""

    name: str
    slug: str
    title: dict[str, str]
    description: dict[str, str]
    keywords: dict[str, list[str]]
    build: Callable[[PublicFacts], list[GeneratedTable]]
    themes: tuple[str, ...] = ("EDUC", "SOCI")


_NOTE = {
    "vi": " Tự động tính từ các bản ghi công khai của lưu trữ (chỉ những gì khách xem được); kiểm tra hằng "
    "ngày, có phiên bản mới khi số liệu thay đổi. Mỗi dòng dẫn tới trang duyệt tương ứng.",
    "en": " Generated automatically from the archive's public records (only what any visitor can see); "
    "checked daily, with a new version whenever the figures change. Each row links to the matching "
    "browse page.",
}
_KEYWORDS = {
    "vi": ["lưu trữ di sản", "lễ hội", "dân tộc thiểu số"],
    "en": ["heritage archive", "festivals", "ethnic minorities"],
}


def _generator(name, slug, title, description, extra_keywords, build) -> Generator:
    keywords = {lang: _KEYWORDS[lang] + extra_keywords[lang] for lang in ("vi", "en")}
    return Generator(name, slug, title, {k: description[k] + _NOTE[k] for k in ("vi", "en")}, keywords, build)


GENERATORS: dict[str, Generator] = {
    g.name: g
    for g in [
        _generator(
            "records-by-ethnic-group",
            "archive-records-by-ethnic-group",
            {
                "vi": "Bản ghi và tư liệu của lưu trữ theo dân tộc",
                "en": "The archive's records and media by ethnic group",
            },
            {
                "vi": "Số bản ghi, số tệp và số giờ âm thanh, video công khai về mỗi dân tộc trong 54 dân "
                "tộc.",
                "en": "Public records, media files and hours of audio and video about each of the 54 "
                "ethnic groups.",
            },
            {"vi": ["dân tộc"], "en": ["ethnic groups"]},
            records_by_group,
        ),
        _generator(
            "records-by-province",
            "archive-records-by-province",
            {
                "vi": "Bản ghi và tư liệu của lưu trữ theo tỉnh",
                "en": "The archive's records and media by province",
            },
            {
                "vi": "Số bản ghi, số tệp và số giờ âm thanh, video công khai ở mỗi tỉnh, theo hai hệ "
                "thống: các tỉnh từ ngày 1/7/2025 và các tỉnh trước đó (hai bảng).",
                "en": "Public records, media files and hours of audio and video in each province, in both "
                "systems: the provinces since 1 July 2025 and those before (two tables).",
            },
            {"vi": ["tỉnh", "địa danh"], "en": ["provinces", "places"]},
            records_by_province,
        ),
        _generator(
            "records-by-category",
            "archive-records-by-category",
            {
                "vi": "Bản ghi và tư liệu của lưu trữ theo loại hình",
                "en": "The archive's records and media by category",
            },
            {
                "vi": "Số bản ghi, số tệp và số giờ âm thanh, video công khai theo loại hình di sản.",
                "en": "Public records, media files and hours of audio and video by heritage category.",
            },
            {"vi": ["loại hình di sản"], "en": ["heritage categories"]},
            records_by_category,
        ),
        _generator(
            "records-by-year",
            "archive-records-by-year",
            {
                "vi": "Bản ghi và tư liệu của lưu trữ theo năm",
                "en": "The archive's records and media by year",
            },
            {
                "vi": "Số bản ghi, số tệp và số giờ âm thanh, video công khai theo năm của ngày tư liệu "
                "ghi nhận.",
                "en": "Public records, media files and hours of audio and video by the year of their "
                "documented dates.",
            },
            {"vi": ["năm"], "en": ["years"]},
            records_by_year,
        ),
        _generator(
            "festivals-by-lunar-month",
            "archive-festivals-by-lunar-month",
            {
                "vi": "Lễ hội trong lưu trữ theo tháng âm lịch",
                "en": "Festivals in the archive by lunar month",
            },
            {
                "vi": "Số bản ghi công khai có lễ hội diễn ra trong mỗi tháng âm lịch (tháng nhuận tính "
                "vào tháng đó).",
                "en": "Public records with a festival held in each lunar month (a leap month counts with "
                "its month).",
            },
            {"vi": ["âm lịch", "lịch lễ hội"], "en": ["lunar calendar", "festival calendar"]},
            festivals_by_lunar_month,
        ),
    ]
}


def _dataset_data(generator: Generator) -> services.DatasetData:
    name, email = contact()
    return services.DatasetData(
        slug=generator.slug,
        title=from_mapping(generator.title),
        description=from_mapping(generator.description),
        publisher=publisher_values(),
        contact_name=name,
        contact_email=email,
        themes=list(generator.themes),
        keywords=[LangString(w, lang) for lang, words in generator.keywords.items() for w in words],
        accrual_periodicity="DAILY",
    )


def dataset_of(name: str) -> Dataset | None:
    """The dataset a generator builds, if it exists yet."""
    return db.session.scalar(select(Dataset).where(Dataset.generator == name))


def _csv_bytes(table: GeneratedTable) -> bytes:
    header = [f["name"] for f in table.schema["fields"]]
    return tables.to_csv_bytes(tables.RawTable(header=header, rows=table.rows))


def refresh_dataset(name: str, facts: PublicFacts) -> str:
    """Rebuild one generated dataset; publish a new version only when its content changed (flushes).

    Returns the outcome: "unchanged", "withdrawn" (a curator hid it: left alone) or "new version N".
    """
    generator = GENERATORS[name]
    built = generator.build(facts)
    contents = [(table, _csv_bytes(table)) for table in built]
    checksum = tables.checksum_of_version(
        (t.name, tables.sha256_bytes(data), t.schema) for t, data in contents
    )
    dataset = dataset_of(name)
    if dataset is None:
        dataset = services.create_dataset(None, _dataset_data(generator), origin="generated", generator=name)
    elif dataset.status == "withdrawn":
        return "withdrawn"
    latest = dataset.latest_version
    if latest is not None and latest.checksum == checksum:
        return "unchanged"
    with tempfile.TemporaryDirectory(prefix="dataset-generated-") as work:
        for table, data in contents:
            path = Path(work) / f"{table.name}.csv"
            path.write_bytes(data)
            upload = services.UploadRequest(
                path=path,
                filename=path.name,
                name=table.name,
                title=from_mapping(table.title),
                schema_mode="provided",
                schema=table.schema,
            )
            stored = services.upload_table(None, dataset, upload, system=True)
            if not stored.is_valid:
                raise RuntimeError(f"{name}/{table.name} does not validate: {stored.errors[:3]}")
            stored.provenance = from_langstrings(from_mapping(table.provenance))
            stored.chart = table.chart
    version = services.publish_version(None, dataset.draft_version, system=True)
    return f"new version {version.number}"


def refresh_generated(names: list[str] | None = None) -> DatasetRefresh:
    """Refresh every generated dataset (or those named), one transaction each; commits and records the run."""
    run = DatasetRefresh(started_at=utcnow(), outcome={})
    db.session.add(run)
    db.session.commit()
    facts = PublicFacts.read()
    outcome: dict[str, str] = {}
    for name in names or list(GENERATORS):
        try:
            outcome[name] = refresh_dataset(name, facts)
            db.session.commit()
        except Exception as exc:  # one failing generator must not stop the others
            db.session.rollback()
            logger.exception("refreshing generated dataset %s failed", name)
            outcome[name] = f"error: {type(exc).__name__}: {exc}"[:300]
    run.outcome = outcome
    run.finished_at = utcnow()
    run.detail = f"{len(facts.record_ids)} public records"
    db.session.commit()
    logger.info("generated datasets refreshed: %s", outcome)
    return run


@periodic(REFRESH_JOB, **refresh_schedule(Config.DATASET_REFRESH_HOUR))
def refresh_job() -> None:
    """Daily: refresh the generated datasets (a new version only where the figures changed)."""
    refresh_generated()


@job(REFRESH_SOON_JOB)
def refresh_soon_job() -> None:
    """A refresh some minutes after the figures changed (see :func:`request_refresh`)."""
    huey_for(current_app).get(_PENDING_KEY)  # reading removes the mark: the next change asks again
    refresh_generated()


def request_refresh() -> None:
    """Ask for a refresh of the generated datasets in DATASET_REFRESH_DELAY seconds (0: never).

    However many times it is asked meanwhile (a burst of media finishing), one refresh runs, and it makes
    a new version only if the figures changed; the daily job remains the backstop.
    """
    delay = int(current_app.config.get("DATASET_REFRESH_DELAY", 0) or 0)
    if delay <= 0:
        return
    if huey_for(current_app).put_if_empty(_PENDING_KEY, "1"):
        current_app.extensions["jobs"][REFRESH_SOON_JOB].schedule(delay=delay)
