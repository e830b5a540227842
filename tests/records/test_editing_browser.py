"""The contributor workspace in a real browser (Debian's Chromium driven by Playwright), on a phone and a
desktop: a cultural officer catalogues a festival with titles in three languages, picks an ethnic group
and an old administrative unit with the keyboard, enters its lunar date and sees when it falls; a curator
returns it with a comment; the officer reads it, edits and resubmits; the curator publishes; a visitor
reads the published page."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from babel.dates import format_date

from metadata.lunar import to_gregorian

pytestmark = pytest.mark.browser

VIEWPORTS = [{"width": 360, "height": 740}, {"width": 1280, "height": 900}]
PASSWORD = "correct horse battery"


@contextmanager
def committed_people(app):
    """A contributor and a curator committed to the session database (the live server cannot see the
    rolled-back test transaction); they and every record the contributor made are removed after."""
    from archive.accounts.models import User
    from archive.core.extensions import db
    from archive.records.models import HeritageRecord

    tag = uuid.uuid4().hex[:8]
    with app.app_context():
        people = {}
        for role, name in (("contributor", "Cán bộ văn hoá xã Cải"), ("curator", "Người duyệt bảo tàng")):
            user = User(email=f"{role}-{tag}@example.vn", display_name=name, role=role)
            user.set_password(PASSWORD)
            db.session.add(user)
            people[role] = user
        db.session.commit()
        accounts = {role: (user.email, user.id) for role, user in people.items()}
        db.session.remove()
    try:
        yield accounts
    finally:
        with app.app_context():
            owner = accounts["contributor"][1]
            for record in db.session.scalars(
                sa.select(HeritageRecord).where(HeritageRecord.created_by_id == owner)
            ):
                db.session.delete(record)  # its events, revisions and notifications go with it
            db.session.flush()
            for _email, user_id in accounts.values():
                db.session.delete(db.session.get(User, user_id))
            db.session.commit()
            db.session.remove()


def signed_in(browser, base: str, email: str, viewport: dict):
    context = browser.new_context(viewport=viewport, locale="en-US")
    page = context.new_page()
    page.goto(f"{base}/login?lang=en")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main form [type=submit]").click()
    return context, page


def flash(page):
    """The message the archive shows after an action (the comboboxes have status regions of their own)."""
    return page.locator("main > div[role=status]")


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def pick(page, box_name: str, typed: str, option_text: str, ref_name: str | None = None):
    """Type into a combobox, move down to the option with the keyboard and take it with Enter."""
    from playwright.sync_api import expect

    box = page.get_by_role("combobox", name=box_name, exact=True).first
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press_sequentially(typed, delay=30)
    expect(box).to_have_attribute("aria-expanded", "true")
    listbox = page.locator(f"#{box.get_attribute('aria-controls')}")
    assert listbox.get_attribute("role") == "listbox"
    options = listbox.get_by_role("option")
    labels = [options.nth(i).locator(".picker-label").inner_text() for i in range(options.count())]
    target = labels.index(option_text)
    for _ in range(target + 1):
        box.press("ArrowDown")
    active = options.nth(target)
    expect(active).to_have_attribute("aria-selected", "true")
    assert box.get_attribute("aria-activedescendant") == active.get_attribute("id")
    detail = active.inner_text()
    box.press("Enter")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_have_value(option_text)
    return box, detail


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["phone", "desktop"])
def test_catalogue_review_return_resubmit_publish(browser, live_server, app, viewport, artifacts_dir):
    from playwright.sync_api import expect

    size = f"{viewport['width']}x{viewport['height']}"
    title_vi = f"Lễ hội Lồng Tồng thử {uuid.uuid4().hex[:6]}"
    year = dt.date.today().year + 1
    with committed_people(app) as accounts:
        officer_context, officer = signed_in(browser, live_server, accounts["contributor"][0], viewport)
        officer.get_by_role("link", name="My records").click()
        officer.get_by_role("link", name="New record").click()
        expect(officer.get_by_role("heading", level=1)).to_have_text("New record")

        # Titles: Vietnamese, then English and Tày through "Add a value in another language".
        titles = officer.locator("#title .repeat-row")
        expect(titles).to_have_count(1)  # with the script, one empty row and a button
        titles.nth(0).locator("input").fill(title_vi)
        add = officer.locator("#title").get_by_role("button", name="Add a value in another language")
        add.click()
        expect(titles).to_have_count(2)
        expect(titles.nth(1).locator("select")).to_have_value("en")  # the next language not used yet
        expect(titles.nth(1).locator("input")).to_be_focused()
        officer.keyboard.type("Lồng Tồng festival (test)")
        add.click()
        titles.nth(2).locator("select").select_option("tyz")
        titles.nth(2).locator("input").fill("Lồng tồng")
        assert titles.nth(2).locator("input").get_attribute("lang") == "tyz"

        # An ethnic group and an old administrative unit, with the keyboard.
        pick(officer, "Ethnic group", "tay", "Tày")
        assert officer.locator("input[name=ethnic_groups-0-ref]").input_value() == "tay"
        officer.get_by_label("Old units (before 1 July 2025)").check()
        _box, detail = pick(officer, "Place", "cho don", "Chợ Đồn, Bắc Kạn")
        assert "today in Thái Nguyên" in detail
        assert officer.locator("input[name=places-0-ref]").input_value() == "pre2025-d064"

        # The lunar timing and its preview.
        officer.locator("#timings-0-month").fill("1")
        officer.locator("#timings-0-day").fill("15")
        expected = format_date(to_gregorian(year, 1, 15), "long", locale="en")
        preview = officer.locator("#timings .timing-preview").first
        expect(preview).to_have_text(f"In {year} this falls on {expected}.")
        officer.locator("#timings-0-note-0-value").fill("rằm tháng Giêng")
        assert fits_the_screen(officer)
        officer.screenshot(path=str(artifacts_dir / f"record-form-{size}.png"), full_page=True)

        with officer.expect_navigation():
            officer.get_by_role("button", name="Save the record").click()
        expect(flash(officer)).to_contain_text("was saved")
        public_id = re.search(r"/records/([a-z0-9]+)/edit", officer.url).group(1)
        expect(officer.locator("#title-2-value")).to_have_value("Lồng tồng")
        with officer.expect_navigation():
            officer.get_by_role("button", name="Submit for review").click()
        expect(flash(officer)).to_contain_text("was submitted for review")

        # The curator returns it with a comment.
        curator_context, curator = signed_in(browser, live_server, accounts["curator"][0], viewport)
        curator.get_by_role("link", name="Review").click()
        entry = curator.locator(f"#review-{public_id}")
        expect(entry).to_be_visible()
        entry.get_by_label("Comment for the contributor (what to change)").fill(
            "Thêm tóm tắt bằng tiếng Việt."
        )
        curator.screenshot(path=str(artifacts_dir / f"review-queue-{size}.png"), full_page=True)
        with curator.expect_navigation():
            entry.get_by_role("button", name=re.compile("^Return ")).click()
        expect(flash(curator)).to_contain_text("was returned to its contributor")

        # The officer reads the comment in My records, edits and submits again.
        officer.goto(f"{live_server}/my/records")
        expect(officer.get_by_role("link", name=re.compile(r"Notifications \(1 unread\)"))).to_be_visible()
        item = officer.locator(f"#record-{public_id}")
        returned_heading = item.locator("xpath=ancestor::section[1]//h2")
        expect(returned_heading).to_contain_text("Returned with comments")
        expect(item.locator(".curator-comment")).to_contain_text("Thêm tóm tắt bằng tiếng Việt.")
        expect(item.locator(".curator-comment")).to_contain_text("Người duyệt bảo tàng")
        assert fits_the_screen(officer)
        officer.screenshot(path=str(artifacts_dir / f"my-records-returned-{size}.png"), full_page=True)
        item.get_by_role("link", name=re.compile("^Edit ")).click()
        officer.locator("#summary-0-value").fill("Lễ xuống đồng cầu mùa của người Tày.")
        with officer.expect_navigation():
            officer.get_by_role("button", name="Save changes").click()
        expect(flash(officer)).to_contain_text("were saved")
        with officer.expect_navigation():
            officer.get_by_role("button", name="Submit for review").click()

        # The curator publishes it.
        curator.goto(f"{live_server}/review")
        with curator.expect_navigation():
            curator.locator(f"#review-{public_id}").get_by_role(
                "button", name=re.compile("^Publish ")
            ).click()
        expect(flash(curator)).to_contain_text("was published")

        # A visitor reads the published page.
        visitor_context = browser.new_context(viewport=viewport, locale="vi-VN")
        visitor = visitor_context.new_page()
        response = visitor.goto(f"{live_server}/records/{public_id}")
        assert response.status == 200
        expect(visitor.get_by_role("heading", level=1)).to_have_text(title_vi)
        expect(visitor.get_by_text("Lễ xuống đồng cầu mùa của người Tày.").first).to_be_visible()
        expect(visitor.get_by_text("Chợ Đồn, Bắc Kạn").first).to_be_visible()
        visitor.screenshot(path=str(artifacts_dir / f"record-published-{size}.png"), full_page=True)
        for context in (visitor_context, curator_context, officer_context):
            context.close()
