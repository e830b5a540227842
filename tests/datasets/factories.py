"""Making datasets in tests through the real services: describe, upload a CSV, publish."""

from __future__ import annotations

import uuid
from pathlib import Path

from archive.datasets import services
from metadata.languages import LangString

CSV = "province,communes,share\nQuảng Ngãi,61,0.5\nBắc Giang,120,0.25\n"
SCHEMA = {
    "fields": [
        {"name": "province", "type": "string", "constraints": {"required": True}},
        {"name": "communes", "type": "integer", "constraints": {"minimum": 0}},
        {"name": "share", "type": "number", "constraints": {"maximum": 1}},
    ]
}


def make_dataset(
    db,
    tmp_path: Path,
    *,
    title: str | None = None,
    title_en: str | None = None,
    csv_text: str = CSV,
    schema: dict | None = None,
    publish: bool = True,
    user=None,
    **fields,
):
    """A dataset with one table 'communes' (published unless *publish* is False), committed."""
    slug = fields.pop("slug", f"thu-{uuid.uuid4().hex[:8]}")
    titles = [LangString(title or f"Bộ dữ liệu thử {slug}", "vi")]
    if title_en:
        titles.append(LangString(title_en, "en"))
    data = services.DatasetData(slug=slug, title=titles, **fields)
    dataset = services.create_dataset(user, data, origin="compiled" if user is None else "uploaded")
    path = tmp_path / f"{slug}.csv"
    path.write_text(csv_text, encoding="utf-8")
    request = services.UploadRequest(
        path=path, filename="communes.csv", name="communes", schema_mode="provided", schema=schema or SCHEMA
    )
    services.upload_table(user, dataset, request, system=user is None)
    if publish:
        services.publish_version(user, dataset.draft_version, system=user is None)
    db.session.commit()
    return dataset
