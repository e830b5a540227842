"""Vietnam's administrative units before and after the 1 July 2025 reorganisation.

Source: the MIT-licensed PyPI package ``vietnamadminunits`` (1.0.4), which ships
- the 63 provinces, 696 districts and 10,040 communes in force until 30 June 2025, with coordinates;
- the 34 provinces and 3,321 communes in force from 1 July 2025 (two levels), with coordinates;
- the mapping from each old commune to the new commune(s) it went into, and from old to new provinces.
We read its bundled data files directly (the package is pinned) and turn them into plain entries.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources

PRE_2025 = "pre2025"
POST_2025 = "2025"
REORGANISATION_DATE = "2025-07-01"

PROVINCE, DISTRICT, COMMUNE = "province", "district", "commune"


@dataclass(frozen=True)
class PlaceEntry:
    """One administrative unit."""

    code: str
    system: str
    level: str
    name: str
    full_name: str
    parent_code: str | None
    latitude: float | None
    longitude: float | None
    source_key: str


@dataclass(frozen=True)
class Succession:
    """An old unit that went (wholly or partly) into a new one."""

    old_code: str
    new_code: str
    is_default: bool


def place_code(system: str, level: str, number: str) -> str:
    """Stable code of a unit: 'pre2025-p06' (Bắc Kạn), '2025-p19', 'pre2025-d058', '2025-c01234'."""
    return f"{system}-{level[0]}{number}"


def _data_path(name: str):
    return resources.files("vietnamadminunits") / "data" / name


def _connect() -> sqlite3.Connection:
    path = _data_path("dataset.db")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def _entry(
    system: str, level: str, row: sqlite3.Row, column: str, parent: str | None, key: str
) -> PlaceEntry:
    """A unit from one row of the package's tables; *column*: province, district or ward."""
    code = place_code(system, level, row[f"{column}Code"])
    return PlaceEntry(code, system, level, row[f"{column}Short"], row[column], parent,
                      row[f"{column}Lat"], row[f"{column}Lon"], key)  # fmt: skip


def iter_places(include_communes: bool = True) -> Iterator[PlaceEntry]:
    """Every unit of both systems, parents before children."""
    conn = _connect()
    seen: set[str] = set()

    def new(entry: PlaceEntry) -> bool:
        fresh = entry.code not in seen
        seen.add(entry.code)
        return fresh

    try:
        legacy = "SELECT * FROM admin_units_legacy ORDER BY provinceCode, districtCode, wardCode"
        for row in conn.execute(legacy):
            province = _entry(PRE_2025, PROVINCE, row, "province", None, row["provinceKey"])
            district_key = f"{row['provinceKey']}_{row['districtKey']}"
            district = _entry(PRE_2025, DISTRICT, row, "district", province.code, district_key)
            units = [province, district]
            if include_communes and row["wardCode"]:
                units.append(_entry(PRE_2025, COMMUNE, row, "ward", district.code,
                                    f"{district_key}_{row['wardKey']}"))  # fmt: skip
            yield from (u for u in units if new(u))
        for row in conn.execute("SELECT * FROM admin_units ORDER BY provinceCode, wardCode"):
            province = _entry(POST_2025, PROVINCE, row, "province", None, row["provinceKey"])
            units = [province]
            if include_communes:
                units.append(_entry(POST_2025, COMMUNE, row, "ward", province.code,
                                    f"{row['provinceKey']}_{row['wardKey']}"))  # fmt: skip
            yield from (u for u in units if new(u))
    finally:
        conn.close()


def iter_successions(places: list[PlaceEntry]) -> Iterator[Succession]:
    """Old -> new links: every old province to its new province, every old commune to its new commune(s)."""
    by_key = {(p.system, p.level, p.source_key): p.code for p in places}
    data = json.loads(_data_path("converter_2025.json").read_text(encoding="utf-8"))
    for new_key, old_keys in data["DICT_PROVINCE"].items():
        new = by_key[(POST_2025, PROVINCE, new_key)]
        for old_key in old_keys:
            yield Succession(by_key[(PRE_2025, PROVINCE, old_key)], new, True)
    emitted: set[tuple[str, str]] = set()
    for new_province_key, wards in data["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_ward_key, old_keys in wards.items():
            new = by_key.get((POST_2025, COMMUNE, f"{new_province_key}_{new_ward_key}"))
            for old_key in old_keys:
                old = by_key.get((PRE_2025, COMMUNE, old_key))
                if new and old and (old, new) not in emitted:
                    emitted.add((old, new))
                    yield Succession(old, new, True)
    for new_province_key, olds in data["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, targets in olds.items():
            old = by_key.get((PRE_2025, COMMUNE, old_key))
            for target in targets:
                new = by_key.get((POST_2025, COMMUNE, f"{new_province_key}_{target['newWardKey']}"))
                if new and old and (old, new) not in emitted:
                    emitted.add((old, new))
                    yield Succession(old, new, bool(target["isDefaultNewWard"]))
