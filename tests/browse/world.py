"""A small world for the browse tests: one public record and records nobody but some may see, all about
the same ethnic group, place, category and collection, each with a marker word in its title."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from lxml import html as lxml_html

#: The group, old district (Chợ Đồn, in the old province Bắc Kạn, today in Thái Nguyên) and category.
GROUP = "brau"
DISTRICT = "pre2025-d058"
OLD_PROVINCE = "pre2025-p06"
NEW_PROVINCE = "2025-p19"
CATEGORY = "craft"


@dataclass
class World:
    """The records made, by kind, the collection's slug and the people concerned."""

    records: dict  # kind -> HeritageRecord
    words: dict  # kind -> marker word in the title
    collection: str
    community_id: int

    @property
    def hidden_words(self) -> set[str]:
        """Words of the records a visitor may not see."""
        return {word for kind, word in self.words.items() if kind != "public"}


def build_world(db, make_record, make_user) -> World:
    """Create the world's records (committed to the test's savepoint)."""
    from archive.communities.models import Community, ConsentRecord
    from archive.vocab.models import Collection
    from metadata.languages import LangString

    tag = uuid.uuid4().hex[:6]
    collection = Collection(slug=f"browse-test-{tag}", title=[{"lang": "vi", "value": f"Bộ sưu tập {tag}"}])
    community = Community(slug=f"browse-community-{tag}", name=[{"lang": "vi", "value": "Bản thử"}])
    db.session.add_all([collection, community])
    db.session.commit()
    owner = make_user("contributor")
    specs = {
        "public": {},
        "private": {"access_level": "private"},
        "community": {"access_level": "community"},
        "draft": {"status": "draft"},
        "withheld": {},
        "researchers": {"access_level": "researchers"},
    }
    records, words = {}, {}
    for kind, overrides in specs.items():
        word = f"Marker{kind.capitalize()}{tag}"
        record = make_record(
            created_by=owner,
            texts={"title": [LangString(f"Nghề thử {word}", "vi")]},
            ethnic_groups=[GROUP],
            places=[DISTRICT],
            category=CATEGORY,
            collections=[collection.slug],
            **overrides,
        )
        records[kind], words[kind] = record, word
    records["community"].community_id = community.id
    db.session.add(
        ConsentRecord(
            record_id=records["withheld"].id,
            given_by="Trưởng bản",
            given_on=dt.date(2020, 1, 1),
            withdrawn_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        )
    )
    db.session.commit()
    return World(records, words, collection.slug, community.id)


def text_of(response) -> str:
    """A response body as text."""
    return response.get_data(as_text=True)


def row_count(response, href_part: str) -> int:
    """The number in the last cell of the table row (or list item) whose link contains *href_part*."""
    doc = lxml_html.fromstring(text_of(response))
    rows = doc.xpath(f'//main//tr[.//a[contains(@href, "{href_part}")]]')
    if rows:
        row = [r for r in rows if r.xpath(f'./th//a[contains(@href, "{href_part}")]')][0]
        return int(row.xpath("string(./td[last()])").strip().replace(",", "").replace(".", ""))
    item = doc.xpath(f'//main//li[a[contains(@href, "{href_part}")]]')[0]
    digits = "".join(ch for ch in item.xpath('string(.//span[@class="count"])') if ch.isdigit())
    return int(digits)
