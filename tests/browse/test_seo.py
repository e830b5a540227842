"""sitemap.xml (single file and index form) and robots.txt."""

from __future__ import annotations

from lxml import etree

from tests.browse.world import build_world

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
BASE = "http://archive.test"


def parse(response):
    """The XML document of a response, checking it is well-formed sitemaps.org XML."""
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    root = etree.fromstring(response.data)
    assert etree.QName(root).namespace == NS["s"]
    return root


def locs(root) -> list[str]:
    """Every <loc> of a urlset or sitemap index."""
    return root.xpath("//s:loc/text()", namespaces=NS)


def test_sitemap_lists_public_pages_in_both_languages(client, db, make_record, make_user):
    """Public records and the browse pages appear once per language with their alternates; records a
    visitor may not see never do."""
    world = build_world(db, make_record, make_user)
    root = parse(client.get("/sitemap.xml"))
    assert etree.QName(root).localname == "urlset"
    urls = locs(root)
    public = world.records["public"]
    for lang in ("vi", "en"):
        assert f"{BASE}/{lang}/records/{public.public_id}/{public.slug}" in urls
        assert f"{BASE}/{lang}/groups/tay" in urls
        assert f"{BASE}/{lang}/places/2025-p19" in urls
        assert f"{BASE}/{lang}/places/pre2025-p06" in urls
        assert f"{BASE}/{lang}/categories/craft" in urls
        assert f"{BASE}/{lang}/collections/{world.collection}" in urls
        assert f"{BASE}/{lang}/browse" in urls
    entry = root.xpath(
        "//s:url[s:loc=$loc]", namespaces=NS, loc=f"{BASE}/en/records/{public.public_id}/{public.slug}"
    )[0]
    alternates = {
        link.get("hreflang"): link.get("href")
        for link in entry.xpath("x:link[@rel='alternate']", namespaces=NS)
    }
    assert alternates == {
        "vi": f"{BASE}/vi/records/{public.public_id}/{public.slug}",
        "en": f"{BASE}/en/records/{public.public_id}/{public.slug}",
        "x-default": f"{BASE}/records/{public.public_id}/{public.slug}",
    }
    assert entry.xpath("s:lastmod/text()", namespaces=NS)[0].startswith(str(public.updated_at.year))
    text = client.get("/sitemap.xml").get_data(as_text=True)
    for kind, record in world.records.items():
        if kind != "public":
            assert record.public_id not in text, kind
    assert "/places/pre2025-d058" not in text  # districts have no page


def test_sitemap_index_form(app, client, db, make_record, make_user, monkeypatch):
    """Past SITEMAP_PAGE_SIZE records the sitemap is an index of parts: the site's pages, then records."""
    world = build_world(db, make_record, make_user)
    single = locs(parse(client.get("/sitemap.xml")))
    monkeypatch.setitem(app.config, "SITEMAP_PAGE_SIZE", 7)
    index = parse(client.get("/sitemap.xml"))
    assert etree.QName(index).localname == "sitemapindex"
    parts = locs(index)
    assert parts[0] == f"{BASE}/sitemap-1.xml" and len(parts) >= 3
    gathered: list[str] = []
    for number, url in enumerate(parts, 1):
        assert url == f"{BASE}/sitemap-{number}.xml"
        part = parse(client.get(url.removeprefix(BASE)))
        assert etree.QName(part).localname == "urlset"
        found = locs(part)
        if number > 1:
            assert len(found) <= 7 * 2
        gathered += found
    assert sorted(gathered) == sorted(single)
    public = world.records["public"]
    assert f"{BASE}/en/records/{public.public_id}/{public.slug}" in gathered
    assert client.get(f"/sitemap-{len(parts) + 1}.xml").status_code == 404
    assert client.get("/sitemap-0.xml").status_code == 404
    monkeypatch.setitem(app.config, "SITEMAP_PAGE_SIZE", 100_000)
    assert client.get("/sitemap-1.xml").status_code == 404  # no parts in the single-file form


def test_robots_txt(client):
    """Crawlers may visit the public site, not the account, administration or editing areas."""
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[:2] == ["User-agent: *", "Allow: /"]
    for path in ("/admin", "/login", "/my/", "/review", "/import", "/uploads/", "/notifications"):
        for prefix in ("", "/vi", "/en"):
            assert f"Disallow: {prefix}{path}" in lines, prefix + path
    assert f"Sitemap: {BASE}/sitemap.xml" in lines
    assert not any(line in ("Disallow: /", "Disallow: /records", "Disallow: /en/groups") for line in lines)
