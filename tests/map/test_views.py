"""The map page: markers and the table of a visible record's province, the archipelagos, filters, refusals
and the access rules."""

from __future__ import annotations

import gzip
import uuid
from pathlib import Path

import pytest
from lxml import html

from archive.map import services

QUANG_NINH_2025, QUANG_NINH_OLD = "2025-p22", "pre2025-p22"
#: A commune of the former district of Hạ Long (Quảng Ninh); no demo record is in Quảng Ninh.
HA_LONG_COMMUNE = "pre2025-c06649"


def _page(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response, html.fromstring(response.get_data(as_text=True))


def _marker(doc, code: str):
    found = doc.xpath(f'//svg[contains(@class, "map-markers")]//a[@data-code="{code}"]')
    return found[0] if found else None


def _row(doc, name: str):
    rows = [
        tr
        for tr in doc.xpath('//table[contains(@class, "map-table")]/tbody/tr')
        if tr.xpath("string(th)").strip() == name
    ]
    return rows[0] if rows else None


def _title() -> str:
    return f"Hội thử bản đồ {uuid.uuid4().hex[:6]}"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_public_record_gets_a_marker_and_a_table_row_for_its_province(client, make_record, lang):
    title = _title()
    record = make_record(title=title, places=[HA_LONG_COMMUNE])
    response, doc = _page(client, f"/{lang}/map")
    assert doc.get("lang") == lang
    # The commune counts for its province, as the province is today.
    marker = _marker(doc, QUANG_NINH_2025)
    assert marker is not None
    assert marker.get("aria-label").startswith("Quảng Ninh: 1 ")  # "1 record" / "1 bản ghi"
    assert marker.xpath("string(title)") == marker.get("aria-label")
    # The same in the table: the province, its count and the record linked.
    row = _row(doc, "Quảng Ninh")
    assert row is not None
    assert row.xpath('string(td[contains(@class, "count")])').strip() == "1"
    links = row.xpath(".//td//a")
    assert [a.xpath("string(span[@lang])") for a in links] == [title]
    assert links[0].get("href") == f"/{lang}/records/{record.public_id}/{record.slug}"
    # Markers and the province cell lead to the same place: its province page, or a filtered search.
    assert row.xpath("th/a/@href")[0] == marker.get("href")
    href = marker.get("href")
    assert href.startswith(f"/{lang}/")
    assert href.endswith(f"/places/{QUANG_NINH_2025}") or f"province={QUANG_NINH_2025}" in href


def test_the_svg_is_an_image_with_a_name_and_the_markers_are_named_links(client):
    _, doc = _page(client, "/en/map")
    base = doc.xpath('//svg[contains(@class, "map-base")]')[0]
    assert base.get("role") == "img"
    ids = base.get("aria-labelledby").split()
    assert doc.get_element_by_id(ids[0]).text_content().startswith("Map of Viet Nam")
    markers = doc.xpath('//svg[contains(@class, "map-markers")]//a')
    assert len(markers) >= 10  # the demo archive covers many provinces
    for a in markers:
        label = a.get("aria-label")
        assert label and label.split(":")[1].strip().split()[0].isdigit()
    assert doc.xpath('//table[contains(@class, "map-table")]/caption')
    assert doc.xpath('//table[contains(@class, "map-table")]//th[@scope="col"]')


@pytest.mark.parametrize(
    ("lang", "paracel", "spratly"),
    [
        ("vi", "Quần đảo Hoàng Sa (Việt Nam)", "Quần đảo Trường Sa (Việt Nam)"),
        ("en", "Paracel Islands (Viet Nam)", "Spratly Islands (Viet Nam)"),
    ],
)
def test_the_archipelagos_are_drawn_and_labelled_as_viet_nam(client, lang, paracel, spratly):
    _, doc = _page(client, f"/{lang}/map")
    for key, label, (lat, lon) in (
        ("hoang-sa", paracel, (16.5, 112.0)),
        ("truong-sa", spratly, (10.0, 114.0)),
    ):
        group = doc.get_element_by_id(key)
        text = " ".join(t.text_content() for t in group.xpath(".//tspan"))
        assert text == label
        # Islands drawn near their real position, inside the view box.
        x0, y0 = services.FRAME.project(lon, lat)
        islands = [(float(c.get("cx")), float(c.get("cy"))) for c in group.xpath(".//circle")]
        assert len(islands) >= 5
        assert all(services.FRAME.contains(x, y) for x, y in islands)
        assert min(abs(x - x0) + abs(y - y0) for x, y in islands) < 40


def test_hanoi_marker_is_north_of_ho_chi_minh_city(client):
    _, doc = _page(client, "/en/map")
    hanoi, saigon = _marker(doc, "2025-p01"), _marker(doc, "2025-p79")
    assert hanoi is not None and saigon is not None  # the demo has records in both
    y = [float(m.xpath(".//g/@data-at")[0].split()[1]) for m in (hanoi, saigon)]
    assert y[0] < y[1]


def test_restricted_and_unpublished_records_neither_appear_nor_count(client, db, make_record, community):
    public = _title()
    make_record(title=public, places=[HA_LONG_COMMUNE])
    hidden = {
        "private": make_record(title=_title(), places=[HA_LONG_COMMUNE], access_level="private"),
        "researchers": make_record(title=_title(), places=[HA_LONG_COMMUNE], access_level="researchers"),
        "draft": make_record(title=_title(), places=[HA_LONG_COMMUNE], status="draft"),
        "community": make_record(title=_title(), places=[HA_LONG_COMMUNE], access_level="community"),
    }
    hidden["community"].community_id = community.id
    db.session.commit()
    for url in ("/en/map", "/en/map?system=pre2025", "/vi/map?category=festival&group=tay"):
        response, doc = _page(client, url)
        body = response.get_data(as_text=True)
        for record in hidden.values():
            assert record.values("title")[0].value not in body, url
            assert record.public_id not in body, url
    _, doc = _page(client, "/en/map")
    assert _marker(doc, QUANG_NINH_2025).get("aria-label") == "Quảng Ninh: 1 record"
    assert _row(doc, "Quảng Ninh").xpath('string(td[contains(@class, "count")])').strip() == "1"


def test_old_and_new_provinces_each_count_records_catalogued_in_the_other_system(client, make_record):
    old_unit = make_record(title=_title(), places=[QUANG_NINH_OLD])
    new_unit = make_record(title=_title(), places=[QUANG_NINH_2025])
    for url, code in (("/en/map", QUANG_NINH_2025), ("/en/map?system=pre2025", QUANG_NINH_OLD)):
        _, doc = _page(client, url)
        assert _marker(doc, code).get("aria-label") == "Quảng Ninh: 2 records", url
        titles = {a.xpath("string(span[@lang])") for a in _row(doc, "Quảng Ninh").xpath(".//td//a")}
        assert {old_unit.values("title")[0].value, new_unit.values("title")[0].value} <= titles
    # The 63-province map has the old provinces only; the 34-province map the new ones only.
    _, doc = _page(client, "/en/map?system=pre2025")
    assert _marker(doc, QUANG_NINH_2025) is None
    assert (
        doc.xpath('//nav[contains(@class, "map-systems")]//a[@aria-current="page"]')[0]
        .get("href")
        .endswith("system=pre2025")
    )


def test_filters_by_category_and_ethnic_group(client, make_record):
    craft = make_record(title=_title(), places=[HA_LONG_COMMUNE], category="craft", ethnic_groups=["dao"])
    make_record(title=_title(), places=[HA_LONG_COMMUNE], category="festival", ethnic_groups=["tay"])

    _, doc = _page(client, "/en/map?category=craft")
    assert _marker(doc, QUANG_NINH_2025).get("aria-label") == "Quảng Ninh: 1 record"
    assert [a.xpath("string(span[@lang])") for a in _row(doc, "Quảng Ninh").xpath(".//td//a")] == [
        craft.values("title")[0].value
    ]
    # A narrowed map links to the search narrowed the same way, so the figures match.
    href = _marker(doc, QUANG_NINH_2025).get("href")
    assert "/en/search?" in href and "category=craft" in href and f"province={QUANG_NINH_2025}" in href
    assert doc.xpath('//select[@name="category"]/option[@selected]/@value') == ["craft"]

    _, doc = _page(client, "/en/map?group=dao&category=craft")
    assert _marker(doc, QUANG_NINH_2025).get("aria-label") == "Quảng Ninh: 1 record"
    _, doc = _page(client, "/en/map?group=tay&category=craft")
    assert _marker(doc, QUANG_NINH_2025) is None
    _, doc = _page(client, "/en/map?group=&category=")  # the form's "all" choices
    assert _marker(doc, QUANG_NINH_2025).get("aria-label") == "Quảng Ninh: 2 records"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("system=1990", "“1990” is not a map of provinces the archive knows"),
        ("category=fireworks", "“fireworks” is not a category of the archive."),
        ("group=martians", "“martians” is not an ethnic group of the archive."),
        ("group=t%00y", "not allowed (NUL)"),  # refused for every page by archive/core/security.py
        ("group=" + "x" * 500, "“" + "x" * 60 + "…” is not an ethnic group"),
    ],
)
def test_unknown_filters_are_refused_with_a_message(client, query, message):
    response = client.get(f"/en/map?{query}")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert message in body
    assert 'href="/en/map"' in body


def test_the_page_is_small_and_cached_only_for_visitors(client, login, app):
    response = client.get("/vi/map")
    assert len(gzip.compress(response.get_data())) < 25_000
    assert response.headers["Cache-Control"] == "public, max-age=300"
    # The projected base map is kept in the data directory for the next start.
    assert list((Path(app.config["DATA_DIR"]) / "map").glob("basemap-*.json"))
    login("researcher")
    assert client.get("/vi/map").headers["Cache-Control"] == "private, no-cache"


@pytest.fixture
def community(db):
    from archive.communities.models import Community

    group = Community(slug=f"map-{uuid.uuid4().hex[:6]}", name=[{"lang": "vi", "value": "Cộng đồng thử"}])
    db.session.add(group)
    db.session.commit()
    return group


def test_without_the_base_layer_file_the_map_still_shows_markers_and_archipelagos(client, app, caplog):
    previous = app.config.get("MAP_TOPOJSON")
    app.config["MAP_TOPOJSON"] = str(Path(app.config["DATA_DIR"]) / "missing-countries.json")
    try:
        _, doc = _page(client, "/en/map")
    finally:
        app.config["MAP_TOPOJSON"] = previous
    assert not doc.xpath('//path[contains(@class, "vietnam")]')
    assert doc.xpath('//svg[contains(@class, "map-markers")]//a')
    assert doc.get_element_by_id("hoang-sa") is not None
    assert "missing-countries.json" in caplog.text
