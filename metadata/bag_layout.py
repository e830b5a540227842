"""The layout of the archive's BagIt backups (format ``heritage-archive-bag`` version 1), framework-free.

A backup bag holds, under ``data/``:

``archive.json``
    format name and version, the Alembic revision, the scope (whole archive or one collection), and for
    every exported table its columns and row count (in insertion order: parents before children).
``tables/<table>.jsonl``
    one JSON object per row, keyed by column name, ordered by primary key. Dates and times are ISO 8601
    strings (times with their UTC offset); JSON columns are embedded as JSON; everything else as is.
``files/originals/<storage key>``
    the write-once originals (media files, dataset tables and their uploaded sources), by storage key.
``files/derivatives/<storage key>``
    derivatives (renditions, posters, tile pyramids as directory trees) and WebVTT captions.
``dc/<public id>.xml``, ``iiif/<public id>.json``
    each record's simple Dublin Core (oai_dc) and IIIF Presentation 3.0 Manifest, for other systems;
    the import does not read them.

The BagIt manifests (SHA-256 and SHA-512) cover every payload file; bag-info.txt repeats the format
version and the Alembic revision.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

FORMAT_NAME = "heritage-archive-bag"
FORMAT_VERSION = 1

#: bag-info.txt field names.
INFO_FORMAT = "Archive-Bag-Format"
INFO_REVISION = "Archive-Schema-Revision"
INFO_SCOPE = "Archive-Scope"

#: Paths inside the bag's payload (data/).
DESCRIPTION = "archive.json"
TABLES_DIR = "tables"
ORIGINALS_DIR = "files/originals"
DERIVATIVES_DIR = "files/derivatives"
DC_DIR = "dc"
IIIF_DIR = "iiif"

#: How a column's values are written: "datetime", "date" or "plain".
VALUE_KINDS = ("datetime", "date", "plain")


def encode_value(value: Any) -> Any:
    """A column value as JSON can hold it (dates and times as ISO 8601 text)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def decode_value(value: Any, kind: str) -> Any:
    """The column value back from its JSON form."""
    if value is None or kind == "plain":
        return value
    if kind == "datetime":
        return dt.datetime.fromisoformat(value)
    return dt.date.fromisoformat(value)


def write_rows(handle: IO[str], rows: Iterable[dict[str, Any]]) -> int:
    """Write rows as JSON Lines; returns how many were written."""
    count = 0
    for row in rows:
        handle.write(json.dumps({k: encode_value(v) for k, v in row.items()}, ensure_ascii=False))
        handle.write("\n")
        count += 1
    return count


def read_rows(path: Path, kinds: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Stream the rows of a table file, decoded with each column's value kind."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                yield {name: decode_value(value, kinds.get(name, "plain")) for name, value in row.items()}


def batched(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    """Rows in lists of at most *size* (for bulk inserts that do not hold a whole table)."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
