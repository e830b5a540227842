"""The public pages: home, the paginated list, a record page and its downloads."""

import json

import sqlalchemy as sa
from lxml import etree

from archive.records.models import HeritageRecord
from metadata.languages import LangString
from tests.conftest import STANDARDS


def _record(db, slug):
    return db.session.scalar(sa.select(HeritageRecord).where(HeritageRecord.slug == slug))


def test_home_defaults_to_vietnamese_and_switches_to_english(client):
    page = client.get("/vi/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="vi">' in html and "Lễ hội sắp diễn ra" in html
    chosen = client.get("/en/")
    english = chosen.get_data(as_text=True)
    assert '<html lang="en">' in english and "Upcoming festivals" in english
    assert "lang=en" in chosen.headers["Set-Cookie"]  # the visitor's choice, for unprefixed links
    again = client.get("/")  # the choice is remembered for an unprefixed visit
    assert again.status_code == 302 and again.headers["Location"] == "/en/"


def test_list_is_paginated_and_shows_only_public_published_records(client, db, make_record, app):
    make_record(title="Bản nháp bí mật", status="draft")
    make_record(title="Dành cho nhà nghiên cứu", access_level="researchers")
    visible = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(HeritageRecord)
        .where(HeritageRecord.status == "published", HeritageRecord.access_level == "public")
    )
    per_page = app.config["PAGE_SIZE"]
    pages = -(-visible // per_page)
    seen = 0
    for page in range(1, pages + 1):
        html = client.get(f"/vi/records?page={page}").get_data(as_text=True)
        seen += html.count('<li>\n    <a href="/vi/records/')
        assert "Bản nháp bí mật" not in html and "Dành cho nhà nghiên cứu" not in html
    assert seen == visible
    assert client.get(f"/vi/records?page={pages + 1}").status_code == 404
    assert client.get("/vi/records?page=abc").status_code == 400


def test_record_page_shows_every_field(client, db):
    record = _record(db, "long-tong-tay-nung")
    response = client.get(f"/vi/records/{record.public_id}")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/records/{record.public_id}/{record.slug}")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    for value in [v.value for v in record.values("title") + record.values("alternative")]:
        assert value in html
    assert record.values("description")[0].value.split(".")[0] in html
    assert "Tày" in html and "Nùng" in html
    assert "tháng Giêng" in html
    for agent in record.agents:
        assert agent.agent.name in html
    for link in ("dc.xml", "record.jsonld", "record.csv"):
        assert f"/records/{record.public_id}/{link}" in html
    assert "Hình minh họa" in html or "minh họa" in html


def test_fallback_is_announced(client, make_record):
    record = make_record(
        texts={"title": [LangString("Chỉ có tiếng Việt", "vi")], "summary": [LangString("Tóm tắt", "vi")]}
    )
    html = client.get(f"/en/records/{record.public_id}/{record.slug}").get_data(as_text=True)
    assert (
        '<span lang="vi">Chỉ có tiếng Việt</span> <small class="fallback">(Shown in Vietnamese)</small>'
        in html
    )


def test_downloads(client, db):
    record = _record(db, "long-tong-tay-nung")
    xml = client.get(f"/records/{record.public_id}/dc.xml")
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    schema = etree.XMLSchema(etree.parse(str(STANDARDS / "oai-pmh" / "oai_dc.xsd")))
    assert schema.validate(etree.fromstring(xml.data))
    ld = client.get(f"/records/{record.public_id}/record.jsonld")
    assert (
        ld.mimetype == "application/ld+json" and json.loads(ld.data)["schema:identifier"] == record.public_id
    )
    csv_text = client.get(f"/records/{record.public_id}/record.csv").get_data(as_text=True)
    assert csv_text.startswith("identifier,slug,category") and record.public_id in csv_text


def test_unknown_hidden_and_withdrawn_records(client, make_record, db):
    assert client.get("/vi/records/r0000000000").status_code == 404
    draft = make_record(status="draft")
    private = make_record(access_level="private")
    for record in (draft, private):
        assert client.get(f"/vi/records/{record.public_id}/{record.slug}").status_code == 404
        assert client.get(f"/records/{record.public_id}/dc.xml").status_code == 404
    withdrawn = make_record(status="withdrawn")
    response = client.get(f"/vi/records/{withdrawn.public_id}")
    assert response.status_code == 410
    assert "Bản ghi này đã bị rút" in response.get_data(as_text=True)


def test_media_of_public_records_are_served_with_ranges(client, db):
    record = _record(db, "long-tong-tay-nung")
    media = record.media[0]
    with client.get(f"/media/{media.public_id}/file") as full:
        assert full.status_code == 200 and full.mimetype == media.mime_type
        assert len(full.data) == media.size_bytes
    with client.get(f"/media/{media.public_id}/file", headers={"Range": "bytes=0-99"}) as part:
        assert part.status_code == 206 and len(part.data) == 100
    assert client.get("/media/m0000000000/file").status_code == 404


def test_record_pages_follow_the_access_rule(client, make_record, make_user):
    """Search links signed-in people to the records they may see; visitors never learn they exist."""
    owner = make_user("contributor")
    draft = make_record(created_by=owner, status="draft", title="Bản nháp riêng")
    private = make_record(created_by=owner, access_level="private", title="Bản ghi riêng")
    withdrawn = make_record(created_by=owner, status="withdrawn", title="Bản ghi đã rút")
    for record in (draft, private):
        assert client.get(f"/vi/records/{record.public_id}/{record.slug}").status_code == 404
    assert client.get(f"/vi/records/{withdrawn.public_id}/{withdrawn.slug}").status_code == 410
    client.post("/login", data={"email": owner.email, "password": "correct horse battery"})
    for record in (draft, private):
        page = client.get(f"/vi/records/{record.public_id}/{record.slug}")
        assert page.status_code == 200 and record.slug in page.get_data(as_text=True)
    assert client.get(f"/vi/records/{withdrawn.public_id}/{withdrawn.slug}").status_code == 410
