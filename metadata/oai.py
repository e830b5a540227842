"""OAI-PMH 2.0 protocol pieces that need no application: argument checking, datestamps, and the XML of
every response (the envelope, Identify, formats, sets, headers, records, errors).

The caller (archive.oai.service) decides *what* to answer; this module only says it in the protocol's
words. Every document it builds validates against the OAI-PMH 2.0 schema (``OAI-PMH.xsd``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from lxml import etree

from metadata.dublin_core import DC, OAI_DC, OAI_DC_SCHEMA, XML_NS, XSI
from metadata.languages import LangString

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_IDENTIFIER = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_IDENTIFIER_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"

#: Per verb: required arguments, optional arguments, and the exclusive argument (None: none).
VERBS: dict[str, tuple[frozenset[str], frozenset[str], str | None]] = {
    "Identify": (frozenset(), frozenset(), None),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"}), None),
    "ListSets": (frozenset(), frozenset(), "resumptionToken"),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset(), None),
    "ListIdentifiers": (
        frozenset({"metadataPrefix"}),
        frozenset({"from", "until", "set"}),
        "resumptionToken",
    ),
    "ListRecords": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}), "resumptionToken"),
}

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_PREFIX = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+$")
_SET_SPEC = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*$")


class OAIError(Exception):
    """An OAI-PMH error condition: its protocol code and a readable message."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Arguments:
    """A checked request: the verb and its arguments, with from/until parsed (UTC, inclusive bounds)."""

    verb: str
    values: dict[str, str]
    from_: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclass(frozen=True)
class Header:
    """The header of one item: identifier, datestamp (UTC), set specs, and whether it is deleted."""

    identifier: str
    datestamp: dt.datetime
    set_specs: Sequence[str] = ()
    deleted: bool = False


@dataclass(frozen=True)
class MetadataFormat:
    """A metadata format the repository disseminates."""

    prefix: str
    schema: str
    namespace: str


@dataclass(frozen=True)
class SetInfo:
    """A set: its spec, its name, and a description (titles and descriptions in several languages)."""

    spec: str
    name: str
    titles: list[LangString] = field(default_factory=list)
    descriptions: list[LangString] = field(default_factory=list)


@dataclass(frozen=True)
class Resumption:
    """A resumptionToken element: the token (empty on the last page), cursor, size and expiry."""

    token: str
    cursor: int
    complete_list_size: int
    expiration: dt.datetime | None = None


# --- datestamps -----------------------------------------------------------------------------------


def format_datestamp(value: dt.datetime) -> str:
    """A UTC datestamp at seconds granularity: ``2026-12-02T07:30:00Z``."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datestamp(text: str, upper: bool = False) -> tuple[dt.datetime, str]:
    """Parse a from/until value in either granularity; a day as an upper bound means its last second.

    Returns the UTC datetime and the granularity ('day' or 'seconds'); raises ValueError otherwise."""
    if _DAY.match(text):
        day = dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.UTC)
        return (day + dt.timedelta(days=1, seconds=-1) if upper else day), "day"
    if _SECONDS.match(text):
        return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC), "seconds"
    raise ValueError(text)


# --- arguments ------------------------------------------------------------------------------------


def check_arguments(params: Mapping[str, Sequence[str]]) -> Arguments:
    """Check a request's arguments against the protocol; raises OAIError (badVerb, badArgument)."""
    verbs = list(params.get("verb", []))
    if not verbs:
        raise OAIError("badVerb", "The verb argument is missing.")
    if len(verbs) > 1:
        raise OAIError("badVerb", "The verb argument is repeated.")
    verb = verbs[0]
    if verb not in VERBS:
        raise OAIError("badVerb", f"'{verb}' is not an OAI-PMH verb.")
    required, optional, exclusive = VERBS[verb]
    values: dict[str, str] = {}
    for name, given in params.items():
        if name == "verb":
            continue
        if len(given) > 1:
            raise OAIError("badArgument", f"The argument '{name}' is repeated.")
        if name not in required | optional | ({exclusive} if exclusive else set()):
            raise OAIError("badArgument", f"'{name}' is not an argument of {verb}.")
        if not given[0]:
            raise OAIError("badArgument", f"The argument '{name}' is empty.")
        values[name] = given[0]
    if exclusive and exclusive in values:
        if len(values) > 1:
            raise OAIError("badArgument", f"'{exclusive}' is an exclusive argument: give it alone.")
        return Arguments(verb, values)
    missing = sorted(required - values.keys())
    if missing:
        raise OAIError("badArgument", f"{verb} needs the argument(s): {', '.join(missing)}.")
    if "metadataPrefix" in values and not _PREFIX.match(values["metadataPrefix"]):
        raise OAIError("badArgument", "The metadataPrefix has characters the protocol does not allow.")
    if "set" in values and not _SET_SPEC.match(values["set"]):
        raise OAIError("badArgument", "The set is not a valid setSpec.")
    bounds: dict[str, tuple[dt.datetime, str]] = {}
    for name in ("from", "until"):
        if name in values:
            try:
                bounds[name] = parse_datestamp(values[name], upper=name == "until")
            except ValueError:
                raise OAIError(
                    "badArgument", f"'{name}' must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC)."
                ) from None
    if len(bounds) == 2:
        if bounds["from"][1] != bounds["until"][1]:
            raise OAIError("badArgument", "'from' and 'until' must have the same granularity.")
        if bounds["from"][0] > bounds["until"][0]:
            raise OAIError("badArgument", "'from' is later than 'until'.")
    return Arguments(
        verb,
        values,
        from_=bounds["from"][0] if "from" in bounds else None,
        until=bounds["until"][0] if "until" in bounds else None,
    )


# --- documents ------------------------------------------------------------------------------------


def _q(name: str) -> str:
    return f"{{{OAI}}}{name}"


def _sub(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
    node = etree.SubElement(parent, _q(name), attrs)
    if text is not None:
        node.text = text
    return node


def envelope(
    base_url: str, response_date: dt.datetime, request_args: Mapping[str, str] | None
) -> etree._Element:
    """The OAI-PMH root with responseDate and request; *request_args* None omits the attributes (as
    for badVerb and badArgument)."""
    root = etree.Element(_q("OAI-PMH"), nsmap={None: OAI, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{OAI} {OAI_SCHEMA}")
    _sub(root, "responseDate", format_datestamp(response_date))
    _sub(root, "request", base_url, **dict(request_args or {}))
    return root


def error_document(
    base_url: str, response_date: dt.datetime, errors: Sequence[OAIError], request_args: Mapping[str, str]
) -> etree._Element:
    """An error response; the request's attributes are echoed except on badVerb and badArgument."""
    echo = None if any(e.code in ("badVerb", "badArgument") for e in errors) else request_args
    root = envelope(base_url, response_date, echo)
    for error in errors:
        _sub(root, "error", error.message, code=error.code)
    return root


def identify(
    root: etree._Element,
    *,
    name: str,
    base_url: str,
    admin_emails: Sequence[str],
    earliest: dt.datetime,
    repository_identifier: str,
    sample_identifier: str,
) -> None:
    """Add the Identify answer (deletedRecord persistent, seconds granularity, oai-identifier)."""
    node = _sub(root, "Identify")
    _sub(node, "repositoryName", name)
    _sub(node, "baseURL", base_url)
    _sub(node, "protocolVersion", "2.0")
    for email in admin_emails:
        _sub(node, "adminEmail", email)
    _sub(node, "earliestDatestamp", format_datestamp(earliest))
    _sub(node, "deletedRecord", "persistent")
    _sub(node, "granularity", GRANULARITY)
    description = _sub(node, "description")
    ident = etree.SubElement(description, f"{{{OAI_IDENTIFIER}}}oai-identifier", nsmap={None: OAI_IDENTIFIER})
    ident.set(f"{{{XSI}}}schemaLocation", f"{OAI_IDENTIFIER} {OAI_IDENTIFIER_SCHEMA}")
    for tag, text in (
        ("scheme", "oai"),
        ("repositoryIdentifier", repository_identifier),
        ("delimiter", ":"),
        ("sampleIdentifier", sample_identifier),
    ):
        etree.SubElement(ident, f"{{{OAI_IDENTIFIER}}}{tag}").text = text


def list_metadata_formats(root: etree._Element, formats: Sequence[MetadataFormat]) -> None:
    """Add the ListMetadataFormats answer."""
    node = _sub(root, "ListMetadataFormats")
    for fmt in formats:
        entry = _sub(node, "metadataFormat")
        _sub(entry, "metadataPrefix", fmt.prefix)
        _sub(entry, "schema", fmt.schema)
        _sub(entry, "metadataNamespace", fmt.namespace)


def _set_description(info: SetInfo) -> etree._Element:
    dc = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC, "xsi": XSI})
    dc.set(f"{{{XSI}}}schemaLocation", f"{OAI_DC} {OAI_DC_SCHEMA}")
    for element, values in (("title", info.titles), ("description", info.descriptions)):
        for value in values:
            node = etree.SubElement(dc, f"{{{DC}}}{element}")
            node.text = value.value
            node.set(f"{{{XML_NS}}}lang", value.lang)
    return dc


def list_sets(root: etree._Element, sets: Sequence[SetInfo]) -> None:
    """Add the ListSets answer: every set with its name and an oai_dc description."""
    node = _sub(root, "ListSets")
    for info in sets:
        entry = _sub(node, "set")
        _sub(entry, "setSpec", info.spec)
        _sub(entry, "setName", info.name)
        if info.titles or info.descriptions:
            _sub(entry, "setDescription").append(_set_description(info))


def header(parent: etree._Element, item: Header) -> etree._Element:
    """Add one item header (status="deleted" for a deleted item)."""
    node = _sub(parent, "header")
    if item.deleted:
        node.set("status", "deleted")
    _sub(node, "identifier", item.identifier)
    _sub(node, "datestamp", format_datestamp(item.datestamp))
    for spec in item.set_specs:
        _sub(node, "setSpec", spec)
    return node


def record(parent: etree._Element, item: Header, metadata: etree._Element | None) -> None:
    """Add one record: its header and, unless it is deleted, its metadata."""
    node = _sub(parent, "record")
    header(node, item)
    if not item.deleted and metadata is not None:
        _sub(node, "metadata").append(metadata)


def resumption_token(parent: etree._Element, resumption: Resumption) -> None:
    """Add a resumptionToken element (empty text on the last page of a list)."""
    attrs = {"completeListSize": str(resumption.complete_list_size), "cursor": str(resumption.cursor)}
    if resumption.expiration is not None and resumption.token:
        attrs["expirationDate"] = format_datestamp(resumption.expiration)
    node = _sub(parent, "resumptionToken", **attrs)
    node.text = resumption.token


def serialise(root: etree._Element) -> bytes:
    """The response document, UTF-8 with an XML declaration."""
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
