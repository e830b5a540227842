"""Downloads of a published table: CSV as stored, JSON and XLSX typed, filtered like the preview,
immutable with ETags, and a short-lived redirect for the latest version."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import openpyxl
import pytest
from lxml import etree

from tests.datasets.factories import make_dataset

CSV = (
    "province,held,teams,online,note\n"
    "Quảng Ngãi,2024-05-01,61,0.5,=1+1\n"
    "Bắc Giang,2023-12-31,120,0.25,https://example.vn/a\n"
    "Lào Cai,,7,,\n"
)
SCHEMA = {
    "fields": [
        {"name": "province", "type": "string"},
        {"name": "held", "type": "date"},
        {"name": "teams", "type": "integer"},
        {"name": "online", "type": "number"},
        {"name": "note", "type": "string"},
    ]
}
TYPED = [
    ["Quảng Ngãi", dt.date(2024, 5, 1), 61, 0.5, "=1+1"],
    ["Bắc Giang", dt.date(2023, 12, 31), 120, 0.25, "https://example.vn/a"],
    ["Lào Cai", None, 7, None, None],
]


@pytest.fixture
def table(db, tmp_path):
    return make_dataset(db, tmp_path, csv_text=CSV, schema=SCHEMA)


def url(dataset, fmt: str, number: int = 1) -> str:
    return f"/datasets/{dataset.slug}/v{number}/communes.{fmt}"


def test_csv_is_the_stored_normalised_file(client, table):
    response = client.get(url(table, "csv"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{table.slug}-v1-communes.csv"'
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["province", "held", "teams", "online", "note"]
    assert rows[1:] == [line.split(",") for line in CSV.strip().splitlines()[1:]]
    assert response.headers["ETag"].strip('"').startswith(table.latest_version.tables[0].sha256)


def test_json_has_typed_values_keyed_by_field(client, table):
    response = client.get(url(table, "json"))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    data = json.loads(response.get_data())
    assert data[0] == {
        "province": "Quảng Ngãi",
        "held": "2024-05-01",
        "teams": 61,
        "online": 0.5,
        "note": "=1+1",
    }
    assert data[2] == {"province": "Lào Cai", "held": None, "teams": 7, "online": None, "note": None}


def test_xlsx_has_a_header_row_and_typed_cells(client, table):
    response = client.get(url(table, "xlsx"))
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == ["province", "held", "teams", "online", "note"]
    body = [[v.date() if isinstance(v, dt.datetime) else v for v in row] for row in values[1:]]
    assert body == TYPED
    # A text that looks like a formula stays text.
    assert sheet["E2"].data_type == "s"


def test_filtered_download_gives_the_rows_the_preview_shows(client, table):
    response = client.get(url(table, "json"), query_string={"sort": "teams", "desc": "1", "q": "g"})
    data = json.loads(response.get_data())
    assert [row["province"] for row in data] == ["Bắc Giang", "Quảng Ngãi"]
    assert "filtered" in response.headers["Content-Disposition"]
    assert "immutable" not in response.headers["Cache-Control"]
    whole = client.get(url(table, "json"))
    assert response.headers["ETag"] != whole.headers["ETag"]
    csv_rows = list(
        csv.reader(
            io.StringIO(
                client.get(url(table, "csv"), query_string={"f.province": "Lào Cai"}).get_data(as_text=True)
            )
        )
    )
    assert csv_rows == [["province", "held", "teams", "online", "note"], ["Lào Cai", "", "7", "", ""]]
    assert client.get(url(table, "csv"), query_string={"sort": "nope"}).status_code == 400


def test_etag_gives_304(client, table):
    first = client.get(url(table, "xlsx"))
    again = client.get(url(table, "xlsx"), headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert client.get(url(table, "csv"), headers={"If-None-Match": first.headers["ETag"]}).status_code == 200


def test_latest_redirects_to_the_versioned_file(client, table):
    response = client.get(f"/datasets/{table.slug}/latest/communes.csv?sort=teams")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/datasets/{table.slug}/v1/communes.csv?sort=teams")
    assert "immutable" not in response.headers["Cache-Control"]


def test_drafts_and_unknown_tables_are_404(client, db, tmp_path, table):
    draft = make_dataset(db, tmp_path, publish=False)
    for address in (
        url(draft, "csv"),
        f"/datasets/{draft.slug}/latest/communes.csv",
        url(table, "csv", 2),
        f"/datasets/{table.slug}/v1/other.json",
        url(table, "pdf"),
    ):
        assert client.get(address, follow_redirects=True).status_code == 404, address


def test_table_page_chart_follows_the_filter(client, table):
    html = client.get(f"/en/datasets/{table.slug}/v1/communes", query_string={"q": "g"}).get_data(
        as_text=True
    )
    start = html.index("<svg")
    svg = etree.fromstring(html[start : html.index("</svg>", start) + 6].encode("utf-8"))
    bars = svg.findall("{http://www.w3.org/2000/svg}g")
    assert len(bars) == 2
    assert "2 rows" in svg.find("{http://www.w3.org/2000/svg}desc").text
