"""A curator builds an exhibit in a real browser (narrative and image sections); a visitor reads it."""

import uuid
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"


@contextmanager
def committed_curator(app):
    """A curator committed to the session database (the live server cannot see the rolled-back test
    transaction); removed afterwards with the exhibits they made."""
    from archive.accounts.models import User
    from archive.core.extensions import db
    from archive.exhibits.models import Exhibit

    with app.app_context():
        user = User(
            email=f"curator-{uuid.uuid4().hex[:8]}@example.vn", display_name="Curator", role="curator"
        )
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
        email, user_id = user.email, user.id
        db.session.remove()
    try:
        yield email
    finally:
        with app.app_context():
            for exhibit in db.session.scalars(sa.select(Exhibit).where(Exhibit.created_by_id == user_id)):
                db.session.delete(exhibit)
            db.session.flush()
            db.session.delete(db.session.get(User, user_id))
            db.session.commit()
            db.session.remove()


def _public_image(app) -> str:
    from archive.core.extensions import db
    from archive.media.models import MediaFile
    from archive.records.models import HeritageRecord

    with app.app_context():
        public_id = db.session.scalar(
            sa.select(MediaFile.public_id)
            .join(HeritageRecord, MediaFile.record_id == HeritageRecord.id)
            .where(
                HeritageRecord.slug == "long-tong-tay-nung",
                MediaFile.kind == "image",
                MediaFile.state == "ready",
            )  # fmt: skip
        )
        db.session.remove()
    assert public_id
    return public_id


def test_curator_builds_an_exhibit_and_a_visitor_sees_it(app, browser, live_server, artifacts_dir):
    image_id = _public_image(app)
    from playwright.sync_api import expect

    slug = f"mua-xuan-{uuid.uuid4().hex[:6]}"
    with committed_curator(app) as email:
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
        page = context.new_page()
        page.goto(f"{live_server}/en/login")
        page.locator("input[name=email]").fill(email)
        page.locator("input[name=password]").fill(PASSWORD)
        with page.expect_navigation():
            page.locator("main form [type=submit]").click()

        page.goto(f"{live_server}/en/admin/exhibits/new")
        page.get_by_label("Title (Vietnamese)").fill("Mùa xuân trên núi")
        page.get_by_label("Title (English)").fill("Spring in the mountains")
        page.get_by_label("Introduction (English)").fill("A short walk through spring festivals.")
        page.get_by_label("Web address (slug)").fill(slug)
        page.get_by_label("Published").check()
        page.get_by_role("button", name="Create the exhibit").click()
        assert "/edit" in page.url

        page.get_by_label("Add a section").select_option("narrative")
        page.get_by_role("button", name="Add", exact=True).click()
        page.get_by_label("Heading (English)").fill("Going down to the fields")
        page.get_by_label("Text (Vietnamese)").fill("Lễ hội **xuống đồng** đầu xuân.")
        page.get_by_label("Text (English)").fill("The **going down to the fields** festival opens spring.")
        page.get_by_role("button", name="Add the section").click()

        page.get_by_label("Add a section").select_option("image")
        page.get_by_role("button", name="Add", exact=True).click()
        page.get_by_label("Identifier of the media file").fill(image_id)
        page.get_by_role("button", name="Add the section").click()
        # Refused without Vietnamese alt text, what was typed kept.
        expect(page.get_by_text("at least in Vietnamese").first).to_be_visible()
        assert page.get_by_label("Identifier of the media file").input_value() == image_id
        page.get_by_label("Alternative text (Vietnamese)").fill("Quả còn bay về phía vòng trên cây nêu")
        page.get_by_label("Caption (English)").fill("An illustration, not a photograph.")
        page.get_by_role("button", name="Add the section").click()
        assert page.locator(".section-list > li").count() == 2
        page.screenshot(path=str(artifacts_dir / "exhibit-admin-360.png"), full_page=True)
        context.close()

        visitor = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
        page = visitor.new_page()
        page.goto(f"{live_server}/en/exhibits")
        page.get_by_role("link", name="Spring in the mountains").click()
        assert page.get_by_role("heading", level=1).inner_text() == "Spring in the mountains"
        expect(page.get_by_role("heading", level=2, name="Going down to the fields")).to_be_visible()
        image = page.get_by_role("img", name="Quả còn bay về phía vòng trên cây nêu")
        image.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=15000
        )
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(artifacts_dir / "exhibit-visitor-360.png"), full_page=True)
        visitor.close()
