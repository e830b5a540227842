"""The Dublin Core crosswalk and its serialisations, checked against the shared oai_dc schema."""

import json

import pytest
import sqlalchemy as sa
from lxml import etree

from archive.records.models import HeritageRecord
from archive.records.services import describe
from metadata.dublin_core import DC, DCMES, XML_NS, crosswalk, to_jsonld, to_oai_dc
from tests.conftest import STANDARDS


@pytest.fixture(scope="module")
def oai_dc_schema():
    return etree.XMLSchema(etree.parse(str(STANDARDS / "oai-pmh" / "oai_dc.xsd")))


def _all_records(db):
    return db.session.scalars(sa.select(HeritageRecord).order_by(HeritageRecord.slug)).all()


def test_every_demo_record_validates_as_oai_dc(db, oai_dc_schema):
    records = _all_records(db)
    assert len(records) >= 40
    for record in records:
        element = to_oai_dc(describe(record))
        assert oai_dc_schema.validate(element), (record.slug, oai_dc_schema.error_log)


def test_the_crosswalk_fills_all_fifteen_elements(db):
    record = db.session.scalar(sa.select(HeritageRecord).where(HeritageRecord.slug == "long-tong-tay-nung"))
    assert record is not None
    statements = crosswalk(describe(record))
    elements = {s.element for s in statements if s.element}
    assert elements == set(DCMES)
    terms = {s.term for s in statements}
    assert {
        "alternative",
        "abstract",
        "spatial",
        "temporal",
        "created",
        "license",
        "isPartOf",
        "hasPart",
        "audience",
    } <= terms
    assert any(s.term == "type" and s.value == "http://purl.org/dc/dcmitype/Event" for s in statements)
    titles = {(s.value, s.lang) for s in statements if s.term == "title"}
    assert ("Lễ hội Lồng Tồng", "vi") in titles and any(lang == "en" for _, lang in titles)
    assert any(s.term == "temporal" and s.lang == "vi" and "tháng Giêng" in s.value for s in statements)


def test_oai_dc_values_carry_their_language(db):
    record = db.session.scalar(sa.select(HeritageRecord).where(HeritageRecord.slug == "long-tong-tay-nung"))
    root = to_oai_dc(describe(record))
    titles = root.findall(f"{{{DC}}}title")
    assert {t.get(f"{{{XML_NS}}}lang") for t in titles} >= {"vi", "en"}
    types = [t.text for t in root.findall(f"{{{DC}}}type")]
    assert "http://purl.org/dc/dcmitype/Event" in types
    assert "http://purl.org/dc/dcmitype/StillImage" in types or "http://purl.org/dc/dcmitype/Sound" in types


def test_json_ld_uses_schema_org_and_dcterms(db):
    record = db.session.scalar(sa.select(HeritageRecord).where(HeritageRecord.slug == "long-tong-tay-nung"))
    doc = json.loads(json.dumps(to_jsonld(describe(record))))
    assert "schema:Festival" in doc["@type"] and "dcmitype:Event" in doc["@type"]
    assert {"@value": "Lễ hội Lồng Tồng", "@language": "vi"} in doc["dcterms:title"]
    place = doc["schema:location"][0]
    assert place["@type"] == "schema:Place" and "schema:geo" in place
    assert all(p["@type"] in ("schema:Person", "schema:Organization") for p in doc["schema:contributor"])
    assert doc["@context"]["dcterms"] == "http://purl.org/dc/terms/"
