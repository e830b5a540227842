"""Technical facts about a media file: checksum, type, dimensions, duration."""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

#: ffprobe may only read the local file it is given: no network, no playlists pointing elsewhere.
PROTOCOL_WHITELIST = "file"
PROBE_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class MediaFacts:
    """What the archive records about an original."""

    sha256: str
    size_bytes: int
    mime_type: str
    kind: str
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None


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


def ffprobe(path: Path, ffprobe_bin: str = "ffprobe") -> dict:
    """ffprobe's JSON description of a local file, restricted to the file protocol and a time limit."""
    result = subprocess.run(
        [
            ffprobe_bin,
            "-v",
            "error",
            "-protocol_whitelist",
            PROTOCOL_WHITELIST,
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            str(path),
        ],
        capture_output=True,
        check=True,
        timeout=PROBE_TIMEOUT_SECONDS,
    )
    return json.loads(result.stdout)


def av_facts(path: Path, kind: str, mime_type: str, ffprobe_bin: str = "ffprobe") -> MediaFacts:
    """Facts about an audio or video file."""
    info = ffprobe(path, ffprobe_bin)
    video = next((s for s in info.get("streams", []) if s.get("codec_type") == "video"), None)
    duration = float(info.get("format", {}).get("duration") or 0) or None
    return MediaFacts(
        sha256_file(path),
        path.stat().st_size,
        mime_type,
        kind,
        width=video.get("width") if video and kind == "video" else None,
        height=video.get("height") if video and kind == "video" else None,
        duration_seconds=round(duration, 3) if duration else None,
    )
