"""datapackage.json: a Frictionless Data Package per published version that Frictionless validates."""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from pathlib import Path

import frictionless
import pytest

from archive.datasets import services
from metadata.languages import LangString

BASE = "http://archive.test"
COMMUNES = "province,communes,share\nQuảng Ngãi,61,0.5\nBắc Giang,120,0.25\n"
COMMUNES_SCHEMA = {
    "fields": [
        {
            "name": "province",
            "type": "string",
            "constraints": {"required": True},
            "titles": {"vi": "Tỉnh", "en": "Province"},
        },
        {"name": "communes", "type": "integer", "constraints": {"minimum": 0}},
        {"name": "share", "type": "number", "constraints": {"maximum": 1}},
    ]
}
TEAMS = "year,teams\n2023,1200\n2024,\n"
TEAMS_SCHEMA = {"fields": [{"name": "year", "type": "year"}, {"name": "teams", "type": "integer"}]}


def _upload(user, dataset, tmp_path: Path, name: str, text: str, schema: dict) -> None:
    path = tmp_path / f"{dataset.slug}-{name}-{uuid.uuid4().hex[:4]}.csv"
    path.write_text(text, encoding="utf-8")
    upload = services.UploadRequest(
        path=path,
        filename=f"{name}.csv",
        name=name,
        title=[LangString(f"Bảng {name}", "vi"), LangString(f"Table {name}", "en")],
        schema_mode="provided",
        schema=schema,
    )
    services.upload_table(user, dataset, upload)


@pytest.fixture
def published(db, tmp_path, make_user):
    """A public dataset with two tables in version 1 and a draft version 2, plus a draft-only and a
    withdrawn dataset."""
    curator = make_user("curator")
    tag = uuid.uuid4().hex[:6]
    made = {}
    for key in ("public", "draft", "withdrawn"):
        data = services.DatasetData(
            slug=f"goi-{key}-{tag}",
            title=[
                LangString("Số xã và tổ công nghệ số", "vi"),
                LangString("Communes and digital teams", "en"),
            ],
            description=[LangString("Tổng hợp từ báo cáo.", "vi")],
            publisher=[LangString("Ủy ban Dân tộc", "vi")],
            contact_email="dulieu@example.vn",
            keywords=[LangString("xã", "vi")],
        )
        dataset = services.create_dataset(curator, data)
        _upload(curator, dataset, tmp_path, "communes", COMMUNES, COMMUNES_SCHEMA)
        _upload(curator, dataset, tmp_path, "teams", TEAMS, TEAMS_SCHEMA)
        if key != "draft":
            services.publish_version(curator, dataset.draft_version, system=True)
        made[key] = dataset
    services.withdraw_dataset(curator, made["withdrawn"])
    _upload(curator, made["public"], tmp_path, "communes", COMMUNES + "Lào Cai,5,0.1\n", COMMUNES_SCHEMA)
    db.session.commit()
    return made


def _local_package(client, descriptor: dict, folder: Path) -> dict:
    """Fetch each resource's CSV with the test client into *folder* and point the descriptor at it."""
    local = copy.deepcopy(descriptor)
    for resource in local["resources"]:
        assert resource["path"].startswith(BASE + "/")
        response = client.get(resource["path"][len(BASE) :])
        assert response.status_code == 200, resource["path"]
        filename = f"{resource['name']}.csv"
        (folder / filename).write_bytes(response.get_data())
        resource["path"] = filename
    return local


def _validate(descriptor: dict, folder: Path) -> frictionless.Report:
    return frictionless.Package(descriptor, basepath=str(folder)).validate()


def test_datapackage_is_a_valid_frictionless_package(client, published, tmp_path):
    dataset = published["public"]
    response = client.get(f"/datasets/{dataset.slug}/v1/datapackage.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    descriptor = json.loads(response.get_data(as_text=True))
    assert descriptor["name"] == dataset.slug
    assert descriptor["version"] == "1"
    assert descriptor["title"] == "Số xã và tổ công nghệ số"
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    assert descriptor["licenses"][0]["path"] == "http://creativecommons.org/licenses/by/4.0/"
    assert descriptor["contributors"][0] == {"title": "Ủy ban Dân tộc", "role": "publisher"}
    assert [r["name"] for r in descriptor["resources"]] == ["communes", "teams"]
    communes = descriptor["resources"][0]
    assert communes["path"] == f"{BASE}/datasets/{dataset.slug}/v1/communes.csv"
    assert communes["schema"]["fields"][0]["title"] == "Tỉnh"
    table = dataset.published_versions[0].table("communes")
    assert communes["hash"] == f"sha256:{table.sha256}"
    assert communes["bytes"] == table.byte_size

    folder = tmp_path / "package"
    folder.mkdir()
    local = _local_package(client, descriptor, folder)
    for resource in local["resources"]:
        data = (folder / resource["path"]).read_bytes()
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
    report = _validate(local, folder)
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_frictionless_refuses_a_wrong_schema_or_altered_file(client, published, tmp_path):
    dataset = published["public"]
    descriptor = json.loads(
        client.get(f"/datasets/{dataset.slug}/v1/datapackage.json").get_data(as_text=True)
    )
    folder = tmp_path / "package"
    folder.mkdir()
    local = _local_package(client, descriptor, folder)
    assert _validate(local, folder).valid

    wrong = copy.deepcopy(local)
    wrong["resources"][0]["schema"]["fields"][0]["type"] = "integer"  # province names are text
    report = _validate(wrong, folder)
    assert not report.valid
    assert ["type-error"] in report.flatten(["type"])

    (folder / "teams.csv").write_bytes((folder / "teams.csv").read_bytes() + b"2025,3\n")
    report = _validate(local, folder)
    assert not report.valid
    assert {"hash-count", "byte-count"} & {t for (t,) in report.flatten(["type"])}


def test_latest_datapackage_redirects_to_the_latest_published_version(client, published):
    dataset = published["public"]
    response = client.get(f"/datasets/{dataset.slug}/datapackage.json")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/datasets/{dataset.slug}/v1/datapackage.json")
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_datapackage_is_cacheable_open_data(client, published):
    url = f"/datasets/{published['public'].slug}/v1/datapackage.json"
    response = client.get(url)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert client.get(url, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize("role", [None, "curator"])
def test_drafts_withdrawn_and_unknown_have_no_datapackage(client, published, login, role):
    if role:
        login(role)
    public, draft, withdrawn = published["public"], published["draft"], published["withdrawn"]
    for url in (
        f"/datasets/{public.slug}/v2/datapackage.json",  # the draft version
        f"/datasets/{public.slug}/v9/datapackage.json",
        f"/datasets/{draft.slug}/v1/datapackage.json",
        f"/datasets/{draft.slug}/datapackage.json",
        f"/datasets/{withdrawn.slug}/v1/datapackage.json",
        f"/datasets/{withdrawn.slug}/datapackage.json",
        "/datasets/khong-co-bo-nay/datapackage.json",
    ):
        assert client.get(url).status_code == 404, url
