"""Dublin Core crosswalk of a heritage record and its oai_dc XML and JSON-LD serialisations.

The crosswalk emits all 15 DCMES elements plus the DCMI terms that matter for festivals and customs
(``dcterms:alternative``, ``abstract``, ``spatial``, ``temporal``, ``created``, ``modified``, ``license``,
``isPartOf``, ``hasPart``, ``audience``), every literal carrying its language. The oai_dc view folds
the refinements into their parent elements, as the DCMI "dumb-down" rule says.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from lxml import etree

from metadata.categories import CATEGORIES
from metadata.languages import LangString, from_mapping
from metadata.lunar import LunarRecurrence
from metadata.model import RecordDescription

DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
DCMITYPE = "http://purl.org/dc/dcmitype/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"

DCMES = (
    "title",
    "creator",
    "subject",
    "description",
    "publisher",
    "contributor",
    "date",
    "type",
    "format",
    "identifier",
    "source",
    "language",
    "relation",
    "coverage",
    "rights",
)

#: DCMI terms refinements and the DCMES element each one dumbs down to (None: dropped in oai_dc).
REFINES = {
    "alternative": "title",
    "abstract": "description",
    "spatial": "coverage",
    "temporal": "coverage",
    "created": "date",
    # When the catalogue record changed is not a date of the heritage itself: not in simple DC.
    "modified": None,
    "license": "rights",
    "isPartOf": "relation",
    "hasPart": "relation",
    "audience": None,
    "rightsHolder": None,
    "provenance": None,
}

#: Roles whose holders documented the heritage (dc:creator); all other roles are dc:contributor.
CREATOR_ROLES = {"recorder", "researcher"}

ROLE_LABELS = {
    "ritual_master": {"vi": "thầy cúng, người chủ lễ", "en": "ritual master"},
    "artisan": {"vi": "nghệ nhân", "en": "artisan"},
    "informant": {"vi": "người cung cấp thông tin", "en": "informant"},
    "performer": {"vi": "người trình diễn", "en": "performer"},
    "recorder": {"vi": "người ghi hình, ghi âm", "en": "recorder"},
    "researcher": {"vi": "nhà nghiên cứu", "en": "researcher"},
    "office": {"vi": "cơ quan", "en": "office"},
}

AUDIENCES = {
    "public": {"vi": "Công chúng", "en": "General public"},
    "researchers": {"vi": "Nhà nghiên cứu", "en": "Researchers"},
    "community": {"vi": "Thành viên cộng đồng", "en": "Community members"},
    "private": {"vi": "Nội bộ", "en": "Archive staff"},
}


@dataclass(frozen=True)
class Statement:
    """One Dublin Core statement: a term ('title', 'spatial'...), a value, its language, and its kind."""

    term: str
    value: str
    lang: str | None = None
    is_uri: bool = False

    @property
    def element(self) -> str | None:
        """The DCMES element this statement maps to in simple Dublin Core (None when it has none)."""
        if self.term in DCMES:
            return self.term
        return REFINES[self.term]


def _lit(term: str, values: list[LangString]) -> list[Statement]:
    return [Statement(term, v.value, v.lang) for v in values]


def crosswalk(record: RecordDescription) -> list[Statement]:
    """Map a record to Dublin Core statements (DCMES + DCMI terms), in a stable order."""
    out: list[Statement] = []
    out += _lit("title", record.values("title"))
    out += _lit("alternative", record.values("alternative"))
    for agent in record.agents:
        out.append(Statement("creator" if agent.role in CREATOR_ROLES else "contributor", agent.name))
    for group in record.ethnic_groups:
        out += _lit("subject", group.labels)
    for subject in record.subjects:
        out += _lit("subject", subject.labels)
    out += _lit("abstract", record.values("summary"))
    out += _lit("description", record.values("description"))
    if record.publisher:
        out.append(Statement("publisher", record.publisher, "vi"))
    for date in record.dates:
        out.append(Statement("created" if date.kind == "recorded" else "date", date.iso()))
    if record.modified:
        out.append(Statement("modified", record.modified.date().isoformat()))
    category = CATEGORIES[record.category]
    out.append(Statement("type", DCMITYPE + category.dcmi_type, is_uri=True))
    out += _lit("type", category.label_values)
    for kind in sorted({m.kind for m in record.media}):
        dcmi = {"image": "StillImage", "audio": "Sound", "video": "MovingImage"}[kind]
        out.append(Statement("type", DCMITYPE + dcmi, is_uri=True))
    for mime in sorted({m.mime_type for m in record.media}):
        out.append(Statement("format", mime))
    out.append(Statement("identifier", record.url, is_uri=True))
    out.append(Statement("identifier", record.identifier))
    out += _lit("source", record.values("provenance"))
    languages = []
    for tag in [v.lang for vs in record.texts.values() for v in vs]:
        if tag not in languages:
            languages.append(tag)
    for tag in languages:
        out.append(Statement("language", tag))
    for collection in record.collections:
        out.append(Statement("isPartOf", collection.uri or collection.id, is_uri=bool(collection.uri)))
    for media in record.media:
        if media.url:
            out.append(Statement("hasPart", media.url, is_uri=True))
    for place in record.places:
        out.append(Statement("spatial", place.label, "vi"))
        if place.current_province and place.system == "pre2025":
            out.append(Statement("spatial", place.current_province, "vi"))
    for timing in record.timings:
        out += _lit(
            "temporal",
            timing_labels(
                timing.calendar, timing.month, timing.day, timing.leap, timing.duration_days, timing.note
            ),
        )
    if record.rights_uri:
        is_licence = "creativecommons.org" in record.rights_uri
        out.append(Statement("license" if is_licence else "rights", record.rights_uri, is_uri=True))
    if record.rights_holder:
        out.append(Statement("rightsHolder", record.rights_holder))
        out.append(Statement("rights", record.rights_holder))
    out += _lit("rights", record.consent_note)
    out += _lit("audience", from_mapping(AUDIENCES[record.access_level]))
    return out


def timing_labels(
    calendar: str, month: int, day: int, leap: bool, duration: int, note: list[LangString]
) -> list[LangString]:
    """Readable labels of a festival's timing: the note if given, otherwise generated in vi and en."""
    if note:
        return list(note)
    if calendar == "lunar":
        recurrence = LunarRecurrence(month, day, leap, duration)
        return [LangString(recurrence.describe("vi"), "vi"), LangString(recurrence.describe("en"), "en")]
    return [
        LangString(f"ngày {day} tháng {month} (dương lịch)", "vi"),
        LangString(f"{day:02d}-{month:02d} each year (Gregorian)", "en"),
    ]


@dataclass(frozen=True)
class DatasetDescription:
    """What Dublin Core says about an open dataset (its latest published version)."""

    url: str
    title: list[LangString]
    description: list[LangString]
    publisher: str
    keywords: list[LangString]
    themes: list[LangString]
    issued: str | None  # ISO date of the first publication
    modified: str | None  # ISO date of the latest version
    temporal: str | None  # "start/end" (ISO dates)
    spatial: list[str]
    license_uri: str
    formats: list[str]
    version: str


def dataset_crosswalk(dataset: DatasetDescription) -> list[Statement]:
    """Map an open dataset to Dublin Core statements (type Dataset), in a stable order."""
    out: list[Statement] = []
    out += _lit("title", dataset.title)
    out.append(Statement("creator", dataset.publisher, "vi"))
    out += _lit("subject", dataset.themes)
    out += _lit("subject", dataset.keywords)
    out += _lit("description", dataset.description)
    out.append(Statement("publisher", dataset.publisher, "vi"))
    if dataset.issued:
        out.append(Statement("date", dataset.issued))
    if dataset.modified:
        out.append(Statement("modified", dataset.modified))
    out.append(Statement("type", DCMITYPE + "Dataset", is_uri=True))
    out += [Statement("format", mime) for mime in dataset.formats]
    out.append(Statement("identifier", dataset.url, is_uri=True))
    out += [Statement("spatial", label, "vi") for label in dataset.spatial]
    if dataset.temporal:
        out.append(Statement("temporal", dataset.temporal))
    out.append(Statement("license", dataset.license_uri, is_uri=True))
    return out


def dataset_to_oai_dc(dataset: DatasetDescription) -> etree._Element:
    """The ``oai_dc:dc`` element of an open dataset."""
    return _oai_dc(dataset_crosswalk(dataset))


def to_oai_dc(record: RecordDescription) -> etree._Element:
    """The ``oai_dc:dc`` element of a record (simple Dublin Core, valid against oai_dc.xsd)."""
    return _oai_dc(crosswalk(record))


def _oai_dc(all_statements: list[Statement]) -> etree._Element:
    root = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{OAI_DC} {OAI_DC_SCHEMA}")
    statements = [s for s in all_statements if s.element]
    for element in DCMES:
        for s in statements:
            if s.element == element:
                node = etree.SubElement(root, f"{{{DC}}}{element}")
                node.text = s.value
                if s.lang:
                    node.set(f"{{{XML_NS}}}lang", s.lang)
    return root


def to_oai_dc_bytes(record: RecordDescription) -> bytes:
    """oai_dc XML document of a record, UTF-8 with an XML declaration."""
    return etree.tostring(to_oai_dc(record), xml_declaration=True, encoding="UTF-8", pretty_print=True)


JSONLD_CONTEXT = {
    "dcterms": DCTERMS,
    "dcmitype": DCMITYPE,
    "schema": "https://schema.org/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def _ld_values(values: list[LangString]) -> list[dict]:
    return [{"@value": v.value, "@language": v.lang} for v in values]


def to_jsonld(record: RecordDescription) -> dict:
    """JSON-LD of a record with dcterms and schema.org (Event/Festival, Place, Person, Organization)."""
    category = CATEGORIES[record.category]
    schema_type = {"festival": "schema:Festival"}.get(record.category) or (
        "schema:Event" if category.dcmi_type == "Event" else "schema:CreativeWork"
    )
    doc: dict = {
        "@context": JSONLD_CONTEXT,
        "@id": record.url,
        "@type": [schema_type, "dcmitype:" + category.dcmi_type],
    }
    terms: dict[str, list] = {}
    for s in crosswalk(record):
        key = "dcterms:" + s.term
        if s.is_uri:
            terms.setdefault(key, []).append({"@id": s.value})
        elif s.lang:
            terms.setdefault(key, []).append({"@value": s.value, "@language": s.lang})
        elif s.term in ("date", "created", "modified"):
            terms.setdefault(key, []).append({"@value": s.value})
        else:
            terms.setdefault(key, []).append(s.value)
    doc.update(terms)
    doc["schema:name"] = _ld_values(record.values("title"))
    doc["schema:alternateName"] = _ld_values(record.values("alternative"))
    doc["schema:description"] = _ld_values(record.values("summary") or record.values("description"))
    doc["schema:identifier"] = record.identifier
    doc["schema:url"] = record.url
    doc["schema:inLanguage"] = sorted({v.lang for vs in record.texts.values() for v in vs})
    doc["schema:about"] = [
        {"@id": g.uri or g.id, "@type": "schema:DefinedTerm", "schema:name": _ld_values(g.labels)}
        for g in record.ethnic_groups + record.subjects
    ]
    places = []
    for place in record.places:
        node = {"@type": "schema:Place", "schema:name": place.label, "schema:identifier": place.code}
        if place.latitude is not None and place.longitude is not None:
            node["schema:geo"] = {
                "@type": "schema:GeoCoordinates",
                "schema:latitude": place.latitude,
                "schema:longitude": place.longitude,
            }
        if place.current_province and place.system == "pre2025":
            node["schema:containedInPlace"] = {"@type": "schema:Place", "schema:name": place.current_province}
        places.append(node)
    if places:
        doc["schema:location" if schema_type != "schema:CreativeWork" else "schema:spatialCoverage"] = places
    people = [
        {
            "@type": "schema:Person" if a.kind == "person" else "schema:Organization",
            "schema:name": a.name,
            "schema:roleName": ROLE_LABELS.get(a.role, {}).get("en", a.role),
        }
        for a in record.agents
    ]
    if people:
        doc["schema:contributor"] = people
    held = [d for d in record.dates if d.kind == "held"] or list(record.dates)
    if held and schema_type != "schema:CreativeWork":
        doc["schema:startDate"] = held[0].start.isoformat()
        if held[0].end:
            doc["schema:endDate"] = held[0].end.isoformat()
    if record.rights_uri:
        doc["schema:license"] = {"@id": record.rights_uri}
    if record.publisher:
        doc["schema:publisher"] = {"@type": "schema:Organization", "schema:name": record.publisher}
    doc["schema:associatedMedia"] = [
        {
            "@id": m.url,
            "@type": {
                "image": "schema:ImageObject",
                "audio": "schema:AudioObject",
                "video": "schema:VideoObject",
            }[m.kind],
            "schema:encodingFormat": m.mime_type,
            "schema:caption": _ld_values(m.caption),
        }
        for m in record.media
        if m.url
    ]
    return {k: v for k, v in doc.items() if v not in ([], None, "")}


def to_jsonld_bytes(record: RecordDescription) -> bytes:
    """JSON-LD document of a record, UTF-8."""
    return json.dumps(to_jsonld(record), ensure_ascii=False, indent=2).encode("utf-8")
