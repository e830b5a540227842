"""The 54 officially recognised ethnic groups of Vietnam, read from ``data/ethnic_groups.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from metadata.languages import LangString, from_mapping, nfc

DATA_FILE = Path(__file__).parent / "data" / "ethnic_groups.json"

LANGUAGE_FAMILIES: dict[str, dict[str, str]] = {
    "austroasiatic": {"vi": "Nam Á", "en": "Austroasiatic"},
    "tai-kadai": {"vi": "Thái - Kađai", "en": "Tai-Kadai (Kra-Dai)"},
    "hmong-mien": {"vi": "H'Mông - Miền", "en": "Hmong-Mien"},
    "austronesian": {"vi": "Nam Đảo", "en": "Austronesian"},
    "sino-tibetan": {"vi": "Hán - Tạng", "en": "Sino-Tibetan"},
}


@dataclass(frozen=True)
class EthnicGroupEntry:
    """One ethnic group as described in the vocabulary file."""

    id: str
    gso_code: str
    name_vi: str
    name_en: str
    other_names: list[str] = field(default_factory=list)
    subgroups: list[str] = field(default_factory=list)
    language_family: str = ""
    language_branch: dict[str, str] = field(default_factory=dict)
    languages: list[str] = field(default_factory=list)
    population_2019: int | None = None
    provinces: list[str] = field(default_factory=list)
    description: dict[str, str] = field(default_factory=dict)

    @property
    def labels(self) -> list[LangString]:
        """Names as language-tagged values."""
        return from_mapping({"vi": self.name_vi, "en": self.name_en})


def load_ethnic_groups(path: Path = DATA_FILE) -> list[EthnicGroupEntry]:
    """Read and check the vocabulary file; raises ValueError when it is inconsistent."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    groups = []
    for item in raw["groups"]:
        groups.append(
            EthnicGroupEntry(
                id=item["id"],
                gso_code=item["gso_code"],
                name_vi=nfc(item["name_vi"]),
                name_en=nfc(item["name_en"]),
                other_names=[nfc(n) for n in item.get("other_names") or []],
                subgroups=[nfc(n) for n in item.get("subgroups") or []],
                language_family=item.get("language_family") or "",
                language_branch=item.get("language_branch") or {},
                languages=item.get("languages") or [],
                population_2019=item.get("population_2019"),
                provinces=[nfc(p) for p in item.get("provinces") or []],
                description={k: nfc(v) for k, v in (item.get("description") or {}).items()},
            )
        )
    ids = {g.id for g in groups}
    codes = {g.gso_code for g in groups}
    if len(groups) != 54 or len(ids) != 54 or len(codes) != 54:
        raise ValueError(f"{path}: expected 54 distinct ethnic groups, found {len(groups)}")
    unknown = {g.language_family for g in groups} - set(LANGUAGE_FAMILIES)
    if unknown:
        raise ValueError(f"{path}: unknown language families {sorted(unknown)}")
    return sorted(groups, key=lambda g: g.gso_code)
