"""Fixity of stored files: SHA-256 digests of files and directory trees, verdicts, verified write-once copies.

Framework-free: takes paths and expected digests, returns plain values. The archive records the verdicts.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from media.probe import sha256_file

#: What a check can find: the digest matches, differs, the file is absent, or it cannot be read.
OK, MISMATCH, MISSING, UNREADABLE = "ok", "mismatch", "missing", "unreadable"


def tree_digest(directory: Path) -> tuple[str, int]:
    """SHA-256 over every file of a directory (relative path and content digest, sorted), and the total size.

    The same digest the derivative jobs record for directory derivatives (image pyramids).
    """
    digest = hashlib.sha256()
    total = 0
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(directory)).encode() + b"\0")
        digest.update(bytes.fromhex(sha256_file(path)))
        total += path.stat().st_size
    return digest.hexdigest(), total


def stored_digest(path: Path) -> tuple[str, int]:
    """(SHA-256, size in bytes) of a stored file, or of a directory tree."""
    if path.is_dir():
        return tree_digest(path)
    return sha256_file(path), path.stat().st_size


@dataclass(frozen=True)
class Verdict:
    """The result of checking one stored file against its recorded digest."""

    outcome: str
    expected: str
    actual: str | None = None
    size: int | None = None
    detail: str = ""

    @property
    def good(self) -> bool:
        """True when the file is present and its digest is the recorded one."""
        return self.outcome == OK


def verify(path: Path, expected: str) -> Verdict:
    """Read *path* (a file or a directory tree) and compare its SHA-256 with *expected*."""
    if not path.exists():
        return Verdict(MISSING, expected, detail=f"not found: {path}")
    try:
        actual, size = stored_digest(path)
    except OSError as exc:
        return Verdict(UNREADABLE, expected, detail=f"{type(exc).__name__}: {exc}")
    if actual != expected:
        return Verdict(MISMATCH, expected, actual, size, detail="digest differs from the recorded one")
    return Verdict(OK, expected, actual, size)


class CopyFailed(OSError):
    """A copy could not be written, or what was written does not have the expected digest."""


def copy_verified(source: Path, target: Path, expected: str, *, replace: bool = False) -> int:
    """Copy one file to *target* write-once: through a temporary file in the target directory, flushed to
    disk, its digest checked against *expected*, made read-only, then renamed into place.

    An existing target is kept unless *replace* (used to repair a damaged copy). Returns the bytes copied
    (0 when the target was kept). Raises CopyFailed when the copy is not byte-identical to *expected*.
    """
    if target.exists() and not replace:
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=".copy-")
    temporary = Path(name)
    try:
        digest = hashlib.sha256()
        size = 0
        with source.open("rb") as reader, os.fdopen(fd, "wb") as writer:
            for chunk in iter(lambda: reader.read(1 << 20), b""):
                digest.update(chunk)
                writer.write(chunk)
                size += len(chunk)
            writer.flush()
            os.fsync(writer.fileno())
        if digest.hexdigest() != expected:
            raise CopyFailed(f"the source {source} does not have the expected digest")
        # Read back what reached the disk, not what was in the write buffer.
        if sha256_file(temporary) != expected:
            raise CopyFailed(f"the copy written to {target} does not have the expected digest")
        os.chmod(temporary, 0o444)
        if target.exists():
            os.chmod(target, 0o644)
        os.replace(temporary, target)
        _fsync_directory(target.parent)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return size


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
