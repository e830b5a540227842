"""DCAT-AP 3.0 for the open datasets: the controlled vocabularies the archive offers, and (below) the
catalogue graph in Turtle and JSON-LD.

Framework-free: the builders take plain values and return an rdflib graph or text.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

from metadata.languages import LangString

#: EU Vocabularies "data theme" authority table: code -> (vi, en).
THEME_BASE = "http://publications.europa.eu/resource/authority/data-theme/"
THEMES: dict[str, tuple[str, str]] = {
    "AGRI": ("Nông nghiệp, thủy sản, lâm nghiệp và thực phẩm", "Agriculture, fisheries, forestry and food"),
    "ECON": ("Kinh tế và tài chính", "Economy and finance"),
    "EDUC": ("Giáo dục, văn hóa và thể thao", "Education, culture and sport"),
    "ENER": ("Năng lượng", "Energy"),
    "ENVI": ("Môi trường", "Environment"),
    "GOVE": ("Chính phủ và khu vực công", "Government and public sector"),
    "HEAL": ("Y tế", "Health"),
    "INTR": ("Vấn đề quốc tế", "International issues"),
    "JUST": ("Tư pháp, hệ thống pháp luật và an toàn công cộng", "Justice, legal system and public safety"),
    "REGI": ("Vùng và đô thị", "Regions and cities"),
    "SOCI": ("Dân số và xã hội", "Population and society"),
    "TECH": ("Khoa học và công nghệ", "Science and technology"),
    "TRAN": ("Giao thông vận tải", "Transport"),
}

#: EU Vocabularies "frequency" authority table: code -> (vi, en).
FREQUENCY_BASE = "http://publications.europa.eu/resource/authority/frequency/"
FREQUENCIES: dict[str, tuple[str, str]] = {
    "DAILY": ("Hằng ngày", "Daily"),
    "WEEKLY": ("Hằng tuần", "Weekly"),
    "MONTHLY": ("Hằng tháng", "Monthly"),
    "QUARTERLY": ("Hằng quý", "Quarterly"),
    "ANNUAL": ("Hằng năm", "Annual"),
    "IRREG": ("Không định kỳ", "Irregular"),
    "NEVER": ("Không cập nhật", "Never"),
    "UNKNOWN": ("Không rõ", "Unknown"),
}

#: Licences an officer may choose: URI -> (short name, vi, en). CC BY 4.0 is the default.
LICENCES: dict[str, tuple[str, str, str]] = {
    "http://creativecommons.org/licenses/by/4.0/": (
        "CC BY 4.0",
        "Ghi công 4.0 Quốc tế",
        "Attribution 4.0 International",
    ),
    "http://creativecommons.org/licenses/by-sa/4.0/": (
        "CC BY-SA 4.0",
        "Ghi công – Chia sẻ tương tự 4.0 Quốc tế",
        "Attribution-ShareAlike 4.0 International",
    ),
    "http://creativecommons.org/publicdomain/zero/1.0/": (
        "CC0 1.0",
        "Dâng hiến vào phạm vi công cộng",
        "Public Domain Dedication",
    ),
}
DEFAULT_LICENCE = "http://creativecommons.org/licenses/by/4.0/"

#: IANA media types and EU file-type codes of the distributions the archive serves.
MEDIA_TYPES = {
    "csv": ("text/csv", "CSV"),
    "json": ("application/json", "JSON"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX"),
}
FILE_TYPE_BASE = "http://publications.europa.eu/resource/authority/file-type/"

# --- The catalogue graph ----------------------------------------------------------------------------

#: DCAT 3 (rdflib's closed namespace object predates dcat:version and the other version properties).
DCAT = Namespace("http://www.w3.org/ns/dcat#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
THEME_SCHEME = "http://publications.europa.eu/resource/authority/data-theme"
FREQUENCY_SCHEME = "http://publications.europa.eu/resource/authority/frequency"
FRICTIONLESS_DATA_PACKAGE = "https://specs.frictionlessdata.io/data-package/"
DCAT_AP = "http://data.europa.eu/r5r/"

#: The prefixes of the Turtle file and the compact JSON-LD @context.
PREFIXES: dict[str, str] = {
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "vcard": str(VCARD),
    "skos": str(SKOS),
    "adms": str(ADMS),
    "spdx": str(SPDX),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
}

#: Formats of each table's distributions, in the order they are listed.
DISTRIBUTION_FORMATS = ("csv", "json", "xlsx")


@dataclass(frozen=True)
class TableDistribution:
    """One table of a published version and the URLs of its files."""

    name: str
    title: list[LangString]
    #: format ("csv", "json", "xlsx") -> absolute download URL.
    downloads: dict[str, str]
    byte_size: int
    sha256: str


@dataclass(frozen=True)
class VersionDescription:
    """One published version of a dataset."""

    uri: str
    number: int
    issued: dt.datetime
    notes: list[LangString]
    tables: list[TableDistribution]
    datapackage_url: str
    landing_pages: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Agent:
    """A publisher: its URI and its names."""

    uri: str
    names: list[LangString]


@dataclass(frozen=True)
class DatasetDescription:
    """What the catalogue says about one public dataset; ``versions`` oldest first, the last is current."""

    uri: str
    title: list[LangString]
    description: list[LangString]
    publisher: Agent
    license_uri: str
    versions: list[VersionDescription]
    modified: dt.datetime
    contact_name: str = ""
    contact_email: str = ""
    themes: list[str] = field(default_factory=list)
    keywords: list[LangString] = field(default_factory=list)
    temporal_start: dt.date | None = None
    temporal_end: dt.date | None = None
    #: (URI of the place page, the place's name)
    places: list[tuple[str, str]] = field(default_factory=list)
    frequency: str = "IRREG"
    #: language -> URL of the dataset's page in that language.
    landing_pages: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CatalogDescription:
    """The catalogue itself and its datasets."""

    uri: str
    title: list[LangString]
    description: list[LangString]
    publisher: Agent
    homepage: str
    datasets: list[DatasetDescription]
    license_uri: str = DEFAULT_LICENCE
    modified: dt.datetime | None = None


def _texts(graph: Graph, subject, predicate, values: list[LangString]) -> None:
    for value in values:
        if value.value.strip():
            graph.add((subject, predicate, Literal(value.value, lang=value.lang)))


def _typed(graph: Graph, uri: str, *classes: URIRef) -> URIRef:
    node = URIRef(uri)
    for cls in classes:
        graph.add((node, RDF.type, cls))
    return node


def _agent(graph: Graph, agent: Agent) -> URIRef:
    node = _typed(graph, agent.uri, FOAF.Agent)
    _texts(graph, node, FOAF.name, agent.names)
    return node


def _licence(graph: Graph, uri: str) -> URIRef:
    node = _typed(graph, uri, DCTERMS.LicenseDocument)
    if uri in LICENCES:
        short, vi, en = LICENCES[uri]
        graph.add((node, RDFS.label, Literal(short)))
        graph.add((node, DCTERMS.title, Literal(vi, lang="vi")))
        graph.add((node, DCTERMS.title, Literal(en, lang="en")))
    return node


def _concept(graph: Graph, uri: str, cls: URIRef, labels: tuple[str, str], scheme: str) -> URIRef:
    node = _typed(graph, uri, cls, SKOS.Concept) if cls != SKOS.Concept else _typed(graph, uri, SKOS.Concept)
    graph.add((node, SKOS.prefLabel, Literal(labels[0], lang="vi")))
    graph.add((node, SKOS.prefLabel, Literal(labels[1], lang="en")))
    graph.add((node, SKOS.inScheme, URIRef(scheme)))
    return node


def _resource(graph: Graph, url: str) -> URIRef:
    return _typed(graph, url, RDFS.Resource)


def _distribution(
    graph: Graph, version: VersionDescription, table: TableDistribution, fmt: str, licence: URIRef
) -> URIRef:
    node = _typed(graph, f"{version.uri}#{table.name}.{fmt}", DCAT.Distribution)
    media_type, file_type = MEDIA_TYPES[fmt]
    titles = table.title or [LangString(table.name, "vi")]
    for value in titles:
        graph.add((node, DCTERMS.title, Literal(f"{value.value} ({file_type})", lang=value.lang)))
    url = _resource(graph, table.downloads[fmt])
    graph.add((node, DCAT.accessURL, url))
    graph.add((node, DCAT.downloadURL, url))
    graph.add((node, DCTERMS.format, _typed(graph, FILE_TYPE_BASE + file_type, DCTERMS.MediaTypeOrExtent)))
    graph.add((node, DCAT.mediaType, _typed(graph, IANA_MEDIA_TYPES + media_type, DCTERMS.MediaType)))
    graph.add((node, DCTERMS.license, licence))
    graph.add((node, DCTERMS.issued, Literal(version.issued)))
    standard = _typed(graph, version.datapackage_url, DCTERMS.Standard)
    graph.add((node, DCTERMS.conformsTo, standard))
    if fmt == "csv":
        graph.add((node, DCAT.byteSize, Literal(table.byte_size, datatype=XSD.nonNegativeInteger)))
        checksum = _typed(graph, f"{version.uri}#{table.name}.{fmt}-sha256", SPDX.Checksum)
        algorithm = _typed(graph, str(SPDX.checksumAlgorithm_sha256), SPDX.ChecksumAlgorithm)
        graph.add((checksum, SPDX.algorithm, algorithm))
        graph.add((checksum, SPDX.checksumValue, Literal(table.sha256, datatype=XSD.hexBinary)))
        graph.add((node, SPDX.checksum, checksum))
    return node


def _package_distribution(graph: Graph, version: VersionDescription, licence: URIRef) -> URIRef:
    """The version's datapackage.json: the tables' descriptor, schemas and checksums in one file."""
    node = _typed(graph, f"{version.uri}#datapackage.json", DCAT.Distribution)
    for lang, title in (("vi", "Gói dữ liệu Frictionless"), ("en", "Frictionless Data Package")):
        graph.add((node, DCTERMS.title, Literal(f"{title} (datapackage.json), v{version.number}", lang=lang)))
    url = _resource(graph, version.datapackage_url)
    graph.add((node, DCAT.accessURL, url))
    graph.add((node, DCAT.downloadURL, url))
    media_type, file_type = MEDIA_TYPES["json"]
    graph.add((node, DCTERMS.format, _typed(graph, FILE_TYPE_BASE + file_type, DCTERMS.MediaTypeOrExtent)))
    graph.add((node, DCAT.mediaType, _typed(graph, IANA_MEDIA_TYPES + media_type, DCTERMS.MediaType)))
    graph.add((node, DCTERMS.license, licence))
    graph.add((node, DCTERMS.issued, Literal(version.issued)))
    spec = _typed(graph, FRICTIONLESS_DATA_PACKAGE, DCTERMS.Standard)
    graph.add((spec, DCTERMS.title, Literal("Frictionless Data Package", lang="en")))
    graph.add((node, DCTERMS.conformsTo, spec))
    return node


def _distributions(graph: Graph, version: VersionDescription, licence: URIRef) -> list[URIRef]:
    nodes = [_package_distribution(graph, version, licence)]
    for table in version.tables:
        formats = [fmt for fmt in DISTRIBUTION_FORMATS if fmt in table.downloads]
        nodes.extend(_distribution(graph, version, table, fmt, licence) for fmt in formats)
    return nodes


def _landing_pages(graph: Graph, node: URIRef, pages: dict[str, str]) -> None:
    for lang, url in pages.items():
        page = _typed(graph, url, FOAF.Document)
        graph.add((page, DCTERMS.language, _typed(graph, _language_uri(lang), DCTERMS.LinguisticSystem)))
        graph.add((node, DCAT.landingPage, page))


#: ISO 639-1 -> EU "language" authority codes, for the languages of the archive's pages.
_EU_LANGUAGES = {"vi": "VIE", "en": "ENG", "fr": "FRA"}


def _language_uri(lang: str) -> str:
    code = _EU_LANGUAGES.get(lang.split("-")[0].lower(), "MUL")
    return f"http://publications.europa.eu/resource/authority/language/{code}"


def _describe_common(graph: Graph, node: URIRef, dataset: DatasetDescription, licence: URIRef) -> None:
    """The properties a dataset and each of its versions share."""
    _texts(graph, node, DCTERMS.title, dataset.title)
    _texts(graph, node, DCTERMS.description, dataset.description or dataset.title)
    graph.add((node, DCTERMS.publisher, _agent(graph, dataset.publisher)))
    graph.add((node, DCTERMS.license, licence))
    for code in dataset.themes:
        if code in THEMES:
            theme = _concept(graph, THEME_BASE + code, SKOS.Concept, THEMES[code], THEME_SCHEME)
            graph.add((node, DCAT.theme, theme))
    _texts(graph, node, DCAT.keyword, dataset.keywords)
    if dataset.temporal_start or dataset.temporal_end:
        period = _typed(graph, f"{dataset.uri}#period", DCTERMS.PeriodOfTime)
        if dataset.temporal_start:
            graph.add((period, DCAT.startDate, Literal(dataset.temporal_start, datatype=XSD.date)))
        if dataset.temporal_end:
            graph.add((period, DCAT.endDate, Literal(dataset.temporal_end, datatype=XSD.date)))
        graph.add((node, DCTERMS.temporal, period))
    for uri, name in dataset.places:
        place = _typed(graph, uri, DCTERMS.Location)
        if name:
            graph.add((place, SKOS.prefLabel, Literal(name, lang="vi")))
        graph.add((node, DCTERMS.spatial, place))
    if dataset.contact_name or dataset.contact_email:
        contact = _typed(graph, f"{dataset.uri}#contact", VCARD.Kind, VCARD.Organization)
        graph.add((contact, VCARD.fn, Literal(dataset.contact_name or dataset.contact_email)))
        if dataset.contact_email:
            graph.add((contact, VCARD.hasEmail, URIRef(f"mailto:{dataset.contact_email}")))
        graph.add((node, DCAT.contactPoint, contact))


def add_dataset(graph: Graph, dataset: DatasetDescription) -> URIRef:
    """Add one dataset, its current distributions and its versions to *graph*; return its node."""
    node = _typed(graph, dataset.uri, DCAT.Dataset)
    licence = _licence(graph, dataset.license_uri)
    _describe_common(graph, node, dataset, licence)
    labels = FREQUENCIES.get(dataset.frequency)
    if labels is not None:
        uri = FREQUENCY_BASE + dataset.frequency
        frequency = _concept(graph, uri, DCTERMS.Frequency, labels, FREQUENCY_SCHEME)
        graph.add((node, DCTERMS.accrualPeriodicity, frequency))
    graph.add((node, DCTERMS.identifier, Literal(dataset.uri)))
    graph.add((node, DCTERMS.issued, Literal(dataset.versions[0].issued)))
    graph.add((node, DCTERMS.modified, Literal(dataset.modified)))
    _landing_pages(graph, node, dataset.landing_pages)
    previous = None
    for version in dataset.versions:
        vnode = _typed(graph, version.uri, DCAT.Dataset)
        _describe_common(graph, vnode, dataset, licence)
        graph.add((vnode, DCAT.version, Literal(str(version.number))))
        graph.add((vnode, DCTERMS.issued, Literal(version.issued)))
        _texts(graph, vnode, ADMS.versionNotes, version.notes)
        graph.add((vnode, DCAT.isVersionOf, node))
        graph.add((node, DCAT.hasVersion, vnode))
        _landing_pages(graph, vnode, version.landing_pages)
        for distribution in _distributions(graph, version, licence):
            graph.add((vnode, DCAT.distribution, distribution))
        if previous is not None:
            graph.add((vnode, DCAT.previousVersion, previous))
        previous = vnode
    current = dataset.versions[-1]
    graph.add((node, DCAT.version, Literal(str(current.number))))
    graph.add((node, DCAT.hasCurrentVersion, URIRef(current.uri)))
    _texts(graph, node, ADMS.versionNotes, current.notes)
    if len(dataset.versions) > 1:
        graph.add((node, DCAT.previousVersion, URIRef(dataset.versions[-2].uri)))
    for distribution in _distributions(graph, current, licence):
        graph.add((node, DCAT.distribution, distribution))
    return node


def build_catalog(catalog: CatalogDescription) -> Graph:
    """The DCAT-AP 3.0 graph of the catalogue and every dataset in it."""
    graph = Graph(bind_namespaces="none")
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    node = _typed(graph, catalog.uri, DCAT.Catalog)
    _texts(graph, node, DCTERMS.title, catalog.title)
    _texts(graph, node, DCTERMS.description, catalog.description)
    graph.add((node, DCTERMS.publisher, _agent(graph, catalog.publisher)))
    graph.add((node, DCTERMS.license, _licence(graph, catalog.license_uri)))
    graph.add((node, FOAF.homepage, _typed(graph, catalog.homepage, FOAF.Document)))
    for lang in ("vi", "en"):
        graph.add((node, DCTERMS.language, _typed(graph, _language_uri(lang), DCTERMS.LinguisticSystem)))
    scheme = _typed(graph, THEME_SCHEME, SKOS.ConceptScheme)
    graph.add((scheme, DCTERMS.title, Literal("Data theme", lang="en")))
    graph.add((scheme, DCTERMS.title, Literal("Chủ đề dữ liệu", lang="vi")))
    graph.add((node, DCAT.themeTaxonomy, scheme))
    if catalog.modified is not None:
        graph.add((node, DCTERMS.modified, Literal(catalog.modified)))
    graph.add((node, DCTERMS.conformsTo, _typed(graph, DCAT_AP, DCTERMS.Standard)))
    for dataset in catalog.datasets:
        graph.add((node, DCAT.dataset, add_dataset(graph, dataset)))
    return graph


def to_turtle(graph: Graph) -> str:
    """The graph as Turtle."""
    return graph.serialize(format="turtle")


#: The compact JSON-LD context: the prefixes only, so every term keeps its usual CURIE.
JSONLD_CONTEXT: dict[str, str] = dict(PREFIXES)


def to_jsonld(graph: Graph) -> str:
    """The graph as JSON-LD with the compact @context (inline: no remote context to fetch), in a stable
    order so that the same catalogue gives the same bytes (and ETag) in every process."""
    text = graph.serialize(format="json-ld", context=JSONLD_CONTEXT, auto_compact=True)
    return json.dumps(_ordered(json.loads(text)), ensure_ascii=False, indent=1, sort_keys=True)


def _ordered(value):
    """Sort the node lists and value sets of compacted JSON-LD (none of them is an ordered @list)."""
    if isinstance(value, dict):
        return {key: _ordered(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [_ordered(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, ensure_ascii=False))
    return value
