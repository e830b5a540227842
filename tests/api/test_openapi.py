"""The OpenAPI document tells the truth: every API route is in it and everything in it is a route, and
real answers validate against the schemas it gives."""

from __future__ import annotations

import re
import uuid

import jsonschema
import pytest

from tests.api.conftest import bearer

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _document(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return response.get_json()


def _flask_to_openapi(rule: str) -> str:
    return re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule)


def test_every_api_route_is_described_and_nothing_else(app, client):
    document = _document(client)
    assert document["openapi"].startswith("3.1")
    served = {
        (_flask_to_openapi(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - IGNORED_METHODS
    }
    described = {(path, method) for path, item in document["paths"].items() for method in item}
    assert served == described
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation["responses"], f"{method} {path} has no responses"
            assert operation["summary"], f"{method} {path} has no summary"
            names = set(re.findall(r"{(\w+)}", path))
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert names == declared, f"{method} {path}: path parameters {names} vs {declared}"
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def _validator(document: dict, schema_name: str):
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _response_schema(document: dict, path: str, method: str, status: str) -> str:
    content = document["paths"][path][method]["responses"][status]["content"]["application/json"]
    return content["schema"]["$ref"].rsplit("/", 1)[-1]


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("/api/v1/records?per_page=5", "/api/v1/records"),
        ("/api/v1/vocabularies/ethnic-groups?per_page=3", "/api/v1/vocabularies/ethnic-groups"),
        ("/api/v1/vocabularies/places?system=2025&per_page=3", "/api/v1/vocabularies/places"),
        ("/api/v1/vocabularies/categories", "/api/v1/vocabularies/categories"),
        ("/api/v1/vocabularies/agents?per_page=5", "/api/v1/vocabularies/agents"),
        ("/api/v1/collections", "/api/v1/collections"),
        ("/api/v1/exhibits", "/api/v1/exhibits"),
        ("/api/v1/search?q=lễ", "/api/v1/search"),
    ],
)
def test_list_answers_validate(client, url, path):
    document = _document(client)
    response = client.get(url)
    assert response.status_code == 200
    _validator(document, _response_schema(document, path, "get", "200")).validate(response.get_json())


def test_record_media_collection_and_exhibit_answers_validate(client, db):
    document = _document(client)
    records = client.get("/api/v1/records?per_page=100").get_json()["items"]
    with_media = None
    for item in records:
        body = client.get(f"/api/v1/records/{item['id']}").get_json()
        _validator(document, "RecordDetail").validate(body)
        if body["media"] and with_media is None:
            with_media = body
    assert with_media is not None, "the demo has records with media"
    for media in with_media["media"]:
        _validator(document, "Media").validate(client.get(f"/api/v1/media/{media['id']}").get_json())
    page = client.get(f"/api/v1/records/{with_media['id']}/media").get_json()
    _validator(document, "MediaPage").validate(page)
    for collection in client.get("/api/v1/collections").get_json()["items"]:
        _validator(document, "Collection").validate(
            client.get(f"/api/v1/collections/{collection['slug']}").get_json()
        )
    for exhibit in client.get("/api/v1/exhibits").get_json()["items"]:
        _validator(document, "ExhibitDetail").validate(
            client.get(f"/api/v1/exhibits/{exhibit['slug']}").get_json()
        )


def test_error_and_write_answers_validate(client, make_token):
    document = _document(client)
    error = _validator(document, "Error")
    error.validate(client.get("/api/v1/records/nothing").get_json())
    error.validate(client.get("/api/v1/records?page=0").get_json())
    _user, secret = make_token("contributor")
    created = client.post(
        "/api/v1/records",
        json={"texts": {"title": [{"lang": "vi", "value": f"Thử {uuid.uuid4().hex[:6]}"}]}},
        headers=bearer(secret),
    )
    assert created.status_code == 201
    _validator(document, "RecordDetail").validate(created.get_json())
    invalid = client.post("/api/v1/records", json={"category": "x"}, headers=bearer(secret))
    assert invalid.status_code == 422
    error.validate(invalid.get_json())
