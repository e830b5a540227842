"""Checksums and image facts of stored files (audio and video are probed by media.checks.probe_av)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def image_facts(path: Path) -> tuple[str, int, int]:
    """(MIME type, width, height) of an image, read by Pillow without decoding the pixels."""
    with Image.open(path) as image:
        return Image.MIME[image.format], image.width, image.height
