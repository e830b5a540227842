"""The seed datasets: figures the programme and the provinces published, compiled from public reporting.

Each dataset is a JSON descriptor (``<slug>.json``: multilingual metadata, and per table its Table Schema,
title, provenance note and CSV file) next to one CSV file per table (``<slug>.<table>.csv``). Every row
quotes the article that states the figure, names it in ``source`` and gives its date where the article
does (``source_date``, empty otherwise); ``qualifier`` keeps the article's "more than", "nearly", "about".

Framework-free: :func:`seed_datasets` reads the files into plain values.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from metadata.languages import LangString, from_mapping

DATA_DIR = Path(__file__).parent


@dataclass(frozen=True)
class SeedTable:
    """One table of a seed dataset: its name, title, schema, provenance note and CSV file."""

    name: str
    title: list[LangString]
    schema: dict
    path: Path
    provenance: list[LangString] = field(default_factory=list)
    chart: dict | None = None


@dataclass(frozen=True)
class SeedDataset:
    """A seed dataset's description and tables, as read from its descriptor."""

    slug: str
    title: list[LangString]
    description: list[LangString]
    themes: list[str]
    keywords: list[LangString]
    temporal_start: dt.date | None
    temporal_end: dt.date | None
    spatial: list[str]
    ethnic_groups: list[str]
    frequency: str
    licence: str
    tables: list[SeedTable]


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def read_seed_dataset(path: Path) -> SeedDataset:
    """Read one descriptor (and check that its CSV files exist)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    tables = []
    for item in raw["tables"]:
        csv_path = path.parent / item["file"]
        if not csv_path.is_file():
            raise ValueError(f"{path.name}: table {item['name']} has no file {item['file']}")
        tables.append(
            SeedTable(
                name=item["name"],
                title=from_mapping(item.get("title")),
                schema=item["schema"],
                path=csv_path,
                provenance=from_mapping(item.get("provenance")),
                chart=item.get("chart"),
            )
        )
    keywords = [LangString(word, lang) for lang, words in raw.get("keywords", {}).items() for word in words]
    temporal = raw.get("temporal") or {}
    return SeedDataset(
        slug=raw["slug"],
        title=from_mapping(raw["title"]),
        description=from_mapping(raw.get("description")),
        themes=list(raw.get("themes", [])),
        keywords=keywords,
        temporal_start=_date(temporal.get("start")),
        temporal_end=_date(temporal.get("end")),
        spatial=list(raw.get("spatial", [])),
        ethnic_groups=list(raw.get("ethnic_groups", [])),
        frequency=raw.get("frequency", "IRREG"),
        licence=raw.get("licence", "http://creativecommons.org/licenses/by/4.0/"),
        tables=tables,
    )


def seed_datasets(directory: Path = DATA_DIR) -> list[SeedDataset]:
    """Every seed dataset, by slug."""
    return [read_seed_dataset(p) for p in sorted(directory.glob("*.json"))]
