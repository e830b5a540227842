"""The demo exhibits: published, featured, built only from public records and media, shown to visitors."""


def test_demo_exhibits_load_once_and_show_their_sections(client, db):
    from sqlalchemy import select

    from archive.exhibits.demo import EXHIBITS, load_demo_exhibits
    from archive.exhibits.models import Exhibit

    slugs = [spec["slug"] for spec in EXHIBITS]
    load_demo_exhibits()  # none, or all when the demo loader already made them
    db.session.commit()
    assert load_demo_exhibits() == 0
    exhibits = db.session.scalars(
        select(Exhibit).where(Exhibit.slug.in_(slugs)).order_by(Exhibit.position)
    ).all()
    assert [e.slug for e in exhibits] == slugs
    assert [e.status for e in exhibits] == ["published", "published"] and all(e.featured for e in exhibits)
    for exhibit in exhibits:
        assert {s.kind for s in exhibit.sections} >= {"narrative", "records"}
        for section in exhibit.sections:
            for item in section.items:
                assert item.record.access_level == "public" and item.record.status == "published"
            if section.media is not None:
                assert section.media.access_level == "public"
    kinds = {s.kind for e in exhibits for s in e.sections}
    assert {"image", "excerpt"} <= kinds
    page = client.get(f"/en/exhibits/{exhibits[1].slug}").get_data(as_text=True)
    assert "Voices of ritual" in page and "#t=0," in page and "from 0:00 to" in page
    listing = client.get("/vi/exhibits").get_data(as_text=True)
    assert "Mùa xuân ở vùng núi phía Bắc" in listing and "Tiếng nói của nghi lễ" in listing
