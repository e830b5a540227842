"""The search page, the JSON search endpoint and autocomplete, through the test client.

The session's demo records are indexed as they are committed (TestConfig runs jobs at once); records
made by a test are indexed on commit too, and taken out of the index again after the test (the ``db``
fixture restores the index).
"""

from __future__ import annotations

import shutil
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from flask import g
from lxml import html as lxml_html

from archive.records.models import HeritageRecord
from archive.search import service
from archive.search.base import FACETS
from metadata.languages import LangString


def _doc(response):
    return lxml_html.fromstring(response.get_data(as_text=True))


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def _visible_count(db) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(HeritageRecord)
        .where(HeritageRecord.status == "published", HeritageRecord.access_level == "public")
    )


def _facet(body: dict, name: str) -> dict[str, dict]:
    facet = next(f for f in body["facets"] if f["name"] == name)
    return {v["key"]: v for v in facet["values"]}


# --- the page and its parameters -------------------------------------------------------------------


def test_header_search_box_is_a_plain_get_form_on_every_page(client):
    for path in ("/vi/", "/vi/records"):
        doc = _doc(client.get(path))
        (form,) = doc.xpath("//header//form[@role='search']")
        assert form.get("method") == "get" and form.get("action") == "/vi/search"
        (box,) = form.xpath(".//input[@name='q']")
        (label,) = doc.xpath(f"//label[@for='{box.get('id')}']")
        assert label.text_content().strip() == "Tìm trong kho lưu trữ"
        assert form.xpath(".//button[@type='submit']")
    assert doc.xpath("//script[starts-with(@src, '/static/search.js?v=') and @defer]")


def test_query_ranks_long_tong_first_with_a_highlighted_snippet(client):
    response = client.get("/vi/search?q=le+hoi+long+tong")
    assert response.status_code == 200
    doc = _doc(response)
    assert doc.xpath("//h1")[0].text_content() == "Kết quả cho “le hoi long tong”"
    hits = doc.xpath("//ol[@class='hits']/li")
    assert hits, "no hits"
    first = hits[0]
    link = first.xpath(".//h3/a")[0]
    assert link.text_content() == "Lễ hội Lồng Tồng"
    assert link.get("href").startswith("/vi/records/") and link.get("href").endswith("/long-tong-tay-nung")
    assert link.get("lang") == "vi"
    assert first.xpath(".//p[@class='snippet']/mark"), "the snippet highlights the query words"
    facts = first.xpath(".//dl[@class='hit-facts']")[0].text_content()
    assert "Tày" in facts and "Nùng" in facts and "Lạng Sơn" in facts
    count = doc.xpath("//p[@id='result-count']")[0]
    assert count.get("aria-live") == "polite" and "Tìm thấy" in count.text_content()


def test_the_page_works_without_javascript(client):
    """Everything is links and GET forms: the query box, the sort select with its button, facet links."""
    doc = _doc(client.get("/vi/search?q=h%C3%A1t&ethnic_group=tay"))
    (form,) = doc.xpath("//main//form[@role='search']")
    assert form.get("method") == "get" and form.get("action") == "/vi/search"
    assert form.xpath(".//input[@name='q']/@value") == ["hát"]
    assert form.xpath(".//input[@type='hidden' and @name='ethnic_group']/@value") == ["tay"]
    sort = form.xpath(".//select[@name='sort']")[0]
    assert [o.get("value") for o in sort.xpath("option")] == ["relevance", "date_desc", "date_asc", "title"]
    assert sort.xpath("option[@selected]/@value") == ["relevance"]
    assert form.xpath(".//button[@type='submit']")
    label = doc.xpath(f"//label[@for='{sort.get('id')}']")[0]
    assert label.text_content() == "Sắp xếp theo"
    # The facet panel is a <details> (opens without script), its values are plain links.
    assert doc.xpath("//aside[@class='facets']//details[@id='filters']/summary")
    links = doc.xpath("//a[contains(@class, 'facet-value')]")
    assert links and all(a.get("href").startswith("/vi/search?") for a in links)


def test_filters_live_in_the_url_and_round_trip(client):
    response = client.get("/vi/search?q=h%C3%A1t&ethnic_group=tay&sort=title")
    assert response.status_code == 200
    doc = _doc(response)
    # The selected value is marked and listed first; its link removes it and keeps everything else.
    (selected,) = doc.xpath("//a[contains(@class, 'facet-value') and contains(@class, 'selected')]")
    assert selected.get("data-facet") == "ethnic_group" and selected.get("data-key") == "tay"
    first_value = doc.xpath("//section[@aria-labelledby='facet-ethnic_group']//a")[0]
    assert first_value.get("data-key") == "tay"
    assert _query(selected.get("href")) == {"q": ["hát"], "sort": ["title"]}
    # Another value adds itself to the filter and keeps the query and the sort.
    nung = doc.xpath("//a[@data-facet='ethnic_group' and @data-key='nung']")[0]
    assert _query(nung.get("href")) == {"q": ["hát"], "ethnic_group": ["tay", "nung"], "sort": ["title"]}
    # The active filter is shown with its label and a link that removes it; "clear all" keeps the query.
    chip = doc.xpath("//section[@class='active-filters']//a[@class='chip']")[0]
    assert "Dân tộc: Tày" in chip.text_content()
    assert _query(chip.get("href")) == {"q": ["hát"], "sort": ["title"]}
    clear = doc.xpath("//section[@class='active-filters']//a[not(@class)]")[0]
    assert _query(clear.get("href")) == {"q": ["hát"], "sort": ["title"]}

    # Following the link gives the combined search, which the JSON endpoint reports the same way.
    both = client.get(nung.get("href"))
    assert both.status_code == 200
    keys = [a.get("data-key") for a in _doc(both).xpath("//a[contains(@class, 'selected')]")]
    assert sorted(keys) == ["nung", "tay"]
    body = client.get(nung.get("href").replace("/search?", "/search.json?")).get_json()
    assert body["filters"] == {"ethnic_group": ["tay", "nung"]} and body["sort"] == "title"
    only_tay = client.get("/search.json?q=h%C3%A1t&ethnic_group=tay").get_json()
    assert body["total"] >= only_tay["total"] > 0  # OR within a facet


def test_pagination_keeps_every_parameter(client, db):
    body = client.get("/search.json?category=festival&sort=title").get_json()
    assert body["pages"] >= 2
    doc = _doc(client.get("/vi/search?category=festival&sort=title"))
    (next_link,) = doc.xpath("//nav[@class='pagination']/a[@rel='next']")
    assert _query(next_link.get("href")) == {"category": ["festival"], "sort": ["title"], "page": ["2"]}
    assert doc.xpath("//head/link[@rel='next']/@href") == [next_link.get("href")]
    second = _doc(client.get(next_link.get("href")))
    (prev_link,) = second.xpath("//nav[@class='pagination']/a[@rel='prev']")
    assert _query(prev_link.get("href")) == {"category": ["festival"], "sort": ["title"]}
    first_titles = [a.text_content() for a in doc.xpath("//ol[@class='hits']/li/h3/a")]
    second_titles = [a.text_content() for a in second.xpath("//ol[@class='hits']/li/h3/a")]
    assert first_titles and second_titles and not set(first_titles) & set(second_titles)
    assert second.xpath("//ol[@class='hits']/@start") == [str(body["per_page"] + 1)]


def test_empty_search_is_a_browse_page_with_tips(client, db):
    response = client.get("/vi/search")
    assert response.status_code == 200
    doc = _doc(response)
    assert doc.xpath("//h1")[0].text_content() == "Tìm kiếm"
    assert doc.xpath("//section[@class='tips']//h2")[0].text_content() == "Cách tìm kiếm"
    visible = _visible_count(db)
    assert f"{visible} bản ghi bạn có thể xem" in doc.xpath("//p[@id='result-count']")[0].text_content()
    assert len(doc.xpath("//ol[@class='hits']/li")) == 10  # TestConfig.PAGE_SIZE
    headings = [h.text_content() for h in doc.xpath("//aside[@class='facets']//h3")]
    assert "Dân tộc" in headings and len(headings) >= 4
    assert not doc.xpath("//meta[@name='robots']")  # the browse page may be indexed
    assert client.get("/search.json").get_json()["total"] == visible


def test_zero_results_page_offers_help(client):
    response = client.get("/vi/search?q=qwxzvb&ethnic_group=tay")
    assert response.status_code == 200
    doc = _doc(response)
    (box,) = doc.xpath("//div[@class='no-results']")
    text = box.text_content()
    assert "Không có bản ghi nào khớp với “qwxzvb”." in text
    assert "Kiểm tra chính tả" in text and "Dùng ít từ hơn" in text
    remove = box.xpath(".//a[starts-with(normalize-space(), 'Bỏ')]")
    assert len(remove) == 1 and _query(remove[0].get("href")) == {"q": ["qwxzvb"]}
    assert box.xpath(".//a[@href='/vi/records']")
    assert doc.xpath("//meta[@name='robots']/@content") == ["noindex, follow"]


def test_did_you_mean_links_to_the_corrected_search(client):
    body = client.get("/search.json?q=khmerr").get_json()
    assert body["suggestion"] == "khmer"
    doc = _doc(client.get("/vi/search?q=khmerr&sort=title"))
    (para,) = doc.xpath("//p[@class='suggestion']")
    assert para.text_content().strip() == "Có phải bạn muốn tìm: khmer?"
    assert _query(para.xpath("a")[0].get("href")) == {"q": ["khmer"], "sort": ["title"]}
    assert client.get(para.xpath("a")[0].get("href")).status_code == 200


def test_english_interface(client):
    doc = _doc(client.get("/en/search?q=long+tong"))
    assert doc.xpath("//h1")[0].text_content() == "Results for “long tong”"
    assert "Ethnic group" in [h.text_content() for h in doc.xpath("//aside//h3")]
    assert doc.xpath("//label[@for='search-sort']")[0].text_content() == "Sort by"


# --- JSON ---------------------------------------------------------------------------------------------


def test_json_endpoint_shape_and_values(client):
    response = client.get("/search.json?q=long+tong&ethnic_group=tay")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "private" not in response.headers.get("Cache-Control", "")
    body = response.get_json()
    assert set(body) == {
        "query", "total", "page", "pages", "per_page", "sort", "filters", "suggestion", "hits", "facets",
        "type", "datasets",
    }  # fmt: skip
    assert body["type"] == "records" and body["datasets"] == []  # no dataset is about the Lồng Tồng
    assert body["query"] == "long tong" and body["page"] == 1 and body["sort"] == "relevance"
    assert body["per_page"] == 10 and body["pages"] == -(-body["total"] // 10)
    assert body["filters"] == {"ethnic_group": ["tay"]}
    hit = body["hits"][0]
    assert set(hit) == {
        "public_id", "url", "title", "title_lang", "category", "snippet_html", "ethnic_groups", "places",
        "media_types", "thumbnail_url", "date",
    }  # fmt: skip
    assert hit["title"] == "Lễ hội Lồng Tồng" and hit["title_lang"] == "vi"
    assert hit["url"] == f"http://archive.test/vi/records/{hit['public_id']}/long-tong-tay-nung"
    assert hit["category"] == "festival" and "<mark>" in hit["snippet_html"]
    assert "Tày" in hit["ethnic_groups"] and hit["date"] == "2019-02-14"
    assert set(hit["media_types"]) <= {"image", "audio", "video"}
    if hit["thumbnail_url"]:
        assert hit["thumbnail_url"].startswith("http://archive.test/iiif/")
    assert [f["name"] for f in body["facets"]] == list(FACETS)
    groups = _facet(body, "ethnic_group")
    assert (
        groups["tay"]["selected"] is True and groups["tay"]["label"] == "Tày" and groups["tay"]["count"] >= 1
    )
    assert all(set(v) == {"key", "label", "count", "selected"} for f in body["facets"] for v in f["values"])
    assert not any(v["selected"] for k, v in groups.items() if k != "tay")


def test_json_hits_are_counted_with_the_filters(client):
    everything = client.get("/search.json?q=l%E1%BB%85+h%E1%BB%99i").get_json()
    khmer_count = _facet(everything, "ethnic_group")["khmer"]["count"]
    only_khmer = client.get("/search.json?q=l%E1%BB%85+h%E1%BB%99i&ethnic_group=khmer").get_json()
    assert only_khmer["total"] == khmer_count < everything["total"]


# --- refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "code", "vietnamese", "english"),
    [
        ("sort=best", "unknown_sort", "“best” không phải là cách sắp xếp", "“best” is not a sort order"),
        ("colour=red", "unknown_facet", "“colour” không phải là bộ lọc", "“colour” is not a filter"),
        ("page=abc", "bad_page", "Số trang phải là số nguyên", "The page number must be a whole number"),
        ("page=0", "bad_page", "Số trang phải là số nguyên", "The page number must be a whole number"),
        ("q=l%E1%BB%85&page=999", "page_out_of_range", "không có trang 999", "there is no page 999"),
        ("q=qwxzvb&page=2", "page_out_of_range", "không có trang 2", "there is no page 2"),
    ],
)
def test_bad_parameters_are_refused_with_a_translated_message(client, query, code, vietnamese, english):
    page = client.get(f"/vi/search?{query}")
    assert page.status_code == 400
    assert vietnamese in _doc(page).xpath("//p[@class='problem']")[0].text_content()
    assert "Traceback" not in page.get_data(as_text=True)
    data = client.get(f"/search.json?{query}")
    assert data.status_code == 400 and data.headers["Access-Control-Allow-Origin"] == "*"
    assert data.get_json()["error"]["code"] == code and vietnamese in data.get_json()["error"]["message"]

    page_en = client.get(f"/en/search?{query}")
    assert page_en.status_code == 400
    assert english in _doc(page_en).xpath("//p[@class='problem']")[0].text_content()
    assert english in client.get(f"/search.json?{query}&lang=en").get_json()["error"]["message"]


def test_too_long_query_is_refused(client):
    assert client.get("/vi/search?q=" + "a" * 201).status_code == 400
    assert client.get("/search.json?q=" + "a" * 201).get_json()["error"]["code"] == "query_too_long"


# --- autocomplete --------------------------------------------------------------------------------------


def test_autocomplete_titles_groups_and_places(client):
    response = client.get("/search/autocomplete.json?q=l%E1%BB%85+h%E1%BB%99i+l%E1%BB%93ng")
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.get_json()
    assert body["q"] == "lễ hội lồng"
    (title,) = [r for r in body["results"] if r["label"] == "Lễ hội Lồng Tồng"]
    assert title["kind"] == "title" and title["url"].endswith("/long-tong-tay-nung")
    assert set(title) == {"kind", "label", "url", "count"}

    groups = client.get("/search/autocomplete.json?q=kh%C6%A1").get_json()["results"]
    kho_mu = next(r for r in groups if r["kind"] == "ethnic_group" and r["label"] == "Khơ Mú")
    assert kho_mu["url"] == "/vi/search?ethnic_group=kho-mu" and kho_mu["count"] >= 1
    # The group's link is a search that finds exactly that many records.
    assert (
        client.get(kho_mu["url"].replace("/search?", "/search.json?")).get_json()["total"] == kho_mu["count"]
    )

    places = client.get("/search/autocomplete.json?q=tr%C3%A0+vinh").get_json()["results"]
    assert any(r["kind"] == "place" and r["label"].startswith("Trà Vinh") for r in places)


def test_autocomplete_short_and_long_prefixes(client):
    assert client.get("/search/autocomplete.json?q=l").get_json() == {"q": "l", "results": []}
    assert client.get("/search/autocomplete.json").get_json() == {"q": "", "results": []}
    response = client.get("/search/autocomplete.json?q=" + "a" * 101)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "query_too_long"
    assert "100" in response.get_json()["error"]["message"]


# --- escaping --------------------------------------------------------------------------------------------


def test_snippets_are_escaped_and_highlighted(client, make_record):
    make_record(
        title="Ghi chép kiểm thử an toàn",
        texts={
            "title": [LangString("Ghi chép kiểm thử an toàn", "vi")],
            "description": [LangString("Trước <script>alert(1)</script> là từ quixotry ở đây.", "vi")],
        },
    )
    page = client.get("/vi/search?q=quixotry")
    text = page.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script>alert(1)" not in text
    assert "<mark>quixotry</mark>" in text
    (hit,) = client.get("/search.json?q=quixotry").get_json()["hits"]
    assert "&lt;script&gt;" in hit["snippet_html"] and "<mark>quixotry</mark>" in hit["snippet_html"]
    # The query itself is escaped wherever it is shown.
    echoed = client.get("/vi/search?q=%3Cb%3Equixotry").get_data(as_text=True)
    assert "<b>quixotry" not in echoed and "&lt;b&gt;quixotry" in echoed


# --- access ----------------------------------------------------------------------------------------------


def _restricted_records(make_record, owner):
    """A private, a community and a draft record of the owner, in an ethnic group no demo record has."""
    common = dict(created_by=owner, ethnic_groups=["o-du"])
    return [
        make_record(title="Nghi lễ riêng tư vlorpex", access_level="private", **common),
        make_record(title="Nghi lễ cộng đồng vlorpex", access_level="community", **common),
        make_record(title="Bản nháp vlorpex", status="draft", **common),
    ]


def _get(client, url: str):
    """A request of its own: the tests run inside one application context, where Flask-Login would keep
    the user of the previous request (of another client) in ``g``."""
    g.pop("_login_user", None)
    return client.get(url)


def _search_state(client) -> dict:
    body = _get(client, "/search.json?q=vlorpex").get_json()
    browse = _get(client, "/search.json").get_json()
    groups = _get(client, "/search/autocomplete.json?q=%C6%A1+%C4%91u").get_json()["results"]
    return {
        "titles": sorted(h["title"] for h in body["hits"]),
        "total": body["total"],
        "browse_total": browse["total"],
        "o_du": _facet(browse, "ethnic_group").get("o-du", {}).get("count", 0),
        "page": _get(client, "/vi/search?q=vlorpex").get_data(as_text=True),
        "completions": _get(client, "/search/autocomplete.json?q=vlorp").get_json()["results"],
        "group_completions": [r for r in groups if r["kind"] == "ethnic_group"],
    }


def test_restricted_records_never_reach_anonymous_visitors(app, client, db, login, make_user, make_record):
    anonymous = app.test_client()
    before = _search_state(anonymous)
    owner = login("contributor")
    owner_before = _search_state(client)
    _restricted_records(make_record, owner)
    expected = ["Bản nháp vlorpex", "Nghi lễ cộng đồng vlorpex", "Nghi lễ riêng tư vlorpex"]

    after = _search_state(anonymous)
    assert after["titles"] == [] and after["total"] == 0
    assert after["browse_total"] == before["browse_total"] == _visible_count(db)
    assert after["o_du"] == 0
    assert not any(title in after["page"] for title in expected)
    assert "Không có bản ghi nào khớp" in after["page"]
    assert after["completions"] == [] and after["group_completions"] == []

    # The owner (signed in on `client`) finds all three, counted everywhere, with private caching.
    mine = _search_state(client)
    assert mine["titles"] == expected and mine["total"] == 3
    assert mine["browse_total"] == owner_before["browse_total"] + 3 and mine["o_du"] == 3
    assert sorted(c["label"] for c in mine["completions"]) == expected
    assert mine["group_completions"][0]["count"] == 3
    for url in ("/vi/search?q=vlorpex", "/search.json?q=vlorpex", "/search/autocomplete.json?q=vlorp"):
        assert _get(client, url).headers["Cache-Control"] == "private"
        assert "private" not in _get(anonymous, url).headers.get("Cache-Control", "")

    # A researcher who does not own them sees none; a curator sees all.
    for role in ("researcher", "curator"):
        user, viewer = make_user(role), app.test_client()
        g.pop("_login_user", None)
        signed_in = viewer.post("/login", data={"email": user.email, "password": "correct horse battery"})
        assert signed_in.status_code == 302
        state = _search_state(viewer)
        assert state["titles"] == (expected if role == "curator" else [])
        assert state["o_du"] == (3 if role == "curator" else 0)


# --- an index that cannot be read --------------------------------------------------------------------


def test_missing_index_answers_503_and_is_rebuilt(isolated_app):
    """A fresh install has no index yet: search says so (503, Retry-After) and the rebuild it asks for
    brings search back, while the rest of the site keeps working."""
    app = isolated_app("search-unavailable", SEARCH_BACKEND="whoosh")
    client = app.test_client()
    with app.app_context():
        index_dir = service.search_dir()
    assert not index_dir.exists()

    data = client.get("/search.json?q=l%E1%BB%85")
    assert data.status_code == 503
    assert data.headers["Retry-After"] == "30"
    assert data.get_json()["error"]["code"] == "unavailable"
    assert "đang được xây dựng lại" in data.get_json()["error"]["message"]
    assert client.get("/vi/records").status_code == 200

    # The rebuild asked for has run (jobs run at once in tests): search answers again.
    assert index_dir.exists()
    assert client.get("/search.json?q=l%E1%BB%85").get_json()["total"] == 0

    # Lose the index again: the page explains, in the visitor's language, and links to the records list.
    shutil.rmtree(index_dir)
    page = client.get("/vi/search?q=l%E1%BB%85")
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    doc = _doc(page)
    assert "Chỉ mục tìm kiếm đang được xây dựng lại" in doc.xpath("//p[@class='problem']")[0].text_content()
    assert doc.xpath("//main//a[@href='/vi/records']")
    shutil.rmtree(index_dir)
    english = client.get("/en/search?q=x")
    assert english.status_code == 503 and "The search index is being rebuilt" in english.get_data(
        as_text=True
    )
    assert client.get("/vi/search?q=x").status_code == 200
