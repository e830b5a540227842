"""The OAI-PMH repository: which items exist, their sets and datestamps, resumption tokens, and the
answer to each of the six verbs.

Items are the records an anonymous visitor may see (archive.records.services.public_records). The
ledger in archive.oai.models remembers every item ever exposed, so a record that leaves public view for
any reason (withdrawn, made private, consent withdrawn, out of season, deleted) is reported with
``status="deleted"`` from then on. :func:`sync_items` brings the ledger up to date at the start of every
request; it flushes, the view commits.

Datestamps are the record's ``updated_at`` (UTC, whole seconds), except when a change did not touch
the record row (it became visible or hidden through a protocol, or its sets changed through the
vocabularies): then the datestamp is the moment the repository noticed, which is never earlier than
any harvest that could have seen the old state.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from lxml import etree
from sqlalchemy import Select, and_, exists, func, or_, select

from archive.core.extensions import db
from archive.core.types import utcnow
from archive.oai.models import OaiItem, OaiItemSet, OaiSyncState
from archive.records.models import HeritageRecord, record_collection, record_ethnic_group, record_place
from archive.records.services import _eager, describe, public_records
from archive.vocab.models import Collection, EthnicGroup, Place
from metadata import oai
from metadata.categories import CATEGORIES
from metadata.dublin_core import OAI_DC, OAI_DC_SCHEMA, dataset_to_oai_dc, to_oai_dc
from metadata.languages import LangString, from_mapping

logger = logging.getLogger(__name__)

_EMAIL = re.compile(r"^\S+@(\S+\.)+\S+$")  # the protocol's emailType

FORMATS = {"oai_dc": oai.MetadataFormat("oai_dc", OAI_DC_SCHEMA, OAI_DC)}
TOKEN_SALT = "archive.oai.resumption"
DEFAULT_PAGE_SIZE = 100
DEFAULT_TOKEN_LIFETIME = 24 * 3600  # seconds

#: The four set families: spec prefix -> (Vietnamese name, English name).
FAMILIES = {
    "group": ("Dân tộc", "Ethnic groups"),
    "province": ("Tỉnh, thành phố", "Provinces"),
    "category": ("Loại hình di sản", "Heritage categories"),
    "collection": ("Bộ sưu tập", "Collections"),
}
#: The set of the open datasets (a top-level set of its own, beside the four families of records).
DATASETS_SET = "datasets"
DATASET_PREFIX = "dataset-"
PROVINCE_SYSTEMS = {
    "2025": {"vi": "Tỉnh, thành phố từ ngày 1/7/2025", "en": "Province since 1 July 2025"},
    "pre2025": {"vi": "Tỉnh, thành phố trước ngày 1/7/2025", "en": "Province before 1 July 2025"},
}


def _seconds(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(microsecond=0)


def page_size() -> int:
    """Items per page of ListIdentifiers and ListRecords (config OAI_PAGE_SIZE)."""
    return max(1, int(current_app.config.get("OAI_PAGE_SIZE", DEFAULT_PAGE_SIZE)))


def token_lifetime() -> int:
    """Seconds a resumption token stays valid (config OAI_TOKEN_LIFETIME)."""
    return int(current_app.config.get("OAI_TOKEN_LIFETIME", DEFAULT_TOKEN_LIFETIME))


# --- identifiers ----------------------------------------------------------------------------------


def base_url() -> str:
    """The repository's baseURL."""
    return current_app.config["BASE_URL"].rstrip("/") + "/oai"


def repository_identifier() -> str:
    """The host part of OAI identifiers, from BASE_URL."""
    return urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"


def oai_identifier(public_id: str) -> str:
    """``oai:<host>:<public id>``."""
    return f"oai:{repository_identifier()}:{public_id}"


def public_id_of(identifier: str) -> str | None:
    """The record's public id in an OAI identifier of this repository (None for any other)."""
    prefix = f"oai:{repository_identifier()}:"
    return (
        identifier[len(prefix) :] if identifier.startswith(prefix) and len(identifier) > len(prefix) else None
    )


# --- sets -----------------------------------------------------------------------------------------


def _province_codes() -> dict[int, str]:
    rows = db.session.execute(select(Place.id, Place.code).where(Place.level == "province"))
    return {place_id: code for place_id, code in rows}


def record_sets(visible: Select) -> dict[int, set[str]]:
    """The leaf set specs of every record of *visible*, read in a few queries."""
    from archive.browse.services import _old_province_of_places  # the province rule of the browse pages

    ids = visible.with_only_columns(HeritageRecord.id)
    sets: dict[int, set[str]] = {}
    for record_id, category in db.session.execute(
        select(HeritageRecord.id, HeritageRecord.category).where(HeritageRecord.id.in_(ids))
    ):
        sets.setdefault(record_id, set()).add(f"category:{category}")
    for record_id, slug in db.session.execute(
        select(record_ethnic_group.c.record_id, EthnicGroup.slug)
        .join(EthnicGroup, EthnicGroup.id == record_ethnic_group.c.ethnic_group_id)
        .where(record_ethnic_group.c.record_id.in_(ids))
    ):
        sets.setdefault(record_id, set()).add(f"group:{slug}")
    for record_id, slug in db.session.execute(
        select(record_collection.c.record_id, Collection.slug)
        .join(Collection, Collection.id == record_collection.c.collection_id)
        .where(record_collection.c.record_id.in_(ids))
    ):
        sets.setdefault(record_id, set()).add(f"collection:{slug}")
    codes = _province_codes()
    located = _old_province_of_places().subquery()
    current = select(record_place.c.record_id, Place.current_province_id).join(
        Place, Place.id == record_place.c.place_id
    )
    old = select(record_place.c.record_id, located.c.province_id).join(
        located, located.c.place_id == record_place.c.place_id
    )
    for stmt in (current, old):
        for record_id, province_id in db.session.execute(stmt.where(record_place.c.record_id.in_(ids))):
            if province_id in codes:
                sets.setdefault(record_id, set()).add(f"province:{codes[province_id]}")
    return sets


def all_sets() -> list[oai.SetInfo]:
    """Every set of the repository: the four families, then their members."""
    out = [
        oai.SetInfo(family, vi, [LangString(vi, "vi"), LangString(en, "en")])
        for family, (vi, en) in FAMILIES.items()
    ]
    for group in db.session.scalars(select(EthnicGroup).order_by(EthnicGroup.slug)):
        out.append(oai.SetInfo(f"group:{group.slug}", group.name_vi, group.labels, group.description_values))
    provinces = db.session.scalars(
        select(Place).where(Place.level == "province").order_by(Place.system, Place.code)
    )
    for place in provinces:
        system = PROVINCE_SYSTEMS.get(place.system, {})
        out.append(
            oai.SetInfo(
                f"province:{place.code}",
                place.full_name or place.name,
                [LangString(place.full_name or place.name, "vi")],
                from_mapping(system),
            )
        )
    for code, category in CATEGORIES.items():
        out.append(
            oai.SetInfo(
                f"category:{code}",
                category.labels.get("vi", code),
                category.label_values,
                category.domain_values,
            )
        )
    out.append(
        oai.SetInfo(
            DATASETS_SET,
            "Dữ liệu mở",
            [LangString("Dữ liệu mở", "vi"), LangString("Open datasets", "en")],
            [
                LangString("Các bộ dữ liệu mở của Chương trình và của kho lưu trữ (kiểu Dataset).", "vi"),
                LangString("The programme's and the archive's open datasets (type Dataset).", "en"),
            ],
        )
    )
    for collection in db.session.scalars(select(Collection).order_by(Collection.slug)):
        titles = collection.title_values
        name = next(
            (t.value for t in titles if t.lang == "vi"), titles[0].value if titles else collection.slug
        )
        out.append(oai.SetInfo(f"collection:{collection.slug}", name, titles, collection.description_values))
    return out


# --- the ledger -----------------------------------------------------------------------------------


def _set_specs(item: OaiItem, specs: set[str]) -> None:
    """Make the item's set rows say *specs*, touching only the rows that differ."""
    current = {row.spec for row in item.set_rows}
    if current == specs:
        return
    item.set_rows = [row for row in item.set_rows if row.spec in specs] + [
        OaiItemSet(spec=spec) for spec in sorted(specs - current)
    ]


def sync_items(now: dt.datetime | None = None) -> dt.datetime:
    """Bring the ledger in line with the records visitors may see now; returns the time it used."""
    now = _seconds(now or utcnow())
    state = db.session.get(OaiSyncState, 1)
    last_sync = state.synced_at if state is not None else None
    visible = public_records()
    rows = db.session.execute(
        visible.with_only_columns(HeritageRecord.id, HeritageRecord.public_id, HeritageRecord.updated_at)
    ).all()
    sets = record_sets(visible)
    for _dataset_id, public_id, updated_at in _dataset_rows():
        rows.append((None, public_id, updated_at))
        sets[public_id] = {DATASETS_SET}
    items = {item.public_id: item for item in db.session.scalars(select(OaiItem))}
    shown: set[str] = set()
    for record_id, public_id, updated_at in rows:
        shown.add(public_id)
        updated = _seconds(updated_at)
        specs = sets.get(record_id if record_id is not None else public_id, set())
        item = items.get(public_id)
        if item is None:
            # A new item: its edit time, unless it became visible without an edit since the last look.
            stamp = updated if last_sync is None or updated >= last_sync else now
            item = OaiItem(public_id=public_id, record_id=record_id, deleted=False, datestamp=stamp)
            item.set_rows = [OaiItemSet(spec=s) for s in sorted(specs)]
            db.session.add(item)
            continue
        stamp = item.datestamp
        if item.deleted:
            stamp = max(updated, now)
        elif updated > stamp:
            stamp = updated
        elif set(item.set_specs) != specs:
            stamp = max(now, stamp)
        _set_specs(item, specs)
        item.deleted, item.record_id, item.datestamp = False, record_id, stamp
    for public_id, item in items.items():
        if public_id not in shown and not item.deleted:
            item.deleted, item.datestamp = True, max(now, item.datestamp)
            logger.info("OAI item %s is now reported deleted", public_id)
    if state is None:
        db.session.add(OaiSyncState(id=1, synced_at=now))
    else:
        state.synced_at = now
    db.session.flush()
    return now


def _dataset_rows() -> list[tuple[int, str, dt.datetime]]:
    """(id, OAI public id, last change) of every public dataset."""
    from archive.datasets.services import public_datasets

    rows = []
    for dataset in public_datasets():
        changed = max(dataset.latest_version.published_at, dataset.updated_at)
        rows.append((dataset.id, f"{DATASET_PREFIX}{dataset.id}", changed))
    return rows


def earliest_datestamp(default: dt.datetime) -> dt.datetime:
    """The oldest datestamp in the repository (deleted items included)."""
    return db.session.scalar(select(func.min(OaiItem.datestamp))) or default


def find_item(identifier: str) -> OaiItem | None:
    """The item an OAI identifier names (visible or deleted), or None."""
    public_id = public_id_of(identifier)
    if public_id is None:
        return None
    return db.session.scalar(select(OaiItem).where(OaiItem.public_id == public_id))


@dataclass(frozen=True)
class Selection:
    """What a list request asks for; ``until`` is fixed when the list starts."""

    verb: str
    prefix: str
    set_spec: str | None
    from_: dt.datetime | None
    until: dt.datetime


def _selected(selection: Selection) -> Select:
    stmt = select(OaiItem).where(OaiItem.datestamp <= selection.until)
    if selection.from_ is not None:
        stmt = stmt.where(OaiItem.datestamp >= selection.from_)
    if selection.set_spec:
        spec = selection.set_spec
        stmt = stmt.where(
            exists().where(
                OaiItemSet.item_id == OaiItem.id,
                or_(OaiItemSet.spec == spec, OaiItemSet.spec.startswith(spec + ":", autoescape=True)),
            )
        )
    return stmt


def count_items(selection: Selection) -> int:
    """How many items a list selects."""
    return db.session.scalar(select(func.count()).select_from(_selected(selection).subquery())) or 0


def page_of_items(
    selection: Selection, after: tuple[dt.datetime, str] | None, limit: int
) -> tuple[list[OaiItem], bool]:
    """Up to *limit* items after (datestamp, public id) *after*, in (datestamp, public id) order, and
    whether more follow."""
    stmt = _selected(selection)
    if after is not None:
        stamp, public_id = after
        stmt = stmt.where(
            or_(OaiItem.datestamp > stamp, and_(OaiItem.datestamp == stamp, OaiItem.public_id > public_id))
        )
    rows = list(db.session.scalars(stmt.order_by(OaiItem.datestamp, OaiItem.public_id).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


# --- resumption tokens ----------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def _iso(value: dt.datetime | None) -> str | None:
    return oai.format_datestamp(value) if value is not None else None


def _from_iso(value: str | None) -> dt.datetime | None:
    return oai.parse_datestamp(value)[0] if value else None


def encode_token(selection: Selection, last: OaiItem, cursor: int, total: int) -> str:
    """A signed, stateless token for the next page of a list."""
    return _serializer().dumps(
        {
            "v": selection.verb,
            "p": selection.prefix,
            "s": selection.set_spec,
            "f": _iso(selection.from_),
            "u": _iso(selection.until),
            "d": _iso(last.datestamp),
            "i": last.public_id,
            "c": cursor,
            "n": total,
        }
    )


def decode_token(token: str, verb: str) -> tuple[Selection, tuple[dt.datetime, str], int, int]:
    """The selection, last item seen, cursor and list size of a token; raises OAIError."""
    try:
        data = _serializer().loads(token, max_age=token_lifetime())
    except SignatureExpired:
        raise oai.OAIError("badResumptionToken", "The resumptionToken has expired.") from None
    except BadSignature:
        raise oai.OAIError("badResumptionToken", "The resumptionToken is not valid.") from None
    try:
        if data["v"] != verb:
            raise oai.OAIError("badResumptionToken", f"The resumptionToken is not one of {verb}.")
        selection = Selection(verb, data["p"], data["s"], _from_iso(data["f"]), _from_iso(data["u"]))
        after = (_from_iso(data["d"]), str(data["i"]))
        return selection, after, int(data["c"]), int(data["n"])  # type: ignore[return-value]
    except (KeyError, TypeError, ValueError):
        raise oai.OAIError("badResumptionToken", "The resumptionToken is not valid.") from None


# --- metadata -------------------------------------------------------------------------------------


def header_of(item: OaiItem) -> oai.Header:
    """The protocol header of an item."""
    return oai.Header(oai_identifier(item.public_id), item.datestamp, tuple(item.set_specs), item.deleted)


def metadata_of(items: list[OaiItem]) -> dict[str, etree._Element]:
    """The oai_dc element of every visible item, keyed by public id (records loaded in one go)."""
    ids = [item.public_id for item in items if not item.deleted]
    if not ids:
        return {}
    records = db.session.scalars(_eager(select(HeritageRecord).where(HeritageRecord.public_id.in_(ids))))
    found = {record.public_id: to_oai_dc(describe(record)) for record in records}
    dataset_ids = [i for i in ids if i.startswith(DATASET_PREFIX)]
    if dataset_ids:
        from archive.datasets.services import dublin_core_of, public_datasets

        for dataset in public_datasets():
            public_id = f"{DATASET_PREFIX}{dataset.id}"
            if public_id in dataset_ids:
                found[public_id] = dataset_to_oai_dc(dublin_core_of(dataset))
    return found


def admin_email() -> str:
    """The repository's contact: config OAI_ADMIN_EMAIL, else MAIL_FROM when the protocol accepts it
    (a domain with a dot), else an address at the repository's host."""
    for key in ("OAI_ADMIN_EMAIL", "MAIL_FROM"):
        value = current_app.config.get(key) or ""
        if _EMAIL.match(value):
            return value
    return f"archive@{repository_identifier()}"


# --- the verbs ------------------------------------------------------------------------------------


def respond(params: dict[str, list[str]]) -> bytes:
    """Answer one OAI-PMH request (arguments as lists of values) with the response document."""
    now = sync_items()
    echo = {k: v[0] for k, v in params.items() if v}
    try:
        args = oai.check_arguments(params)
        root = oai.envelope(base_url(), now, echo)
        _VERBS[args.verb](root, args, now)
    except oai.OAIError as error:
        root = oai.error_document(base_url(), now, [error], echo)
    return oai.serialise(root)


def _identify(root: etree._Element, args: oai.Arguments, now: dt.datetime) -> None:
    email = admin_email()
    oai.identify(
        root,
        name=current_app.config.get("PUBLISHER") or "Heritage archive",
        base_url=base_url(),
        admin_emails=[email],
        earliest=earliest_datestamp(now),
        repository_identifier=repository_identifier(),
        sample_identifier=oai_identifier("r0123456789"),
    )


def _list_metadata_formats(root: etree._Element, args: oai.Arguments, now: dt.datetime) -> None:
    identifier = args.values.get("identifier")
    if identifier is not None and find_item(identifier) is None:
        raise oai.OAIError("idDoesNotExist", "No item has this identifier.")
    oai.list_metadata_formats(root, list(FORMATS.values()))


def _list_sets(root: etree._Element, args: oai.Arguments, now: dt.datetime) -> None:
    if "resumptionToken" in args.values:  # every set fits in one answer: no token is ever issued
        raise oai.OAIError("badResumptionToken", "This repository issues no resumptionToken for ListSets.")
    oai.list_sets(root, all_sets())


def _get_record(root: etree._Element, args: oai.Arguments, now: dt.datetime) -> None:
    item = find_item(args.values["identifier"])
    if item is None:
        raise oai.OAIError("idDoesNotExist", "No item has this identifier.")
    prefix = args.values["metadataPrefix"]
    if prefix not in FORMATS:
        raise oai.OAIError("cannotDisseminateFormat", f"'{prefix}' is not a format of this repository.")
    metadata = metadata_of([item])
    node = etree.SubElement(root, f"{{{oai.OAI}}}GetRecord")
    oai.record(node, _header(item, metadata), metadata.get(item.public_id))


def _header(item: OaiItem, metadata: dict[str, etree._Element]) -> oai.Header:
    header = header_of(item)
    if not item.deleted and item.public_id not in metadata:  # the record vanished during the request
        return oai.Header(header.identifier, header.datestamp, header.set_specs, True)
    return header


def _list(root: etree._Element, args: oai.Arguments, now: dt.datetime) -> None:
    verb = args.verb
    if "resumptionToken" in args.values:
        selection, after, cursor, total = decode_token(args.values["resumptionToken"], verb)
    else:
        prefix = args.values["metadataPrefix"]
        if prefix not in FORMATS:
            raise oai.OAIError("cannotDisseminateFormat", f"'{prefix}' is not a format of this repository.")
        until = min(args.until, now) if args.until is not None else now
        selection = Selection(verb, prefix, args.values.get("set"), args.from_, until)
        after, cursor = None, 0
        total = count_items(selection)
    items, more = page_of_items(selection, after, page_size())
    if not items:
        raise oai.OAIError("noRecordsMatch", "No items match the request.")
    node = etree.SubElement(root, f"{{{oai.OAI}}}{verb}")
    if verb == "ListRecords":
        metadata = metadata_of(items)
        for item in items:
            oai.record(node, _header(item, metadata), metadata.get(item.public_id))
    else:
        for item in items:
            oai.header(node, header_of(item))
    if more:
        token = encode_token(selection, items[-1], cursor + len(items), total)
        expiry = now + dt.timedelta(seconds=token_lifetime())
        total = max(total, cursor + len(items) + 1)
        oai.resumption_token(node, oai.Resumption(token, cursor, total, expiry))
    elif after is not None:
        oai.resumption_token(node, oai.Resumption("", cursor, max(total, cursor + len(items))))


_VERBS = {
    "Identify": _identify,
    "ListMetadataFormats": _list_metadata_formats,
    "ListSets": _list_sets,
    "GetRecord": _get_record,
    "ListIdentifiers": _list,
    "ListRecords": _list,
}
