"""Open datasets are found from the search box (as their own type) and listed in the sitemap; drafts never."""

from __future__ import annotations

from lxml import etree

from tests.datasets.factories import make_dataset


def test_search_page_shows_matching_datasets_above_records(client, db, tmp_path):
    dataset = make_dataset(
        db, tmp_path, title="Tổ công nghệ số cộng đồng", title_en="Community digital teams"
    )
    html = client.get("/vi/search", query_string={"q": "cong nghe so"}).get_data(as_text=True)
    assert "open dataset" not in html  # Vietnamese interface
    assert f"/vi/datasets/{dataset.slug}" in html
    html_en = client.get("/en/search", query_string={"q": "digital teams"}).get_data(as_text=True)
    assert f"/en/datasets/{dataset.slug}" in html_en
    assert "open dataset" in html_en


def test_datasets_only_search_and_json(client, db, tmp_path):
    dataset = make_dataset(db, tmp_path, title="Phân bổ vốn Chương trình")
    response = client.get("/vi/search", query_string={"q": "phan bo von", "type": "datasets"})
    assert response.status_code == 200
    assert f"/vi/datasets/{dataset.slug}" in response.get_data(as_text=True)
    body = client.get("/search.json", query_string={"q": "phân bổ vốn", "type": "datasets"}).get_json()
    assert body["type"] == "datasets"
    assert [d["slug"] for d in body["datasets"]] == [dataset.slug] or dataset.slug in [
        d["slug"] for d in body["datasets"]
    ]
    records_body = client.get("/search.json", query_string={"q": "phân bổ vốn"}).get_json()
    assert dataset.slug in [d["slug"] for d in records_body["datasets"]]


def test_every_word_must_match_and_unknown_types_are_refused(client, db, tmp_path):
    dataset = make_dataset(db, tmp_path, title="Dân số dân tộc thiểu số")
    body = client.get("/search.json", query_string={"q": "dan so zzzqqq", "type": "datasets"}).get_json()
    assert dataset.slug not in [d["slug"] for d in body["datasets"]]
    response = client.get("/vi/search", query_string={"q": "x", "type": "people"})
    assert response.status_code == 400
    assert "people" in response.get_data(as_text=True)


def test_drafts_are_not_found_by_anyone(client, db, tmp_path, login):
    draft = make_dataset(db, tmp_path, title="Bản nháp bí mật xyzdraft", publish=False)
    login("curator")
    body = client.get("/search.json", query_string={"q": "xyzdraft", "type": "datasets"}).get_json()
    assert body["total"] == 0
    assert draft.slug not in client.get("/vi/search", query_string={"q": "xyzdraft"}).get_data(as_text=True)


def test_sitemap_lists_public_datasets_and_their_tables_only(client, db, tmp_path):
    public = make_dataset(db, tmp_path)
    draft = make_dataset(db, tmp_path, publish=False)
    root = etree.fromstring(client.get("/sitemap.xml").data)
    text = etree.tostring(root).decode()
    assert f"/datasets/{public.slug}<" in text or f"/datasets/{public.slug}</" in text
    assert f"/datasets/{public.slug}/v1/communes" in text
    assert draft.slug not in text
