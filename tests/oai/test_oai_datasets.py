"""The open datasets in OAI-PMH: the "datasets" set, oai_dc of type Dataset, deletions when withdrawn."""

from __future__ import annotations

from archive.datasets import services
from tests.datasets.factories import make_dataset
from tests.oai.conftest import NS

DCMI_DATASET = "http://purl.org/dc/dcmitype/Dataset"


def _records(oai, **params):
    root = oai(verb="ListRecords", metadataPrefix="oai_dc", set="datasets", **params)
    return root.findall(".//oai:record", NS)


def test_the_datasets_set_is_listed(oai):
    root = oai(verb="ListSets")
    specs = {s.findtext("oai:setSpec", namespaces=NS): s for s in root.findall(".//oai:set", NS)}
    assert "datasets" in specs
    assert specs["datasets"].findtext("oai:setName", namespaces=NS) == "Dữ liệu mở"


def test_a_published_dataset_is_harvested_as_dublin_core_of_type_dataset(oai, db, tmp_path):
    dataset = make_dataset(db, tmp_path, title="Số xã vùng đồng bào", title_en="Communes of minority areas")
    records = _records(oai)
    ours = [
        r
        for r in records
        if r.findtext(".//oai:identifier", namespaces=NS).endswith(f":dataset-{dataset.id}")
    ]
    assert len(ours) == 1
    record = ours[0]
    assert [s.text for s in record.findall(".//oai:setSpec", NS)] == ["datasets"]
    titles = {
        t.get("{http://www.w3.org/XML/1998/namespace}lang"): t.text for t in record.findall(".//dc:title", NS)
    }
    assert titles == {"vi": "Số xã vùng đồng bào", "en": "Communes of minority areas"}
    assert DCMI_DATASET in [t.text for t in record.findall(".//dc:type", NS)]
    identifiers = [i.text for i in record.findall(".//dc:identifier", NS)]
    assert any(i.endswith(f"/datasets/{dataset.slug}") for i in identifiers)
    assert "http://creativecommons.org/licenses/by/4.0/" in [
        r.text for r in record.findall(".//dc:rights", NS)
    ]
    # Records are not in the datasets set.
    assert all(":dataset-" in r.findtext(".//oai:identifier", namespaces=NS) for r in records)


def test_drafts_are_never_harvested_and_withdrawn_datasets_become_deleted(oai, db, tmp_path, make_user):
    draft = make_dataset(db, tmp_path, publish=False)
    identifiers = {r.findtext(".//oai:identifier", namespaces=NS) for r in _records(oai)}
    assert not any(i.endswith(f":dataset-{draft.id}") for i in identifiers)

    dataset = make_dataset(db, tmp_path)
    oai(verb="ListIdentifiers", metadataPrefix="oai_dc", set="datasets")
    services.withdraw_dataset(make_user("curator"), dataset)
    db.session.commit()
    root = oai(verb="ListIdentifiers", metadataPrefix="oai_dc", set="datasets")
    headers = {
        h.findtext("oai:identifier", namespaces=NS): h.get("status")
        for h in root.findall(".//oai:header", NS)
    }
    ours = [status for identifier, status in headers.items() if identifier.endswith(f":dataset-{dataset.id}")]
    assert ours == ["deleted"]
