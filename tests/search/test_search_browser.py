"""Searching in a real browser (Debian's Chromium driven by Playwright), on a phone and a desktop, with
and without JavaScript."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.browser

VIEWPORTS = [{"width": 360, "height": 740}, {"width": 1280, "height": 900}]


def _params(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def _count(page) -> int:
    return int(re.search(r"\d+", page.locator("#result-count").inner_text()).group())


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _pick_facet_value(page, total: int):
    """A facet value that narrows the results: (link, its count)."""
    links = page.locator("a.facet-value:not(.selected)")
    for i in range(links.count()):
        link = links.nth(i)
        count = int(link.locator(".count").inner_text())
        if count < total:
            return link, count
    raise AssertionError("no facet value narrows the results")


def _open_filters(page) -> None:
    """On a phone the filters are a closed <details>; on a wide screen they are an open sidebar."""
    summary = page.locator("details#filters > summary")
    if summary.is_visible() and not page.locator("details#filters").evaluate("d => d.open"):
        summary.click()
    assert page.locator("a.facet-value").first.is_visible()


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["phone", "desktop"])
def test_search_with_autocomplete_facets_and_sorting(browser, live_server, viewport, artifacts_dir):
    from playwright.sync_api import expect

    name = f"{viewport['width']}x{viewport['height']}"
    context = browser.new_context(viewport=viewport, locale="vi-VN")
    page = context.new_page()
    page.goto(live_server + "/")

    # The header box is an ARIA combobox once the script has run.
    box = page.get_by_role("combobox", name="Tìm trong kho lưu trữ")
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press_sequentially("le hoi long tong", delay=40)
    option = page.get_by_role("option", name=re.compile("Lễ hội Lồng Tồng"))
    expect(option.first).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    listbox = page.get_by_role("listbox")
    assert box.get_attribute("aria-controls") == listbox.get_attribute("id")
    assert "Bản ghi" in option.first.inner_text()  # the kind of each suggestion is shown
    expect(page.locator(".site-search [role=status]")).to_contain_text("gợi ý")
    page.screenshot(path=str(artifacts_dir / f"search-autocomplete-vi-{name}.png"))

    # Keyboard: Down chooses the first suggestion, Escape closes the list and keeps the text.
    box.press("ArrowDown")
    first_option = page.get_by_role("option").first
    expect(first_option).to_have_attribute("aria-selected", "true")
    assert box.get_attribute("aria-activedescendant") == first_option.get_attribute("id")
    box.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(listbox).to_be_hidden()
    assert box.input_value() == "le hoi long tong"

    # Enter with no suggestion chosen submits the search.
    with page.expect_navigation():
        box.press("Enter")
    assert _params(page.url) == {"q": ["le hoi long tong"]}
    first_hit = page.locator("ol.hits > li").first
    expect(first_hit.locator("h3 a")).to_have_text("Lễ hội Lồng Tồng")
    expect(first_hit.locator(".snippet mark").first).to_be_visible()
    assert _fits_the_screen(page)
    page.screenshot(path=str(artifacts_dir / f"search-results-vi-{name}.png"), full_page=True)

    # A facet value narrows the search; the URL carries the filter.
    total = _count(page)
    _open_filters(page)
    link, expected = _pick_facet_value(page, total)
    facet, key = link.get_attribute("data-facet"), link.get_attribute("data-key")
    link.click()
    page.wait_for_url(re.compile(rf"[?&]{facet}="))
    assert _params(page.url) == {"q": ["le hoi long tong"], facet: [key]}
    assert _count(page) == expected < total
    expect(page.locator(f"a.facet-value.selected[data-key='{key}']")).to_have_count(1)
    expect(page.locator(".active-filters a.chip")).to_have_count(1)
    page.screenshot(path=str(artifacts_dir / f"search-filtered-vi-{name}.png"), full_page=True)

    # Removing it brings the full result back.
    page.locator(".active-filters a.chip").click()
    page.wait_for_url(lambda url: facet not in url)
    assert _count(page) == total

    # The page's own box completes ethnic groups too; choosing one (with the pointer) opens its search.
    box = page.get_by_role("combobox", name="Tìm trong kho lưu trữ")
    box.fill("")
    box.press_sequentially("khơ m", delay=40)
    group = page.get_by_role("option", name=re.compile("Khơ Mú.*Dân tộc"))
    expect(group).to_be_visible()
    group.click()
    page.wait_for_url(re.compile(r"ethnic_group=kho-mu"))
    assert _params(page.url) == {"ethnic_group": ["kho-mu"]}
    assert _count(page) >= 1
    context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["phone", "desktop"])
def test_search_works_without_javascript(browser, live_server, viewport, artifacts_dir):
    from playwright.sync_api import expect

    name = f"{viewport['width']}x{viewport['height']}"
    context = browser.new_context(viewport=viewport, locale="vi-VN", java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + "/records")
    box = page.get_by_role("searchbox", name="Tìm trong kho lưu trữ")
    box.fill("lễ hội")
    with page.expect_navigation():
        box.press("Enter")
    assert _params(page.url) == {"q": ["lễ hội"]}
    total = _count(page)
    assert total > 1

    # The filters open without script (a <details>), and each value is a plain link.
    _open_filters(page)
    link, expected = _pick_facet_value(page, total)
    facet, key = link.get_attribute("data-facet"), link.get_attribute("data-key")
    with page.expect_navigation():
        link.click()
    assert _params(page.url) == {"q": ["lễ hội"], facet: [key]}
    assert _count(page) == expected

    # Sorting is a select with a button, in the same GET form: the filter is kept.
    page.get_by_label("Sắp xếp theo").select_option("title")
    with page.expect_navigation():
        page.get_by_role("button", name="Sắp xếp", exact=True).click()
    assert _params(page.url) == {"q": ["lễ hội"], facet: [key], "sort": ["title"]}
    assert _count(page) == expected
    titles = page.locator("ol.hits > li h3 a").all_inner_texts()
    assert len(titles) >= 1
    expect(page.locator("#search-sort")).to_have_value("title")
    assert _fits_the_screen(page)
    page.screenshot(path=str(artifacts_dir / f"search-nojs-vi-{name}.png"), full_page=True)

    # The browse page (no query, no filter) and a search that finds nothing both help.
    page.goto(live_server + "/search")
    expect(page.get_by_role("heading", name="Cách tìm kiếm")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / f"search-browse-vi-{name}.png"), full_page=True)
    page.goto(live_server + "/search?q=qwxzvb")
    expect(page.locator(".no-results")).to_contain_text("Không có bản ghi nào khớp với “qwxzvb”.")
    page.screenshot(path=str(artifacts_dir / f"search-empty-vi-{name}.png"), full_page=True)
    response = page.goto(live_server + "/search?q=h%C3%A1t&sort=best")
    assert response.status == 400
    expect(page.locator("p.problem")).to_contain_text("“best” không phải là cách sắp xếp")
    page.screenshot(path=str(artifacts_dir / f"search-invalid-vi-{name}.png"), full_page=True)
    context.close()
