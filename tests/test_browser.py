"""Visitors' journeys in a real browser (Debian's Chromium driven by Playwright): on a 360x740 phone and on
a desktop, in Vietnamese and in English, and once more with JavaScript switched off. Screenshots of every
step are saved under test-artifacts/."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 900}}
HEADINGS = {
    "vi": {"home": "Lễ hội và Phong tục các Dân tộc thiểu số Việt Nam", "held": "Thời gian tổ chức"},
    "en": {"home": "Festivals and Customs of Vietnam's Ethnic Minorities", "held": "When it is held"},
}
OTHER = {"vi": "en", "en": "vi"}
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}


def _shot(page, artifacts_dir, name: str) -> None:
    page.screenshot(path=str(artifacts_dir / f"journey-{name}.png"), full_page=True)


def _follow(page, link) -> None:
    """Click a link and wait for the new page to finish loading: once its URL has committed, a slow machine
    may not yet have parsed the rest of a long page (the map's SVG), and assertions that do not wait would
    look at a half-built document."""
    link.click()
    page.wait_for_load_state()


def _no_horizontal_scroll(page, where: str) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"{where}: the page is {overflow}px wider than the screen"


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_visitor_journey(browser, live_server, device, lang, artifacts_dir):
    """Home → browse an ethnic group → a record (media, dates) → the other language, same page →
    the festival calendar → the map → an exhibit → search."""
    context = browser.new_context(
        viewport=VIEWPORTS[device], locale=f"{lang}-VN" if lang == "vi" else "en-GB"
    )
    page = context.new_page()
    tag = f"{device}-{lang}"

    page.goto(live_server + "/")  # the first visit follows Accept-Language
    assert page.url == f"{live_server}/{lang}/"
    assert page.locator("html").get_attribute("lang") == lang
    assert page.get_by_role("heading", level=1).inner_text() == HEADINGS[lang]["home"]
    _no_horizontal_scroll(page, f"home {tag}")
    _shot(page, artifacts_dir, f"home-{tag}")

    _follow(page, page.locator("main .entry-points a[href$='/groups']"))
    assert page.url.endswith(f"/{lang}/groups")
    _follow(page, page.locator("main a[href$='/groups/tay']").first)
    assert page.url.endswith(f"/{lang}/groups/tay")
    _no_horizontal_scroll(page, f"group {tag}")
    _shot(page, artifacts_dir, f"group-{tag}")

    _follow(page, page.locator("main a[href*='/records/'][href$='/long-tong-tay-nung']").first)
    assert "/long-tong-tay-nung" in page.url and f"/{lang}/records/" in page.url
    expect(page.get_by_text(HEADINGS[lang]["held"]).first).to_be_visible()
    assert page.locator("main audio source, main video source, main img").count() >= 1
    _no_horizontal_scroll(page, f"record {tag}")
    _shot(page, artifacts_dir, f"record-{tag}")

    record_path = page.url.split(f"/{lang}/", 1)[1]
    _follow(page, page.get_by_role("link", name=LANGUAGE_NAMES[OTHER[lang]]))
    assert page.url == f"{live_server}/{OTHER[lang]}/{record_path}"  # the same page in the other language
    assert page.locator("html").get_attribute("lang") == OTHER[lang]
    expect(page.get_by_text(HEADINGS[OTHER[lang]]["held"]).first).to_be_visible()
    _follow(page, page.get_by_role("link", name=LANGUAGE_NAMES[lang]))
    assert page.locator("html").get_attribute("lang") == lang

    _follow(page, page.locator("nav.main-nav a[href$='/calendar']"))
    assert page.url.endswith(f"/{lang}/calendar")
    assert page.locator("main a[href*='/records/']").count() >= 1
    _shot(page, artifacts_dir, f"calendar-{tag}")

    _follow(page, page.locator("nav.main-nav a[href$='/map']"))
    assert page.url.endswith(f"/{lang}/map")
    expect(page.locator("main svg").first).to_be_visible()
    _no_horizontal_scroll(page, f"map {tag}")
    _shot(page, artifacts_dir, f"map-{tag}")

    _follow(page, page.locator("nav.main-nav a[href$='/exhibits']"))
    assert page.url.endswith(f"/{lang}/exhibits")
    _follow(page, page.locator("main a[href*='/exhibits/']").first)
    assert f"/{lang}/exhibits/" in page.url
    assert page.locator("main section, main article").count() >= 1
    _no_horizontal_scroll(page, f"exhibit {tag}")
    _shot(page, artifacts_dir, f"exhibit-{tag}")

    box = page.locator("header .site-search input[type=search]")
    box.fill("lồng tồng")
    box.press("Enter")
    page.wait_for_url(f"**/{lang}/search?**")
    assert page.locator("main a[href*='/long-tong-tay-nung']").count() >= 1
    _shot(page, artifacts_dir, f"search-{tag}")
    context.close()


def test_everything_works_without_javascript(browser, live_server, artifacts_dir):
    """Browse, search, read, play media and switch language with JavaScript switched off."""
    context = browser.new_context(viewport=VIEWPORTS["phone"], java_script_enabled=False, locale="vi-VN")
    page = context.new_page()
    page.goto(live_server + "/vi/")
    form = page.locator("header form[role=search]")
    form.locator("input[type=search]").fill("lồng tồng")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/vi/search?**")
    _follow(page, page.locator("main a[href*='/long-tong-tay-nung']").first)
    assert page.get_by_role("heading", level=1).inner_text() == "Lễ hội Lồng Tồng"
    _shot(page, artifacts_dir, "nojs-record-vi")

    # A recording: the browser's own player, with a source it can fetch.
    source = page.locator("main audio source, main video source").first
    src = source.get_attribute("src")
    response = page.request.get(live_server + src, headers={"Range": "bytes=0-99"})
    assert response.status in (200, 206) and len(response.body()) > 0

    _follow(page, page.get_by_role("link", name="English"))
    assert page.locator("html").get_attribute("lang") == "en"
    _follow(page, page.locator("nav.main-nav a[href$='/browse']"))
    assert page.url.endswith("/en/browse")
    _follow(page, page.locator("main a[href$='/places']").first)
    assert page.locator("main a[href*='/places/']").count() >= 34
    _follow(page, page.locator("nav.main-nav a[href$='/calendar']"))
    assert page.locator("main a[href*='/records/']").count() >= 1
    _follow(page, page.locator("nav.main-nav a[href$='/map']"))
    assert page.locator("main svg a").count() >= 1
    _shot(page, artifacts_dir, "nojs-map-en")
    context.close()
