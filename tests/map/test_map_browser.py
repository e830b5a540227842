"""The map on a phone (360x740) in Chromium: it is visible, and a marker is a working link."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_map_on_a_phone_shows_markers_that_lead_to_the_province(live_server, browser, artifacts_dir):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-GB")
    page = context.new_page()
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto(live_server + "/en/map")
    figure = page.locator(".map-figure svg.map-base")
    assert figure.is_visible()
    box = figure.bounding_box()
    assert box and 300 <= box["width"] <= 360 and box["height"] > 300  # the whole width of a phone
    # The island groups are on the map and readable; no province labels crowd a phone screen.
    expect(page.get_by_text("Spratly Islands")).to_be_visible()
    assert not page.locator(".marker-label").first.is_visible()
    # The script adds zoom buttons; zooming in keeps the markers in place and usable.
    page.get_by_role("button", name="Zoom in").click()
    page.get_by_role("button", name="Show the whole map").click()
    page.screenshot(path=str(artifacts_dir / "map-en-360x740.png"), full_page=False)

    marker = page.get_by_role("link", name=re.compile(r"^Huế: \d+ records?$"))
    assert marker.count() == 1
    marker.click()
    page.wait_for_load_state()
    assert "2025-p46" in page.url  # Huế's province page, or the search filtered by Huế
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert not failed, failed
    context.close()
