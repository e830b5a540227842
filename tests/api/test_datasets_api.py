"""The open datasets in the JSON API: list, dataset, version, table schema and rows; drafts are 404."""

from __future__ import annotations

import pytest

from tests.datasets.factories import make_dataset

CSV = "province,region,teams\n" + "".join(f"Tỉnh {n:02d},{'A' if n % 2 else 'B'},{n}\n" for n in range(1, 8))
SCHEMA = {
    "fields": [
        {"name": "province", "type": "string", "titles": {"vi": "Tỉnh", "en": "Province"}},
        {"name": "region", "type": "string"},
        {"name": "teams", "type": "integer"},
    ]
}


@pytest.fixture
def dataset(db, tmp_path):
    return make_dataset(db, tmp_path, csv_text=CSV, schema=SCHEMA, title="Tổ công nghệ số")


def test_list_and_detail(client, db, tmp_path, dataset):
    draft = make_dataset(db, tmp_path, publish=False)
    body = client.get("/api/v1/datasets?per_page=100").get_json()
    slugs = [d["slug"] for d in body["items"]]
    assert dataset.slug in slugs and draft.slug not in slugs
    detail = client.get(f"/api/v1/datasets/{dataset.slug}")
    assert detail.status_code == 200
    assert detail.headers["Access-Control-Allow-Origin"] == "*"
    data = detail.get_json()
    assert data["title"] == [{"lang": "vi", "value": "Tổ công nghệ số"}]
    assert data["latest_version"] == 1 and data["versions"][0]["checksum"] == dataset.latest_version.checksum
    table = data["latest"]["tables"][0]
    assert table["name"] == "communes" and table["row_count"] == 7
    assert table["links"]["downloads"]["csv"].endswith(f"/datasets/{dataset.slug}/v1/communes.csv")
    version = client.get(f"/api/v1/datasets/{dataset.slug}/versions/1").get_json()
    assert version["number"] == 1 and version["tables"][0]["name"] == "communes"


def test_drafts_and_unknowns_are_404_json(client, db, tmp_path, dataset, make_token):
    draft = make_dataset(db, tmp_path, publish=False)
    _user, secret = make_token("curator")
    for url in (
        f"/api/v1/datasets/{draft.slug}",
        f"/api/v1/datasets/{draft.slug}/versions/1",
        f"/api/v1/datasets/{dataset.slug}/versions/2",
        f"/api/v1/datasets/{dataset.slug}/versions/1/tables/nope",
        f"/api/v1/datasets/{dataset.slug}/versions/1/tables/nope/rows",
    ):
        response = client.get(url, headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 404, url
        assert response.get_json()["error"]["code"] == "not_found"


def test_schema_in_the_request_language(client, dataset):
    body = client.get(
        f"/api/v1/datasets/{dataset.slug}/versions/1/tables/communes", headers={"Accept-Language": "en"}
    ).get_json()
    assert body["schema"]["fields"][0]["title"] == "Province"
    assert [f["type"] for f in body["schema"]["fields"]] == ["string", "string", "integer"]


def test_rows_are_typed_paged_filtered_and_sorted(client, dataset):
    base = f"/api/v1/datasets/{dataset.slug}/versions/1/tables/communes/rows"
    first = client.get(base, query_string={"limit": 3}).get_json()
    assert first["total"] == 7 and first["offset"] == 0
    assert first["items"][0] == {"province": "Tỉnh 01", "region": "A", "teams": 1}
    assert "prev" not in first["links"]
    second = client.get(first["links"]["next"]).get_json()
    assert [r["teams"] for r in second["items"]] == [4, 5, 6]
    assert "prev" in second["links"]
    last = client.get(second["links"]["next"]).get_json()
    assert [r["teams"] for r in last["items"]] == [7] and "next" not in last["links"]
    sorted_rows = client.get(base, query_string={"f.region": "A", "sort": "teams", "desc": "1"}).get_json()
    assert [r["teams"] for r in sorted_rows["items"]] == [7, 5, 3, 1]
    found = client.get(base, query_string={"q": "tinh 04"}).get_json()
    assert [r["province"] for r in found["items"]] == ["Tỉnh 04"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"sort": "nope"}, "unknown_sort"),
        ({"f.nope": "1"}, "unknown_field"),
        ({"limit": "0"}, "bad_limit"),
        ({"offset": "-1"}, "bad_offset"),
        ({"desc": "2"}, "bad_desc"),
    ],
)
def test_bad_row_arguments_are_400_json(client, dataset, args, code):
    response = client.get(
        f"/api/v1/datasets/{dataset.slug}/versions/1/tables/communes/rows", query_string=args
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code


def test_answers_validate_against_the_openapi_document(client, dataset):
    from tests.api.test_openapi import _document, _response_schema, _validator

    document = _document(client)
    prefix = f"/api/v1/datasets/{dataset.slug}"
    cases = [
        ("/api/v1/datasets", "/api/v1/datasets"),
        (prefix, "/api/v1/datasets/{slug}"),
        (f"{prefix}/versions/1", "/api/v1/datasets/{slug}/versions/{number}"),
        (f"{prefix}/versions/1/tables/communes", "/api/v1/datasets/{slug}/versions/{number}/tables/{name}"),
        (
            f"{prefix}/versions/1/tables/communes/rows?limit=2&offset=2",
            "/api/v1/datasets/{slug}/versions/{number}/tables/{name}/rows",
        ),
    ]
    for url, path in cases:
        response = client.get(url)
        assert response.status_code == 200, url
        _validator(document, _response_schema(document, path, "get", "200")).validate(response.get_json())
    error = client.get(f"{prefix}/versions/9")
    _validator(
        document, _response_schema(document, "/api/v1/datasets/{slug}/versions/{number}", "get", "404")
    ).validate(error.get_json())
