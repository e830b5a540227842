"""Browse pages: groups, provinces (both systems), categories and collections list and count only the
records each person may see; bad input gets a 4xx; caching follows who is asking."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from tests.browse.world import (
    CATEGORY,
    GROUP,
    NEW_PROVINCE,
    OLD_PROVINCE,
    build_world,
    row_count,
    text_of,
)

#: The list pages and the link (href part) of the entry every world record is about.
LIST_ENTRIES = {
    "/en/groups": f"/groups/{GROUP}",
    "/vi/groups?order=name": f"/groups/{GROUP}",
    "/en/places": f"/places/{NEW_PROVINCE}",
    "/en/places?system=pre2025": f"/places/{OLD_PROVINCE}",
    "/vi/categories": f"/categories/{CATEGORY}",
}


def detail_pages(world) -> list[str]:
    """The pages that list the world's records."""
    return [
        f"/en/groups/{GROUP}",
        f"/vi/places/{OLD_PROVINCE}",
        f"/en/places/{NEW_PROVINCE}",
        f"/en/categories/{CATEGORY}",
        f"/vi/collections/{world.collection}",
    ]


def list_counts(client) -> dict[str, int]:
    """The count each list page shows for the world's entry."""
    return {url: row_count(client.get(url), href) for url, href in LIST_ENTRIES.items()}


def test_visitor_sees_and_counts_only_public_records(client, db, make_record, make_user):
    """A private, a community, a draft, a researchers-only record and one whose consent was withdrawn
    never show up nor count for a visitor; the public one does, everywhere."""
    before = list_counts(client)
    world = build_world(db, make_record, make_user)
    after = list_counts(client)
    for url in LIST_ENTRIES:
        assert after[url] == before[url] + 1, url
    collections = client.get("/en/collections")
    assert row_count(collections, f"/collections/{world.collection}") == 1
    for url in detail_pages(world):
        response = client.get(url)
        assert response.status_code == 200, url
        body = text_of(response)
        assert world.words["public"] in body, url
        for word in world.hidden_words:
            assert word not in body, f"{url} shows {word}"
        assert response.headers["Cache-Control"].startswith("public, max-age="), url
    index = text_of(client.get("/en/browse"))
    assert "54 ethnic groups" in index and "34 provinces" in index


def test_signed_in_people_see_what_they_may(client, db, make_record, make_user, login):
    """A researcher in the community group also sees the community's and the researchers' records (and
    counts them), never the private one, another person's draft or a withdrawn consent's; the page is
    private to them."""
    from archive.communities.models import CommunityMembership

    world = build_world(db, make_record, make_user)
    member = login("researcher")
    db.session.add(CommunityMembership(community_id=world.community_id, user_id=member.id))
    db.session.commit()
    response = client.get(f"/en/collections/{world.collection}")
    body = text_of(response)
    for kind in ("public", "community", "researchers"):
        assert world.words[kind] in body, kind
    for kind in ("private", "draft", "withheld"):
        assert world.words[kind] not in body, kind
    assert "3 records" in body
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert row_count(client.get("/en/collections"), f"/collections/{world.collection}") == 3


def test_curators_see_unpublished_records_but_never_withdrawn_ones(client, db, make_record, make_user, login):
    """Staff see every record but withdrawn ones (archive.core.access)."""
    world = build_world(db, make_record, make_user)
    world.records["draft"].status = "withdrawn"
    db.session.commit()
    login("curator")
    body = text_of(client.get(f"/en/collections/{world.collection}"))
    for kind in ("public", "private", "community", "withheld", "researchers"):
        assert world.words[kind] in body, kind
    assert world.words["draft"] not in body


def test_province_rule_both_ways(client, db, make_record):
    """A record about an old district counts for its old province and today's; one about today's whole
    province only for today's; one about a new commune formed from an old commune of the old province
    for both."""
    from sqlalchemy import select

    from archive.vocab.models import Place, PlaceSuccession

    district = db.session.scalar(select(Place).where(Place.code == "pre2025-d058"))
    old_commune = db.session.scalar(select(Place).where(Place.parent_id == district.id).order_by(Place.code))
    new_commune = db.session.scalar(
        select(Place)
        .join(PlaceSuccession, PlaceSuccession.new_id == Place.id)
        .where(PlaceSuccession.old_id == old_commune.id)
    )
    made = {
        "olddistrict": make_record(title="Tỉnh cũ OldDistrictWord", places=["pre2025-d058"]),
        "newprovince": make_record(title="Tỉnh mới NewProvinceWord", places=[NEW_PROVINCE]),
        "newcommune": make_record(title="Xã mới NewCommuneWord", places=[new_commune.code]),
    }
    assert made
    old_page = text_of(client.get(f"/en/places/{OLD_PROVINCE}"))
    new_page = text_of(client.get(f"/en/places/{NEW_PROVINCE}"))
    assert "OldDistrictWord" in old_page and "OldDistrictWord" in new_page
    assert "NewCommuneWord" in old_page and "NewCommuneWord" in new_page
    assert "NewProvinceWord" in new_page and "NewProvinceWord" not in old_page
    assert "Which records are counted for a province?" in old_page
    doc = lxml_html.fromstring(new_page)
    formed_from = doc.xpath('string(//dt[.="Formed from"]/following-sibling::dd[1])')
    assert "Bắc Kạn" in formed_from and "Thái Nguyên" in formed_from
    assert "Thái Nguyên" in lxml_html.fromstring(old_page).xpath(
        'string(//dt[.="Since 1 July 2025 part of"]/following-sibling::dd[1])'
    )


def test_pagination(client, db, make_record, make_user):
    """PAGE_SIZE records a page; 400 for a page that is not a positive number, 404 past the last page."""
    world = build_world(db, make_record, make_user)
    for n in range(10):
        make_record(title=f"Trang thử {n}", collections=[world.collection])
    url = f"/en/collections/{world.collection}"
    first = lxml_html.fromstring(text_of(client.get(url)))
    assert len(first.xpath("//ul[@class='cards']/li")) == 10
    assert first.xpath("//nav[@class='pagination']//a[@rel='next']/@href") == [f"{url}?page=2"]
    second = client.get(f"{url}?page=2")
    assert len(lxml_html.fromstring(text_of(second)).xpath("//ul[@class='cards']/li")) == 1
    assert client.get(f"{url}?page=3").status_code == 404
    for bad in ("abc", "0", "-1", "1.5"):
        response = client.get(f"{url}?page={bad}")
        assert response.status_code == 400, bad
        assert "whole number" in text_of(response)


def test_a_district_or_commune_leads_to_its_province(client):
    """Exported metadata names places at every level; their links lead to the province's page."""
    response = client.get("/en/places/pre2025-d058")
    assert response.status_code == 301
    assert response.headers["Location"].startswith("/en/places/pre2025-p")
    assert client.get(response.headers["Location"]).status_code == 200


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/en/groups/no-such-group", 404),
        ("/en/groups?order=population", 400),
        ("/en/places/no-such-code", 404),
        ("/en/places?system=1975", 400),
        ("/en/categories/no-such-category", 404),
        ("/en/collections/no-such-collection", 404),
        ("/en/groups/tay?page=x", 400),
        ("/en/groups/tay?page=999", 404),
    ],
)
def test_bad_input(client, url, status):
    """Unknown entries answer 404 and malformed arguments 400, with a page, never a 500."""
    response = client.get(url)
    assert response.status_code == status
    assert "<h1" in text_of(response)


def test_groups_page(client):
    """All 54 groups, under their language families, with the population in the locale's format."""
    english = lxml_html.fromstring(text_of(client.get("/en/groups")))
    assert len(english.xpath("//main//tbody/tr")) == 54
    assert len(english.xpath("//main//section/h2")) == 5
    tay = english.xpath('//tr[th//a[contains(@href, "/groups/tay")]]')[0]
    assert "1,845,492" in tay.text_content()
    assert "Tày" in tay.text_content()  # the name in the other language
    vietnamese = lxml_html.fromstring(text_of(client.get("/vi/groups?order=name")))
    rows = vietnamese.xpath("//main//tbody/tr")
    assert len(rows) == 54
    tay = vietnamese.xpath('//tr[th//a[contains(@href, "/groups/tay")]]')[0]
    assert "1.845.492" in tay.text_content()
    names = [row.xpath("string(./th/a)").strip() for row in rows]
    assert names[0] == "Ba Na"  # A to Z by the Vietnamese name


def test_group_page(client):
    """A group page gives its names, language, family, provinces (linked) and description."""
    response = client.get("/en/groups/tay")
    doc = lxml_html.fromstring(text_of(response))
    fields = doc.xpath("string(//dl[@class='fields'])")
    for expected in ("Tày", "Tay", "Thổ", "Ngạn", "Tai-Kadai", "1,845,492"):
        assert expected in fields, expected
    assert doc.xpath("//dl//a[contains(@href, '/en/places/pre2025-p06')]")
    assert "largest ethnic minority" in text_of(response)
    assert client.get("/ethnic-groups/tay").status_code in (301, 302)


def test_places_pages(client):
    """34 provinces of today by default, the 63 older ones under their tab, each linked to its page."""
    today = lxml_html.fromstring(text_of(client.get("/en/places")))
    assert len(today.xpath("//main//tbody/tr")) == 34
    assert today.xpath("//nav[@class='tabs']//a[@aria-current='page']/@href") == ["/en/places"]
    before = lxml_html.fromstring(text_of(client.get("/en/places?system=pre2025")))
    assert len(before.xpath("//main//tbody/tr")) == 63
    bac_kan = before.xpath(f'//tr[th//a[contains(@href, "/places/{OLD_PROVINCE}")]]')[0]
    assert bac_kan.xpath(f'./td//a[contains(@href, "/places/{NEW_PROVINCE}")]')


def test_categories_pages(client):
    """Categories sit under their UNESCO domains; a category page names its domain."""
    doc = lxml_html.fromstring(text_of(client.get("/en/categories")))
    headings = [h.text_content() for h in doc.xpath("//main//h2")]
    assert "Traditional craftsmanship" in headings
    craft = text_of(client.get("/en/categories/craft"))
    assert "UNESCO domain" in craft and "Traditional craftsmanship" in craft


def test_cache_headers(client, login):
    """Visitors' pages may be kept by shared caches for a short while; signed-in people's are private."""
    anonymous = client.get("/en/groups")
    assert anonymous.headers["Cache-Control"].startswith("public, max-age=")
    assert "Cookie" in anonymous.headers["Vary"]
    login("researcher")
    signed_in = client.get("/en/groups")
    assert signed_in.headers["Cache-Control"] == "private, no-cache"
    assert client.get("/en/groups/nope").headers.get("Cache-Control", "") != "public, max-age=300"
