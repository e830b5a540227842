"""A bounded disk cache of rendered IIIF images: files named by key, oldest evicted past the budget."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path

from flask import current_app

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_sizes: dict[str, int] = {}


_made: set[str] = set()


def _dir() -> Path:
    path = Path(current_app.config["DATA_DIR"]) / "iiif-cache"
    if str(path) not in _made:
        path.mkdir(parents=True, exist_ok=True)
        _made.add(str(path))
    return path


def get(key: str) -> bytes | None:
    """The cached bytes for *key*, refreshing its age, or None."""
    path = _dir() / key[:2] / key
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    os.utime(path)
    return data


def put(key: str, data: bytes) -> None:
    """Store bytes under *key* atomically, then evict the least recently used files past the budget."""
    root = _dir()
    directory = root / key[:2]
    if str(directory) not in _made:
        directory.mkdir(exist_ok=True)
        _made.add(str(directory))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, directory / key)
    budget = current_app.config["IIIF_CACHE_BYTES"]
    with _lock:
        if str(root) not in _sizes:  # measured once per process, then counted
            _sizes[str(root)] = _measure(root)
        _sizes[str(root)] += len(data)
        if _sizes[str(root)] > budget:
            _sizes[str(root)] = _evict(root, budget * 8 // 10)


def _measure(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _evict(root: Path, target: int) -> int:
    files = []
    for path in root.rglob("*"):
        if path.is_file():
            stat = path.stat()
            files.append((stat.st_mtime, stat.st_size, path))
    total = sum(size for _, size, _ in files)
    for _, size, path in sorted(files):
        if total <= target:
            break
        path.unlink(missing_ok=True)
        total -= size
    logger.info("IIIF cache trimmed to %d bytes", total)
    return total
