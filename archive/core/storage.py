"""Where originals live: write-once, content-addressed by SHA-256, under the data directory."""

from __future__ import annotations

import os
from pathlib import Path

from flask import current_app


def storage_root() -> Path:
    """The directory of originals."""
    return Path(current_app.config["DATA_DIR"]) / "originals"


def original_path(storage_key: str) -> Path:
    """Absolute path of a stored original; refuses keys that would leave the storage root."""
    root = storage_root().resolve()
    path = (root / storage_key).resolve()
    if root not in path.parents:
        raise ValueError("storage key outside the storage root")
    return path


def store_original_file(path: Path, digest: str, suffix: str) -> tuple[str, bool]:
    """Move a checked temporary file into the write-once store under its SHA-256.

    Returns (storage key, created): created is False when the same content was already stored.
    The file is made read-only; the temporary file is consumed either way.
    """
    key = f"{digest[:2]}/{digest[2:4]}/{digest}{suffix}"
    target = original_path(key)
    # A file's time in the store is when it entered it or was last deduplicated into: the crash-recovery
    # sweep leaves unreferenced files younger than its grace period alone (an ingest not yet committed).
    if target.exists():
        try:
            os.utime(target)
        except FileNotFoundError:
            pass  # removed by the sweep meanwhile: store this copy
        else:
            path.unlink(missing_ok=True)
            return key, False
    target.parent.mkdir(parents=True, exist_ok=True)
    os.utime(path)
    os.chmod(path, 0o444)
    os.replace(path, target)
    return key, True
