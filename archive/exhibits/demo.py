"""Demo exhibits built from the public demo records and their illustration media."""

from __future__ import annotations

import logging
import math

from sqlalchemy import select

from archive.core.extensions import db
from archive.exhibits.models import Exhibit, ExhibitItem, ExhibitSection
from archive.media.models import MediaFile
from archive.records.models import HeritageRecord
from metadata.languages import from_mapping

logger = logging.getLogger(__name__)


def _texts(mapping: dict[str, str]) -> list[dict]:
    return [v.to_dict() for v in from_mapping(mapping)]


def _public_record(slug: str) -> HeritageRecord | None:
    record = db.session.scalar(select(HeritageRecord).where(HeritageRecord.slug == slug))
    if record is None or record.status != "published" or record.access_level != "public" or record.labels:
        return None
    return record


def _public_media(record: HeritageRecord | None, kind: str) -> MediaFile | None:
    if record is None:
        return None
    return next((m for m in record.media if m.kind == kind and m.access_level == "public"), None)


EXHIBITS = [
    {
        "slug": "spring-in-the-northern-mountains",
        "position": 1,
        "title": {"vi": "Mùa xuân ở vùng núi phía Bắc", "en": "Spring in the northern mountains"},
        "introduction": {
            "vi": "Sau Tết, nhiều cộng đồng ở vùng núi phía Bắc mở hội xuống đồng, cầu mùa và vui xuân. "
            "Trưng bày nhỏ này giới thiệu ba lễ hội trong kho lưu trữ.\n\n"
            "Hình ảnh và âm thanh ở đây là hình minh họa do hệ thống tạo ra cho bản demo, "
            "không phải tư liệu điền dã.",
            "en": "After Tết, many communities of the northern mountains hold festivals to open the "
            "farming year, pray for a good harvest and celebrate spring. This small exhibit introduces "
            "three festivals in the archive.\n\n"
            "The pictures and sounds here are illustrations generated for the demo, not field recordings.",
        },
        "cover": ("long-tong-tay-nung", "image"),
        "sections": [
            {
                "kind": "narrative",
                "heading": {"vi": "Xuống đồng", "en": "Going down to the fields"},
                "body": {
                    "vi": "Lễ hội **Lồng Tồng** của người Tày, Nùng thường được tổ chức vào tháng Giêng âm "
                    "lịch; ngày cụ thể khác nhau theo từng địa phương.\n\n"
                    "Phần lễ cầu mưa thuận gió hòa; phần hội có trò *tung còn*, kéo co và hát lượn.",
                    "en": "The **Lồng Tồng** festival of the Tày and Nùng is usually held in the first "
                    "lunar month; the day differs from place to place.\n\n"
                    "The rites ask for good weather; the festivities include *còn* ball throwing, "
                    "tug of war and lượn singing.",
                },
            },
            {
                "kind": "image",
                "heading": {"vi": "Tung còn", "en": "Throwing the còn ball"},
                "media": ("long-tong-tay-nung", "image"),
                "alt": {
                    "vi": "Hình minh họa: quả còn được tung qua vòng trên ngọn cây nêu giữa ruộng",
                    "en": "Illustration: a còn ball thrown at the ring atop the festival pole in a field",
                },
                "caption": {
                    "vi": "Hình minh họa cho bản demo, không phải ảnh chụp thực địa.",
                    "en": "An illustration made for the demo, not a photograph.",
                },
            },
            {
                "kind": "records",
                "heading": {"vi": "Các lễ hội trong trưng bày", "en": "The festivals in this exhibit"},
                "records": [
                    ("long-tong-tay-nung", None),
                    ("gau-tao-hmong", {"vi": "Lễ hội của người Mông.", "en": "A festival of the Hmong."}),
                    ("roong-pooc-giay", {"vi": "Lễ hội của người Giáy.", "en": "A festival of the Giáy."}),
                ],
            },
        ],
    },
    {
        "slug": "voices-of-ritual",
        "position": 2,
        "title": {"vi": "Tiếng nói của nghi lễ", "en": "Voices of ritual"},
        "introduction": {
            "vi": "Hát Then, mo Mường và những lời khấn là một phần của đời sống nghi lễ. Các đoạn âm thanh "
            "ở đây là giọng đọc tổng hợp minh họa, chỉ để cho thấy cách trưng bày hoạt động.",
            "en": "Then singing, Mường mo and spoken invocations are part of ritual life. The sound excerpts "
            "here are synthetic illustrations, only to show how an exhibit works.",
        },
        "cover": ("then-tay-nung-thai", "image"),
        "sections": [
            {
                "kind": "narrative",
                "heading": {"vi": "Lời và nhạc", "en": "Words and music"},
                "body": {
                    "vi": "Trong nhiều nghi lễ, lời hát và lời kể do thầy cúng hoặc nghệ nhân truyền lại "
                    "qua nhiều thế hệ.",
                    "en": "In many rituals the words sung or told are handed down by ritual masters and "
                    "artisans over generations.",
                },
            },
            {
                "kind": "excerpt",
                "heading": {"vi": "Một đoạn hát Then", "en": "A passage of Then singing"},
                "media": ("then-tay-nung-thai", "audio"),
                "caption": {
                    "vi": "Âm thanh minh họa do hệ thống tạo ra.",
                    "en": "An illustration sound generated by the archive.",
                },
            },
            {
                "kind": "records",
                "heading": {"vi": "Bản ghi liên quan", "en": "Related records"},
                "records": [("then-tay-nung-thai", None), ("mo-muong", None), ("hat-sli-nung", None)],
            },
        ],
    },
]


def load_demo_exhibits() -> int:
    """Create the demo exhibits that are not there yet (published and featured); returns how many.

    Only public records and public media are used; a section whose record or media is missing is skipped.
    """
    created = 0
    for spec in EXHIBITS:
        if db.session.scalar(select(Exhibit.id).where(Exhibit.slug == spec["slug"])):
            continue
        cover_record = _public_record(spec["cover"][0])
        exhibit = Exhibit(
            slug=spec["slug"],
            title=_texts(spec["title"]),
            introduction=_texts(spec["introduction"]),
            status="published",
            featured=True,
            position=spec["position"],
            cover=_public_media(cover_record, spec["cover"][1]),
        )
        for section_spec in spec["sections"]:
            section = _section(section_spec)
            if section is not None:
                section.position = len(exhibit.sections)
                exhibit.sections.append(section)
        db.session.add(exhibit)
        created += 1
    db.session.flush()
    logger.info("demo: %d exhibits created", created)
    return created


def _section(spec: dict) -> ExhibitSection | None:
    section = ExhibitSection(kind=spec["kind"], heading=_texts(spec.get("heading") or {}))
    if spec["kind"] == "narrative":
        section.body = _texts(spec["body"])
    elif spec["kind"] == "records":
        for position, (slug, note) in enumerate(spec["records"]):
            record = _public_record(slug)
            if record is not None:
                section.items.append(ExhibitItem(record=record, position=position, note=_texts(note or {})))
        if not section.items:
            return None
    else:
        slug, kind = spec["media"]
        media = _public_media(_public_record(slug), kind)
        if media is None:
            return None
        section.media = media
        section.caption = _texts(spec.get("caption") or {})
        if spec["kind"] == "image":
            section.alt = _texts(spec["alt"])
        else:
            # The whole illustration, or its first 30 seconds; without a known length, skip it.
            if not media.duration_seconds:
                return None
            section.start_seconds = 0.0
            section.end_seconds = math.floor(min(float(media.duration_seconds), 30.0) * 10) / 10
    return section
