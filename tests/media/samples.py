"""Sample files for media tests, generated on the fly."""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

from PIL import Image


def jpeg(path: Path, size=(1200, 800), color=(150, 60, 30)) -> Path:
    """A JPEG picture with some structure."""
    image = Image.new("RGB", size, color)
    for x in range(0, size[0], 50):
        image.paste((x % 255, 200, 100), (x, 0, x + 10, size[1]))
    image.save(path, "JPEG", quality=90)
    image.close()
    return path


def png(path: Path, size=(300, 200)) -> Path:
    """A PNG picture."""
    image = Image.new("RGB", size, (20, 120, 200))
    image.save(path, "PNG")
    image.close()
    return path


def pixel_flood_png(path: Path, width: int = 30000, height: int = 30000) -> Path:
    """A tiny PNG that claims a huge size: an IHDR of width x height with a minimal (invalid) body."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    body = zlib.compress(b"\0" * 1024)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def wav(path: Path, seconds: float = 3.0) -> Path:
    """A WAV tone."""
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={seconds}",
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return path


def mp4(path: Path, seconds: float = 3.0, size: str = "640x360") -> Path:
    """An H.264/AAC MP4 test pattern with sound."""
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={size}:rate=25:duration={seconds}",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=330:duration={seconds}",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return path


HLS_PLAYLIST = b"#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:10.0,\nhttp://127.0.0.1:9/secret.ts\n#EXT-X-ENDLIST\n"
CONCAT_LIST = b"ffconcat version 1.0\nfile '/etc/passwd'\n"
DASH_MANIFEST = b'<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period/></MPD>\n'

VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nLời hát mở đầu\n\n00:00:02.000 --> 00:00:03.000\nKết thúc\n"
