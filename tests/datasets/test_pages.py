"""The public dataset pages: list, dataset, versions and the table preview that works without JavaScript."""

from __future__ import annotations

import re

import pytest

from archive.datasets import services
from metadata.languages import LangString
from tests.datasets.factories import make_dataset

FIELDS = {
    "fields": [
        {"name": "province", "type": "string", "titles": {"vi": "Tỉnh", "en": "Province"}},
        {"name": "region", "type": "string", "titles": {"vi": "Vùng", "en": "Region"}},
        {
            "name": "teams",
            "type": "integer",
            "titles": {"vi": "Số tổ", "en": "Teams"},
            "unit": "tổ",
            "constraints": {"minimum": 0},
            "descriptions": {
                "vi": "Số tổ công nghệ số cộng đồng",
                "en": "Community digital-technology teams",
            },
        },
        {"name": "source", "type": "string"},
    ]
}


def big_csv(rows: int = 40) -> str:
    """*rows* provinces alternating between two regions, teams = 10 * n, a source URL each."""
    lines = ["province,region,teams,source"]
    for n in range(1, rows + 1):
        region = "Miền núi" if n % 2 else "Đồng bằng"
        lines.append(f"Tỉnh {n:02d},{region},{n * 1000},https://example.vn/bao-cao/{n}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def teams(db, tmp_path):
    return make_dataset(
        db,
        tmp_path,
        title="Tổ công nghệ số cộng đồng",
        title_en="Community digital teams",
        csv_text=big_csv(),
        schema=FIELDS,
        spatial=["2025-p08"],
        themes=["SOCI"],
        description=[LangString("Số tổ theo tỉnh.", "vi"), LangString("Teams by province.", "en")],
    )


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_index_lists_public_datasets_in_both_languages(client, db, tmp_path, teams):
    draft = make_dataset(db, tmp_path, title="Bản nháp bí mật", publish=False)
    vi = text(client.get("/vi/datasets"))
    assert "Tổ công nghệ số cộng đồng" in vi
    assert f"/vi/datasets/{teams.slug}" in vi
    assert "Tổng hợp từ thông tin công bố công khai" in vi
    assert "Bản nháp bí mật" not in vi
    assert draft.slug not in vi
    en = text(client.get("/en/datasets"))
    assert "Community digital teams" in en
    assert "Compiled from public reporting" in en
    assert "40 rows" in en


def test_dataset_page_shows_metadata_schema_downloads_and_preview(client, teams):
    html = text(client.get(f"/en/datasets/{teams.slug}"))
    assert "Teams by province." in html
    assert "CC BY 4.0" in html and 'href="http://creativecommons.org/licenses/by/4.0/"' in html
    assert "Population and society" in html
    assert "/en/places/2025-p08" in html
    # The field table in the page language, with unit, constraint and description.
    assert "Province" in html and "Teams" in html and "Whole number" in html and "at least 0" in html
    assert "Community digital-technology teams" in html
    for fmt in ("csv", "json", "xlsx"):
        assert f"/datasets/{teams.slug}/v1/communes.{fmt}" in html
    assert f"/en/datasets/{teams.slug}/v1/communes" in html
    # A single-table dataset shows its first rows; the links in cells are links.
    assert '<a href="https://example.vn/bao-cao/1">' in html
    assert "Version 1" in html and teams.latest_version.checksum in html
    vi = text(client.get(f"/vi/datasets/{teams.slug}"))
    assert "Tỉnh" in vi and "Số tổ" in vi and "Số tổ theo tỉnh." in vi
    # Numbers the Vietnamese way (1.000) and the English way (1,000).
    assert "1.000" in vi and "1,000" in html


def test_drafts_withdrawn_and_unknown_are_404(client, db, tmp_path, login, make_user, teams):
    draft = make_dataset(db, tmp_path, publish=False)
    login("curator")  # even curators: they preview drafts in the admin, not here
    for url in (
        f"/vi/datasets/{draft.slug}",
        f"/vi/datasets/{draft.slug}/v1",
        f"/vi/datasets/{draft.slug}/v1/communes",
        f"/vi/datasets/{teams.slug}/v2",
        f"/vi/datasets/{teams.slug}/v1/nothing",
        "/vi/datasets/no-such-thing",
    ):
        assert client.get(url).status_code == 404, url
    services.withdraw_dataset(make_user("curator"), teams)
    db.session.commit()
    assert client.get(f"/vi/datasets/{teams.slug}").status_code == 404
    assert teams.slug not in text(client.get("/vi/datasets"))


def test_older_version_says_so_and_links_to_latest(client, db, tmp_path, teams):
    path = tmp_path / "v2.csv"
    path.write_text(big_csv(5), encoding="utf-8")
    request = services.UploadRequest(
        path=path, filename="communes.csv", name="communes", schema_mode="previous"
    )
    services.upload_table(None, teams, request, system=True)
    services.publish_version(None, teams.draft_version, system=True)
    db.session.commit()
    old = text(client.get(f"/en/datasets/{teams.slug}/v1"))
    assert "This is not the latest version of this dataset." in old
    assert f'href="/en/datasets/{teams.slug}"' in old
    latest = text(client.get(f"/en/datasets/{teams.slug}"))
    assert "This is not the latest version" not in latest
    assert "Version 2" in latest and f"/en/datasets/{teams.slug}/v1" in latest
    assert "5 rows" in latest


def rows_of(html: str) -> list[str]:
    """The province cells of the preview's rows."""
    return re.findall(r"<td>(Tỉnh \d\d)</td>", html)


def test_preview_pages_sorts_and_filters_without_javascript(app, client, teams, monkeypatch):
    monkeypatch.setitem(app.config, "DATASET_PAGE_SIZE", 10)
    base = f"/en/datasets/{teams.slug}/v1/communes"
    html = text(client.get(base))
    assert rows_of(html) == [f"Tỉnh {n:02d}" for n in range(1, 11)]
    assert "Page 1 of 4" in html and 'rel="next"' in html
    # The form is a plain GET form with a search box and a select for the categorical column only.
    assert 'method="get"' in html and 'name="q"' in html
    assert 'name="f.region"' in html and 'name="f.province"' not in html
    page2 = text(client.get(base, query_string={"page": 2}))
    assert rows_of(page2)[0] == "Tỉnh 11"
    desc = text(client.get(base, query_string={"sort": "teams", "desc": "1"}))
    assert rows_of(desc)[:2] == ["Tỉnh 40", "Tỉnh 39"]
    assert 'aria-sort="descending"' in desc
    filtered = text(client.get(base, query_string={"f.region": "Miền núi", "sort": "teams"}))
    assert "20 rows match" in filtered
    assert rows_of(filtered)[:3] == ["Tỉnh 01", "Tỉnh 03", "Tỉnh 05"]
    # Links keep the filter: the next page and the filtered downloads.
    assert "f.region=Mi%E1%BB%81n+n%C3%BAi" in filtered
    assert f"/datasets/{teams.slug}/v1/communes.csv?" in filtered
    found = text(client.get(base, query_string={"q": "tinh 07"}))
    assert rows_of(found) == ["Tỉnh 07"]
    vi = text(client.get(f"/vi/datasets/{teams.slug}/v1/communes", query_string={"q": "không có"}))
    assert '<html lang="vi">' in vi and rows_of(vi) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"sort": "nope"}, "no column “nope”"),
        ({"f.nope": "x"}, "no column “nope”"),
        ({"page": "abc"}, "whole number"),
        ({"page": "99"}, "There is no page 99"),
        ({"desc": "yes"}, "“desc” must be 0 or 1"),
    ],
)
def test_bad_preview_arguments_are_400_with_a_message(client, teams, args, message):
    response = client.get(f"/en/datasets/{teams.slug}/v1/communes", query_string=args)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_chart_draws_at_most_30_bars_in_the_table_order_and_says_so(client, teams):
    from lxml import etree

    html = text(
        client.get(f"/en/datasets/{teams.slug}/v1/communes", query_string={"sort": "teams", "desc": "1"})
    )
    start = html.index("<svg")
    svg = etree.fromstring(html[start : html.index("</svg>", start) + 6].encode("utf-8"))
    ns = "{http://www.w3.org/2000/svg}"
    assert svg.get("role") == "img"
    assert svg.find(f"{ns}title").text == "Teams by Province"
    bars = svg.findall(f"{ns}g")
    assert len(bars) == 30
    assert [t.text for t in bars[0].findall(f"{ns}text")] == ["Tỉnh 40", "40,000"]
    assert "The chart shows the first 30 of 40 rows" in html
    few = text(client.get(f"/en/datasets/{teams.slug}/v1/communes", query_string={"f.region": "Miền núi"}))
    assert "The chart shows the first" not in few
    assert few.count('<g class="bar">') == 20
