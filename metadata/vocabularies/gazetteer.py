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


def iter_places(include_communes: bool = True) -> Iterator[PlaceEntry]:
    """Every unit of both systems, parents before children."""
    conn = _connect()
    try:
        seen: set[str] = set()
        rows = conn.execute(
            "SELECT * FROM admin_units_legacy ORDER BY provinceCode, districtCode, wardCode"
        ).fetchall()
        for row in rows:
            p = place_code(PRE_2025, PROVINCE, row["provinceCode"])
            if p not in seen:
                seen.add(p)
                yield PlaceEntry(
                    p,
                    PRE_2025,
                    PROVINCE,
                    row["provinceShort"],
                    row["province"],
                    None,
                    row["provinceLat"],
                    row["provinceLon"],
                    row["provinceKey"],
                )
            d = place_code(PRE_2025, DISTRICT, row["districtCode"])
            if d not in seen:
                seen.add(d)
                yield PlaceEntry(
                    d,
                    PRE_2025,
                    DISTRICT,
                    row["districtShort"],
                    row["district"],
                    p,
                    row["districtLat"],
                    row["districtLon"],
                    f"{row['provinceKey']}_{row['districtKey']}",
                )
            if include_communes and row["wardCode"]:
                c = place_code(PRE_2025, COMMUNE, row["wardCode"])
                if c not in seen:
                    seen.add(c)
                    yield PlaceEntry(
                        c,
                        PRE_2025,
                        COMMUNE,
                        row["wardShort"],
                        row["ward"],
                        d,
                        row["wardLat"],
                        row["wardLon"],
                        f"{row['provinceKey']}_{row['districtKey']}_{row['wardKey']}",
                    )
        rows = conn.execute("SELECT * FROM admin_units ORDER BY provinceCode, wardCode").fetchall()
        for row in rows:
            p = place_code(POST_2025, PROVINCE, row["provinceCode"])
            if p not in seen:
                seen.add(p)
                yield PlaceEntry(
                    p,
                    POST_2025,
                    PROVINCE,
                    row["provinceShort"],
                    row["province"],
                    None,
                    row["provinceLat"],
                    row["provinceLon"],
                    row["provinceKey"],
                )
            if include_communes:
                c = place_code(POST_2025, COMMUNE, row["wardCode"])
                if c not in seen:
                    seen.add(c)
                    yield PlaceEntry(
                        c,
                        POST_2025,
                        COMMUNE,
                        row["wardShort"],
                        row["ward"],
                        p,
                        row["wardLat"],
                        row["wardLon"],
                        f"{row['provinceKey']}_{row['wardKey']}",
                    )
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
