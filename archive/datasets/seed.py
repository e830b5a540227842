"""Load the seed datasets (metadata/datasets: figures compiled from public reporting) into the archive.

Idempotent: a dataset whose slug is already present is left alone (whatever its state), so the loader
can run on every demo load and never makes a second version of a seed dataset.
"""

from __future__ import annotations

import logging
import re

from flask import current_app

from archive.core.types import from_langstrings
from archive.datasets import services
from archive.datasets.models import Dataset
from metadata.datasets import SeedDataset, seed_datasets
from metadata.languages import LangString

logger = logging.getLogger(__name__)


class SeedTableInvalid(RuntimeError):
    """A seed table does not validate against its own schema (a defect in the shipped files)."""


def publisher_values() -> list[LangString]:
    """The archive as publisher (config PUBLISHER), in Vietnamese."""
    return [LangString(current_app.config["PUBLISHER"], "vi")]


def contact() -> tuple[str, str]:
    """(name, email) of the archive's contact point for its datasets."""
    config = current_app.config
    email = config.get("OAI_ADMIN_EMAIL") or config.get("MAIL_FROM") or ""
    # A local default such as "archive@localhost" is no address a reader can write to.
    return config["PUBLISHER"], email if re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email) else ""


def load_seed_dataset(seed: SeedDataset) -> Dataset | None:
    """Create and publish one seed dataset; None when a dataset with its slug already exists."""
    if services.get_by_slug(seed.slug) is not None:
        return None
    name, email = contact()
    data = services.DatasetData(
        slug=seed.slug,
        title=seed.title,
        description=seed.description,
        publisher=publisher_values(),
        contact_name=name,
        contact_email=email,
        license_uri=seed.licence,
        themes=seed.themes,
        keywords=seed.keywords,
        temporal_start=seed.temporal_start,
        temporal_end=seed.temporal_end,
        spatial=seed.spatial,
        ethnic_groups=seed.ethnic_groups,
        accrual_periodicity=seed.frequency,
    )
    dataset = services.create_dataset(None, data, origin="compiled")
    for item in seed.tables:
        upload = services.UploadRequest(
            path=item.path,
            filename=item.path.name,
            name=item.name,
            title=item.title,
            schema_mode="provided",
            schema=item.schema,
        )
        table = services.upload_table(None, dataset, upload, system=True)
        if not table.is_valid:
            raise SeedTableInvalid(f"{seed.slug}/{item.name}: {table.errors[:3]}")
        table.provenance = from_langstrings(item.provenance)
        if item.chart is not None:
            table.chart = item.chart
    services.publish_version(None, dataset.draft_version, system=True)
    logger.info("seed dataset %s published", seed.slug)
    return dataset


def load_seed_datasets() -> int:
    """Load every seed dataset not yet present (flushes; the caller commits); returns how many were made."""
    created = 0
    for seed in seed_datasets():
        if load_seed_dataset(seed) is not None:
            created += 1
    return created
