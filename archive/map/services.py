"""The festival map's data: visible records counted per province, the cached base map, and Viet Nam's
archipelagos.

Counting rule (documented on the page too):

* On the map of the 34 provinces in force since 1 July 2025, a record counts for the province every
  unit it is catalogued under lies in today (``Place.current_province``): a commune or district counts
  for its province, and an old unit for the province it went into.
* On the map of the 63 earlier provinces, a unit of that system counts for its own province; a unit of
  the 2025 system is traced back through ``PlaceSuccession``: a commune to the old communes it was
  formed from, a province to the former province whose name it kept (each 2025 province is named
  after one of the provinces merged into it).

A record counts once per province, however many of its units lie there. Only records any visitor may
see are counted (:func:`archive.records.services.public_records`), so the page is the same for everyone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from archive.core.extensions import db
from archive.map.geometry import (
    DEFAULT_SOURCE,
    FRAME,
    BaseMap,
    Frame,
    LabelPlacement,
    build_base_map,
    place_labels,
    text_box,
)
from archive.records.models import HeritageRecord, record_ethnic_group, record_place
from archive.records.services import public_records
from archive.vocab.models import EthnicGroup, Place, PlaceSuccession
from metadata.categories import CATEGORIES
from metadata.languages import LangString, from_mapping

logger = logging.getLogger(__name__)

#: The two administrative systems a visitor can switch between; the first is the default.
SYSTEMS = ("2025", "pre2025")
#: How many records each province lists in the table next to the map.
TOP_RECORDS = 3
#: Bump when the base map's geometry code changes, so stale cache files are not reused.
BASE_MAP_VERSION = 1
SLUG = re.compile(r"[a-z0-9-]{1,40}")


class MapFilterError(ValueError):
    """A filter of the map the archive does not know: a code and the offending value."""

    def __init__(self, code: str, value: str):
        super().__init__(code)
        self.code = code
        self.value = value if len(value) <= 60 else value[:60] + "…"


@dataclass(frozen=True)
class MapFilters:
    """The validated filters of one map request."""

    system: str = "2025"
    category: str | None = None
    group: EthnicGroup | None = None

    @property
    def narrowed(self) -> bool:
        """True when a category or an ethnic group narrows the records."""
        return self.category is not None or self.group is not None

    def query_args(self) -> dict[str, str]:
        """The category and group filters as query parameters of the map (the system aside)."""
        args = {}
        if self.category is not None:
            args["category"] = self.category
        if self.group is not None:
            args["group"] = self.group.slug
        return args


def parse_filters(system: str | None, category: str | None, group: str | None) -> MapFilters:
    """Check the map's query parameters (empty values mean "all"); raises MapFilterError."""
    system = (system or "").strip() or SYSTEMS[0]
    if system not in SYSTEMS:
        raise MapFilterError("unknown_system", system)
    category = (category or "").strip() or None
    if category is not None and category not in CATEGORIES:
        raise MapFilterError("unknown_category", category)
    slug = (group or "").strip() or None
    found = None
    if slug is not None:
        # A slug is short, lower-case ASCII: anything else is refused without asking the database.
        if SLUG.fullmatch(slug):
            found = db.session.scalar(select(EthnicGroup).where(EthnicGroup.slug == slug))
        if found is None:
            raise MapFilterError("unknown_group", slug)
    return MapFilters(system=system, category=category, group=found)


# --- counting -------------------------------------------------------------------------------------


@dataclass
class ProvinceEntry:
    """One province on the map: where it is, how many visible records lie in it, and the first few."""

    place: Place
    count: int = 0
    records: list[HeritageRecord] = field(default_factory=list)


@dataclass
class MapData:
    """Everything the map page shows about records."""

    filters: MapFilters
    provinces: list[ProvinceEntry]  # provinces with at least one record, alphabetical
    records_on_map: int  # distinct records placed in at least one province
    records_visible: int  # every record the filters select (some may have no place)


def _visible_records(filters: MapFilters):
    stmt = public_records()
    if filters.category is not None:
        stmt = stmt.where(HeritageRecord.category == filters.category)
    if filters.group is not None:
        stmt = stmt.where(
            HeritageRecord.id.in_(
                select(record_ethnic_group.c.record_id).where(
                    record_ethnic_group.c.ethnic_group_id == filters.group.id
                )
            )
        )
    return stmt


def _old_provinces_of_new_units(places: list[Place]) -> dict[int, set[int]]:
    """For units of the 2025 system: the ids of the pre-2025 provinces they are traced back to."""
    new_ids = [p.id for p in places if p.system == "2025"]
    if not new_ids:
        return {}
    result: dict[int, set[int]] = {i: set() for i in new_ids}
    provinces = {p.id: p for p in places if p.system == "2025" and p.level == "province"}
    successions = db.session.scalars(
        select(PlaceSuccession)
        .where(PlaceSuccession.new_id.in_(new_ids))
        .options(selectinload(PlaceSuccession.old).selectinload(Place.parent).selectinload(Place.parent))
    )
    for succession in successions:
        old = succession.old
        if succession.new_id in provinces:
            if old.level == "province" and old.name == provinces[succession.new_id].name:
                result[succession.new_id].add(old.id)
        else:
            result[succession.new_id].add(old.province.id)
    return result


def province_counts(filters: MapFilters) -> MapData:
    """Visible records per province of the chosen system, with the first few records of each."""
    visible = _visible_records(filters).subquery()
    rows = db.session.execute(select(visible.c.id, visible.c.category, visible.c.published_at)).all()
    records_visible = len(rows)
    links = db.session.execute(
        select(record_place.c.record_id, record_place.c.place_id).where(
            record_place.c.record_id.in_(select(visible.c.id))
        )
    ).all()
    place_ids = {place_id for _, place_id in links}
    places = {
        p.id: p
        for p in db.session.scalars(
            select(Place)
            .where(Place.id.in_(sorted(place_ids)))
            .options(selectinload(Place.parent).selectinload(Place.parent))
        )
    }
    if filters.system == "2025":
        targets = {
            pid: {p.current_province_id} if p.current_province_id else set() for pid, p in places.items()
        }
    else:
        traced = _old_provinces_of_new_units(list(places.values()))
        targets = {
            pid: ({p.province.id} if p.system == "pre2025" else traced.get(pid, set()))
            for pid, p in places.items()
        }
    by_province: dict[int, set[int]] = {}
    for record_id, place_id in links:
        for province_id in targets.get(place_id, ()):
            by_province.setdefault(province_id, set()).add(record_id)

    provinces = {
        p.id: p
        for p in db.session.scalars(
            select(Place).where(
                Place.id.in_(list(by_province)), Place.level == "province", Place.system == filters.system
            )
        )
    }
    # Festivals first, then the most recently published: what a visitor of a festival map looks for.
    rank = {
        record_id: (
            0 if category == "festival" else 1,
            -(published.timestamp() if published else 0),
            record_id,
        )
        for record_id, category, published in rows
    }
    chosen: list[tuple[Place, int, list[int]]] = []
    for province_id, record_ids in by_province.items():
        province = provinces.get(province_id)
        if province is None or province.latitude is None or province.longitude is None:
            continue
        chosen.append((province, len(record_ids), sorted(record_ids, key=rank.__getitem__)[:TOP_RECORDS]))
    shown = {i for _, _, ids in chosen for i in ids}
    loaded = {
        r.id: r
        for r in db.session.scalars(
            select(HeritageRecord)
            .where(HeritageRecord.id.in_(sorted(shown)))
            .options(selectinload(HeritageRecord.texts))
        )
    }
    entries = [ProvinceEntry(p, count, [loaded[i] for i in ids]) for p, count, ids in chosen]
    entries.sort(key=lambda e: (e.place.name_key, e.place.code))
    placed = set().union(*(by_province[e.place.id] for e in entries)) if entries else set()
    return MapData(filters, entries, len(placed), records_visible)


# --- the base map ---------------------------------------------------------------------------------

_cache: dict[tuple[str, int, int], BaseMap] = {}
_cache_lock = threading.Lock()


def base_map(frame: Frame = FRAME) -> BaseMap | None:
    """The projected base map, built once from the world-atlas TopoJSON and kept in memory and in a
    file under the data directory; None (logged) when the TopoJSON file is missing."""
    source = Path(current_app.config.get("MAP_TOPOJSON") or DEFAULT_SOURCE)
    try:
        stat = source.stat()
    except OSError:
        logger.warning("map: base layer %s not found; the map is drawn without country shapes", source)
        return None
    key = (str(source), stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    with _cache_lock:
        if key in _cache:
            return _cache[key]
        digest = hashlib.sha256(f"{key}|{frame}|{BASE_MAP_VERSION}".encode()).hexdigest()[:16]
        cache_file = Path(current_app.config["DATA_DIR"]) / "map" / f"basemap-{digest}.json"
        result = None
        try:
            result = BaseMap.from_json(json.loads(cache_file.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            result = build_base_map(source, frame)
            try:
                cache_file.parent.mkdir(parents=True, exist_ok=True)
                temporary = cache_file.with_suffix(".tmp")
                temporary.write_text(json.dumps(result.to_json()), encoding="utf-8")
                temporary.replace(cache_file)
            except OSError:
                logger.warning("map: could not write the base map cache %s", cache_file, exc_info=True)
        _cache[key] = result
        return result


# --- Viet Nam's archipelagos ----------------------------------------------------------------------


@dataclass(frozen=True)
class Archipelago:
    """An archipelago of Viet Nam drawn on every map of the country: its islands and its label."""

    key: str
    #: The label, one line per item, in each language (a place name, kept with the data like the
    #: category labels so that the Vietnamese form never depends on a translation catalogue).
    lines: dict[str, tuple[str, ...]]
    #: (latitude, longitude) of its main islands, cays and reefs.
    islands: tuple[tuple[float, float], ...]
    #: Where the label's first line is centred, in degrees (latitude, longitude).
    label_at: tuple[float, float]

    def label_values(self) -> list[LangString]:
        """The one-line label as language-tagged values."""
        return from_mapping({lang: " ".join(lines) for lang, lines in self.lines.items()})


ARCHIPELAGOS = (
    Archipelago(
        "hoang-sa",
        {"vi": ("Quần đảo Hoàng Sa", "(Việt Nam)"), "en": ("Paracel Islands", "(Viet Nam)")},
        (
            (16.834, 112.338),  # Phú Lâm
            (16.668, 112.729),  # Linh Côn
            (16.985, 112.264),  # Cây
            (16.533, 111.608),  # Hoàng Sa
            (16.450, 111.508),  # Quang Ảnh
            (16.463, 111.740),  # Duy Mộng
            (16.050, 111.770),  # Bạch Quy
            (16.040, 112.500),  # Bông Bay
            (15.783, 111.203),  # Tri Tôn
        ),
        (15.2, 112.3),
    ),
    Archipelago(
        "truong-sa",
        {"vi": ("Quần đảo Trường Sa", "(Việt Nam)"), "en": ("Spratly Islands", "(Viet Nam)")},
        (
            (11.429, 114.333),  # Song Tử Tây
            (11.453, 114.356),  # Song Tử Đông
            (11.055, 114.284),  # Thị Tứ
            (10.682, 114.422),  # Loại Ta
            (10.377, 114.365),  # Ba Bình
            (10.376, 114.479),  # Sơn Ca
            (10.182, 114.362),  # Nam Yết
            (9.883, 114.329),  # Sinh Tồn
            (10.050, 113.850),  # Đá Lớn
            (9.980, 114.660),  # Ba Đầu
            (8.970, 113.690),  # Phan Vinh
            (8.860, 114.650),  # Tiên Nữ
            (8.645, 111.920),  # Trường Sa
            (8.850, 112.220),  # Đá Tây
            (8.150, 113.280),  # Thuyền Chài
            (7.890, 112.920),  # An Bang
            (8.380, 115.220),  # Công Đo
            (9.900, 115.530),  # Vành Khăn
            (10.730, 115.800),  # Vĩnh Viễn
            (10.810, 115.820),  # Bình Nguyên
        ),
        (12.6, 113.6),
    ),
)

#: The sea east of Viet Nam, labelled as on maps published in Viet Nam.
EAST_SEA = {"vi": "Biển Đông", "en": "East Sea"}
EAST_SEA_AT = (13.6, 112.4)


# --- layout ---------------------------------------------------------------------------------------

#: Marker radius range in SVG units; the area grows with the count.
MIN_RADIUS, MAX_RADIUS = 5.0, 16.0
#: Markers are easy to tap: an invisible circle at least this large is part of each link.
MIN_TARGET_RADIUS = 11.0
#: Font size of the province labels (shown on wide screens only, see map.css), in SVG units.
LABEL_FONT_SIZE = 13.0
#: Font size of the archipelago and sea names on wide screens (map.css), in SVG units.
NAME_FONT_SIZE = 16.0


@dataclass(frozen=True)
class Marker:
    """A province's marker placed on the map."""

    entry: ProvinceEntry
    x: int
    y: int
    radius: int
    target_radius: int
    label: LabelPlacement | None


@dataclass(frozen=True)
class ArchipelagoDrawing:
    """An archipelago's islands and label lines in SVG units, in the visitor's language."""

    key: str
    label: str
    lines: tuple[str, ...]
    islands: tuple[tuple[int, int], ...]
    label_x: int
    label_y: int


def layout_markers(
    entries: list[ProvinceEntry],
    frame: Frame = FRAME,
    obstacles: list[tuple[float, float, float, float]] | None = None,
) -> list[Marker]:
    """Project the provinces, size their markers by count (largest first, so small ones stay on top
    and clickable) and place the labels that fit, around the *obstacles* (other names on the map)."""
    if not entries:
        return []
    largest = max(e.count for e in entries)
    sized = []
    for entry in entries:
        x, y = frame.project(entry.place.longitude, entry.place.latitude)  # type: ignore[arg-type]
        radius = MIN_RADIUS + (MAX_RADIUS - MIN_RADIUS) * (entry.count / largest) ** 0.5
        sized.append((entry, x, y, radius))
    sized.sort(key=lambda item: (-item[3], item[0].place.code))
    labels = place_labels(
        [(x, y, r, e.place.name) for e, x, y, r in sized],
        LABEL_FONT_SIZE,
        (frame.width, frame.height),
        obstacles=obstacles or (),
    )
    return [
        Marker(e, round(x), round(y), round(r), round(max(r, MIN_TARGET_RADIUS)), label)
        for (e, x, y, r), label in zip(sized, labels, strict=True)
    ]


def archipelago_drawings(lang: str, frame: Frame = FRAME) -> list[ArchipelagoDrawing]:
    """Viet Nam's archipelagos in SVG units, labelled in *lang* (Vietnamese when it has no label)."""
    drawings = []
    for archipelago in ARCHIPELAGOS:
        lines = archipelago.lines.get(lang) or archipelago.lines["vi"]
        label_x, label_y = frame.project(archipelago.label_at[1], archipelago.label_at[0])
        drawings.append(
            ArchipelagoDrawing(
                archipelago.key,
                " ".join(lines),
                lines,
                tuple(
                    (round(x), round(y))
                    for x, y in (frame.project(lon, lat) for lat, lon in archipelago.islands)
                ),
                round(label_x),
                round(label_y),
            )
        )
    return drawings


def east_sea_label(lang: str, frame: Frame = FRAME) -> tuple[str, int, int]:
    """The sea's name in *lang* and where it is written."""
    x, y = frame.project(EAST_SEA_AT[1], EAST_SEA_AT[0])
    return EAST_SEA.get(lang, EAST_SEA["vi"]), round(x), round(y)


def name_boxes(
    archipelagos: list[ArchipelagoDrawing], east_sea: tuple[str, int, int]
) -> list[tuple[float, float, float, float]]:
    """The boxes the archipelago and sea names take, for the placement of province labels."""
    boxes = [text_box(a.label_x, a.label_y, a.lines, NAME_FONT_SIZE) for a in archipelagos]
    boxes.append(text_box(east_sea[1], east_sea[2], [east_sea[0]], NAME_FONT_SIZE))
    return boxes
