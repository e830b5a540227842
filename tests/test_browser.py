"""A visitor's journey in a real browser (Debian's Chromium driven by Playwright), phone and desktop."""

import pytest

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    "viewport", [{"width": 360, "height": 740}, {"width": 1280, "height": 900}], ids=["phone", "desktop"]
)
def test_visitor_browses_reads_a_record_and_switches_language(browser, live_server, viewport, artifacts_dir):
    context = browser.new_context(viewport=viewport, locale="vi-VN")
    page = context.new_page()
    name = f"{viewport['width']}x{viewport['height']}"
    page.goto(live_server + "/")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert (
        page.get_by_role("heading", level=1).inner_text()
        == "Lễ hội và Phong tục các Dân tộc thiểu số Việt Nam"
    )
    page.screenshot(path=str(artifacts_dir / f"home-vi-{name}.png"), full_page=True)

    page.get_by_role("link", name="Tất cả bản ghi").click()
    assert "/records" in page.url
    page.get_by_role("link", name="Trang sau").click()
    assert "page=2" in page.url
    page.get_by_role("link", name="Trang trước").click()

    target = page.get_by_role("link", name="Lễ hội Lồng Tồng", exact=True)
    for _ in range(20):  # page through the list until the record shows up
        if target.count():
            break
        page.get_by_role("link", name="Trang sau").click()
    target.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Lễ hội Lồng Tồng"
    assert page.get_by_text("Thời gian tổ chức").is_visible()
    assert page.locator("audio, video, img").count() >= 1
    page.screenshot(path=str(artifacts_dir / f"record-vi-{name}.png"), full_page=True)

    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_text("When it is held").is_visible()
    page.screenshot(path=str(artifacts_dir / f"record-en-{name}.png"), full_page=True)

    with page.expect_response(lambda r: r.url.endswith("/dc.xml")) as response:
        page.get_by_role("link", name="Dublin Core (XML)").click()
    assert response.value.status == 200
    assert "<dc:title" in response.value.text()
    context.close()
