"""The DCAT-AP 3.0 catalogue: what it lists, and that it conforms to the DCAT-AP SHACL shapes."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
import warnings

import pyshacl
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, XSD
from sqlalchemy import select

from archive.datasets import services
from archive.vocab.models import Place
from metadata.dcat import ADMS, DCAT, SPDX
from metadata.languages import LangString
from tests.conftest import STANDARDS

BASE = "http://archive.test"
CSV = "province,communes,share\nQuảng Ngãi,61,0.5\nBắc Giang,120,0.25\n"
SCHEMA = {
    "fields": [
        {"name": "province", "type": "string", "constraints": {"required": True}},
        {"name": "communes", "type": "integer", "constraints": {"minimum": 0}},
        {"name": "share", "type": "number", "constraints": {"maximum": 1}},
    ]
}


@pytest.fixture(scope="module")
def shapes() -> Graph:
    """The DCAT-AP 3.0 shapes, parsed once."""
    return Graph().parse(STANDARDS / "dcat" / "dcat-ap-3.0-shacl.ttl", format="turtle")


def conformance(data: Graph, shapes: Graph) -> tuple[bool, str]:
    """Validate without inference: every linked value must carry its class in the data itself."""
    conforms, _graph, text = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", allow_warnings=False, advanced=False
    )
    return conforms, text


def parse_jsonld(text: str) -> Graph:
    """Parse JSON-LD (rdflib 7.6's parser itself uses its deprecated ConjunctiveGraph: not ours to fix)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        return Graph().parse(data=text, format="json-ld")


def publish(db, tmp_path, user, slug: str, *, versions: int = 1, publish_last: bool = True, **fields):
    """A dataset with a table 'communes' in *versions* versions (the last one left a draft if asked)."""
    data = services.DatasetData(
        slug=slug,
        title=[LangString(f"Số xã theo tỉnh {slug}", "vi"), LangString(f"Communes by province {slug}", "en")],
        **fields,
    )
    dataset = services.create_dataset(user, data)
    for number in range(1, versions + 1):
        path = tmp_path / f"{slug}-{number}.csv"
        path.write_text(CSV + f"Lào Cai,{number},0.1\n", encoding="utf-8")
        upload = services.UploadRequest(
            path=path,
            filename="communes.csv",
            name="communes",
            title=[LangString("Số xã", "vi"), LangString("Communes", "en")],
            schema_mode="provided",
            schema=SCHEMA,
        )
        services.upload_table(user, dataset, upload)
        services.set_version_notes(user, dataset.draft_version, [LangString(f"Lần {number}", "vi")])
        if number < versions or publish_last:
            services.publish_version(user, dataset.draft_version, system=True)
    db.session.commit()
    return dataset


@pytest.fixture
def catalogue(db, tmp_path, make_user):
    """A full dataset in two versions, a second public one, a draft-only one and a withdrawn one."""
    curator = make_user("curator")
    codes = [
        db.session.scalar(
            select(Place.code).where(Place.level == "province", Place.system == system).limit(1)
        )
        for system in ("2025", "pre2025")
    ]
    tag = uuid.uuid4().hex[:6]
    full = publish(
        db,
        tmp_path,
        curator,
        f"xa-{tag}",
        versions=2,
        description=[LangString("Số xã của mỗi tỉnh.", "vi"), LangString("Communes in each province.", "en")],
        publisher=[LangString("Ủy ban Dân tộc", "vi"), LangString("Committee for Ethnic Affairs", "en")],
        contact_name="Văn phòng Chương trình",
        contact_email="dulieu@example.vn",
        themes=["SOCI", "GOVE"],
        keywords=[LangString("xã", "vi"), LangString("communes", "en")],
        temporal_start=dt.date(2021, 1, 1),
        temporal_end=dt.date(2025, 12, 31),
        spatial=[c for c in codes if c],
        accrual_periodicity="ANNUAL",
    )
    plain = publish(db, tmp_path, curator, f"tho-{tag}")
    draft = publish(db, tmp_path, curator, f"nhap-{tag}", publish_last=False)
    withdrawn = publish(db, tmp_path, curator, f"rut-{tag}")
    services.withdraw_dataset(curator, withdrawn)
    # A public dataset's next version, still a draft, never shows either.
    path = tmp_path / "extra.csv"
    path.write_text(CSV, encoding="utf-8")
    services.upload_table(
        curator,
        full,
        services.UploadRequest(
            path=path, filename="draft.csv", name="draft-only", schema_mode="provided", schema=SCHEMA
        ),
    )
    db.session.commit()
    return {"full": full, "plain": plain, "draft": draft, "withdrawn": withdrawn, "codes": codes}


def test_catalogue_in_turtle_and_jsonld_conforms_to_dcat_ap(client, catalogue, shapes):
    turtle = client.get("/catalog.ttl")
    assert turtle.status_code == 200
    assert turtle.content_type == "text/turtle; charset=utf-8"
    jsonld = client.get("/catalog.jsonld")
    assert jsonld.status_code == 200
    assert jsonld.mimetype == "application/ld+json"
    assert "@context" in json.loads(jsonld.get_data(as_text=True))

    graphs = {
        "turtle": Graph().parse(data=turtle.get_data(as_text=True), format="turtle"),
        "json-ld": parse_jsonld(jsonld.get_data(as_text=True)),
    }
    for name, graph in graphs.items():
        conforms, report = conformance(graph, shapes)
        assert conforms, f"{name} catalogue does not conform:\n{report}"
    assert len(graphs["turtle"]) == len(graphs["json-ld"])


def test_catalogue_lists_public_datasets_only(client, catalogue):
    graph = Graph().parse(data=client.get("/catalog.ttl").get_data(as_text=True), format="turtle")
    listed = set(graph.objects(URIRef(f"{BASE}/catalog"), DCAT.dataset))
    assert URIRef(f"{BASE}/datasets/{catalogue['full'].slug}") in listed
    assert URIRef(f"{BASE}/datasets/{catalogue['plain'].slug}") in listed
    text = client.get("/catalog.ttl").get_data(as_text=True) + client.get("/catalog.jsonld").get_data(
        as_text=True
    )
    for hidden in ("draft", "withdrawn"):
        assert catalogue[hidden].slug not in text
    assert "draft-only" not in text  # the full dataset's next version is still a draft


def test_dataset_is_described_with_its_distributions_and_versions(client, catalogue):
    full = catalogue["full"]
    graph = Graph().parse(data=client.get("/catalog.ttl").get_data(as_text=True), format="turtle")
    node = URIRef(f"{BASE}/datasets/{full.slug}")
    assert Literal(f"Communes by province {full.slug}", lang="en") in set(graph.objects(node, DCTERMS.title))
    assert Literal(f"Số xã theo tỉnh {full.slug}", lang="vi") in set(graph.objects(node, DCTERMS.title))
    assert Literal("communes", lang="en") in set(graph.objects(node, DCAT.keyword))
    assert URIRef("http://publications.europa.eu/resource/authority/data-theme/SOCI") in set(
        graph.objects(node, DCAT.theme)
    )
    assert graph.value(node, DCTERMS.accrualPeriodicity) == URIRef(
        "http://publications.europa.eu/resource/authority/frequency/ANNUAL"
    )
    places = set(graph.objects(node, DCTERMS.spatial))
    assert {URIRef(f"{BASE}/places/{c}") for c in catalogue["codes"] if c} == places
    period = graph.value(node, DCTERMS.temporal)
    assert graph.value(period, DCAT.startDate) == Literal(dt.date(2021, 1, 1), datatype=XSD.date)
    contact = graph.value(node, DCAT.contactPoint)
    assert graph.value(contact, URIRef("http://www.w3.org/2006/vcard/ns#hasEmail")) == URIRef(
        "mailto:dulieu@example.vn"
    )
    assert graph.value(node, DCAT.version) == Literal("2")

    # The current distributions are version 2's files, with the CSV's size and checksum.
    v2 = full.latest_version
    table = v2.table("communes")
    downloads = {graph.value(d, DCAT.downloadURL) for d in graph.objects(node, DCAT.distribution)}
    for fmt in ("csv", "json", "xlsx"):
        assert URIRef(f"{BASE}/datasets/{full.slug}/v2/communes.{fmt}") in downloads
    assert URIRef(f"{BASE}/datasets/{full.slug}/v2/datapackage.json") in downloads
    csv = URIRef(f"{BASE}/datasets/{full.slug}/v2#communes.csv")
    assert graph.value(csv, DCAT.byteSize).toPython() == table.byte_size
    checksum = graph.value(csv, SPDX.checksum)
    assert str(graph.value(checksum, SPDX.checksumValue)) == table.sha256
    assert graph.value(csv, DCAT.mediaType) == URIRef("https://www.iana.org/assignments/media-types/text/csv")
    assert graph.value(csv, DCTERMS.format) == URIRef(
        "http://publications.europa.eu/resource/authority/file-type/CSV"
    )

    # Both versions are listed; version 2 follows version 1 and says what changed.
    v1_node, v2_node = (URIRef(f"{BASE}/datasets/{full.slug}/v{n}") for n in (1, 2))
    assert {v1_node, v2_node} == set(graph.objects(node, DCAT.hasVersion))
    assert graph.value(v2_node, DCAT.previousVersion) == v1_node
    assert graph.value(v1_node, DCAT.version) == Literal("1")
    assert graph.value(v1_node, ADMS.versionNotes) == Literal("Lần 1", lang="vi")
    v1_csv = graph.value(URIRef(f"{BASE}/datasets/{full.slug}/v1#communes.csv"), DCAT.downloadURL)
    assert v1_csv == URIRef(f"{BASE}/datasets/{full.slug}/v1/communes.csv")


def test_shacl_check_refuses_a_dataset_without_title(client, catalogue, shapes):
    graph = Graph().parse(data=client.get("/catalog.ttl").get_data(as_text=True), format="turtle")
    node = URIRef(f"{BASE}/datasets/{catalogue['plain'].slug}")
    graph.remove((node, DCTERMS.title, None))
    conforms, report = conformance(graph, shapes)
    assert not conforms
    assert "MinCountConstraintComponent" in report
    assert re.search(r"Result Path: \S+:title", report)


def test_shacl_check_refuses_an_untyped_licence(client, catalogue, shapes):
    graph = Graph().parse(data=client.get("/catalog.ttl").get_data(as_text=True), format="turtle")
    graph.remove((URIRef("http://creativecommons.org/licenses/by/4.0/"), RDF.type, DCTERMS.LicenseDocument))
    conforms, report = conformance(graph, shapes)
    assert not conforms
    assert "LicenseDocument" in report


def test_catalogue_files_are_cacheable_open_data(client, catalogue):
    for url in ("/catalog.ttl", "/catalog.jsonld"):
        response = client.get(url)
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["Cache-Control"] == "public, max-age=300"
        etag = response.headers["ETag"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304


def test_catalogue_changes_when_a_dataset_is_withdrawn(client, catalogue, make_user, db):
    before = client.get("/catalog.ttl")
    services.withdraw_dataset(make_user("curator"), catalogue["plain"])
    db.session.commit()
    after = client.get("/catalog.ttl", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert catalogue["plain"].slug not in after.get_data(as_text=True)


@pytest.mark.parametrize(
    ("accept", "target"),
    [
        ("text/turtle", "/catalog.ttl"),
        ("application/ld+json", "/catalog.jsonld"),
        ("text/html,*/*;q=0.8", "/catalog.ttl"),
        ("", "/catalog.ttl"),
    ],
)
def test_catalogue_uri_redirects_by_accept(client, db, accept, target):
    response = client.get("/catalog", headers={"Accept": accept} if accept else {})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(target)
    assert "Accept" in response.headers["Vary"]
