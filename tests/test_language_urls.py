"""The language is part of the URL: /vi/... and /en/... pages, the first visit following Accept-Language,
hreflang alternates, a switcher that keeps the visitor on the same page, files and feeds without a
prefix, and a new language added by adding its catalog only."""

from __future__ import annotations

import shutil
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po
from lxml import html as lxml_html

ROOT = Path(__file__).resolve().parent.parent


def _doc(response):
    return lxml_html.fromstring(response.get_data(as_text=True))


def test_unprefixed_pages_redirect_by_cookie_then_accept_language(app):
    fresh = app.test_client()
    assert fresh.get("/").headers["Location"] == "/vi/"  # no preference: Vietnamese
    answer = fresh.get("/records?page=2", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/en/records?page=2"
    assert {"Accept-Language", "Cookie"} <= set(answer.headers["Vary"].replace(" ", "").split(","))
    assert fresh.get("/vi/").status_code == 200  # a visit to a Vietnamese page is remembered...
    answer = fresh.get("/records", headers={"Accept-Language": "en"})
    assert answer.headers["Location"] == "/vi/records"  # ...over the browser's preference
    assert fresh.get("/vi/records?lang=en").headers["Location"] == "/en/records"  # old ?lang= links


def test_the_url_decides_the_language_and_links_keep_it(client):
    for lang, heading in (("vi", "Lễ hội sắp diễn ra"), ("en", "Upcoming festivals")):
        response = client.get(f"/{lang}/", headers={"Accept-Language": "vi" if lang == "en" else "en"})
        assert response.status_code == 200 and response.headers["Content-Language"] == lang
        doc = _doc(response)
        assert doc.get("lang") == lang and heading in response.get_data(as_text=True)
        links = doc.xpath("//main//a/@href | //header//a[not(ancestor::nav[@class='languages'])]/@href")
        pages = [h for h in links if h.startswith("/") and not h.startswith(("/static", "/iiif", "/media"))]
        assert pages and all(h.startswith(f"/{lang}/") for h in pages if "/display" not in h), pages
        assert doc.xpath("//link[@rel='stylesheet']/@href")[0].startswith("/static/")  # files: no prefix


def test_hreflang_alternates_and_the_switcher_keep_the_page(client, make_record):
    record = make_record(title="Hội thử ngôn ngữ")
    path = f"/records/{record.public_id}/{record.slug}"
    doc = _doc(client.get(f"/vi{path}?from=test"))
    alternates = {
        link.get("hreflang"): link.get("href") for link in doc.xpath("//link[@rel='alternate'][@hreflang]")
    }
    assert alternates == {
        "vi": f"http://archive.test/vi{path}?from=test",
        "en": f"http://archive.test/en{path}?from=test",
        "x-default": f"http://archive.test{path}?from=test",
    }
    switch = doc.xpath("//nav[contains(@class, 'languages')]//a[@hreflang='en']")[0]
    assert switch.get("href") == f"/en{path}?from=test" and switch.text_content() == "English"
    current = doc.xpath("//nav[contains(@class, 'languages')]//a[@aria-current]")[0]
    assert current.get("hreflang") == "vi" and current.text_content() == "Tiếng Việt"


def test_files_feeds_and_apis_have_no_prefix_and_no_redirect(client):
    for path in ("/static/archive.css", "/search.json?q=x", "/robots.txt", "/sitemap.xml", "/calendar.ics"):
        response = client.get(path)
        assert response.status_code in (200, 503), path  # 503: the search index may be rebuilding
        assert "Set-Cookie" not in response.headers, path
        response.close()


def test_error_pages_are_friendly_in_both_languages(client):
    vi = client.get("/vi/no-such-page")
    en = client.get("/en/no-such-page")
    assert vi.status_code == en.status_code == 404
    assert "Không tìm thấy trang" in vi.get_data(as_text=True)
    page = en.get_data(as_text=True)
    assert "Page not found" in page and 'action="/en/search"' in page and 'lang="en"' in page


def test_a_new_language_needs_only_its_catalog(tmp_path, monkeypatch, isolated_app):
    """Copy the shipped catalogs, add a French one: French pages, a French switcher entry, nothing else."""
    import config

    translations = tmp_path / "archive" / "translations"
    shutil.copytree(ROOT / "archive" / "translations", translations)
    catalog = Catalog(locale="fr")
    catalog.add("Search", "Rechercher")
    folder = translations / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.po").open("wb") as handle:
        write_po(handle, catalog)
    with (folder / "messages.mo").open("wb") as handle:
        write_mo(handle, catalog)
    monkeypatch.setattr(config, "BASE_DIR", tmp_path)
    languages = config._shipped_languages()
    assert languages == ["vi", "en", "fr"]

    application = isolated_app("french", LANGUAGES=languages, BABEL_TRANSLATION_DIRECTORIES=str(translations))
    client = application.test_client()
    assert client.get("/", headers={"Accept-Language": "fr-FR"}).headers["Location"] == "/fr/"
    page = client.get("/fr/")
    assert page.status_code == 200
    doc = _doc(page)
    assert doc.get("lang") == "fr"
    assert doc.xpath("//header//form[@role='search']//button/text()") == ["Rechercher"]
    names = doc.xpath("//nav[contains(@class, 'languages')]//a/text()")
    assert [n.strip() for n in names] == ["Tiếng Việt", "English", "Français"]
