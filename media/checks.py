"""Ingest checks for uploaded originals: the type comes from the content, never from the name.

Every refusal raises :class:`MediaRejected` with a stable reason code (translated by the web layer):

``empty``, ``too_large`` (limit), ``unsupported_type``, ``type_mismatch`` (detected, claimed),
``truncated``, ``pixel_limit`` (pixels, limit), ``unreadable``, ``probe_timeout`` (seconds),
``no_stream``, ``external_reference``, ``too_long`` (seconds), ``bad_captions`` (reason, line).

External tools (ffprobe, ffmpeg) run through :func:`run_tool`: local files only
(``-protocol_whitelist file``), a forced demuxer, an address-space and CPU limit, and a wall-clock timeout.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import resource
import selectors
import signal
import struct
import subprocess
import tempfile
import threading
import time
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import ExifTags, Image, ImageFile

from media.pillow_limits import allow_pixels

logger = logging.getLogger(__name__)

#: Every reason code a check may raise.
REASON_CODES = (
    "empty",
    "too_large",
    "unsupported_type",
    "type_mismatch",
    "truncated",
    "pixel_limit",
    "unreadable",
    "probe_timeout",
    "no_stream",
    "external_reference",
    "too_long",
    "bad_captions",
)

HEAD_BYTES = 4096
MP3_SCAN_BYTES = 64 * 1024
MAX_ID3_TAGS = 8
MAX_BOXES = 1_000_000
STDERR_TAIL = 4000
#: Seconds read at the end of a file to check that its data reach the duration its header gives.
TAIL_SECONDS = 3.0
TAIL_TOLERANCE = 0.5


class MediaRejected(Exception):
    """An upload the archive refuses; ``code`` names the reason, ``params`` fill in its message."""

    def __init__(self, code: str, params: dict | None = None) -> None:
        self.code = code
        self.params: dict = dict(params or {})
        super().__init__(code, self.params)

    def __str__(self) -> str:
        return f"{self.code} {self.params}" if self.params else self.code


# --------------------------------------------------------------------------------------------------
# Running ffprobe / ffmpeg under limits
# --------------------------------------------------------------------------------------------------


class ToolTimeout(RuntimeError):
    """An external tool ran longer than its wall-clock (or CPU) allowance and was killed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"killed after {seconds} s")


@dataclass(frozen=True)
class ToolResult:
    """Exit status and output of one external tool run."""

    returncode: int
    stdout: bytes
    stderr: str


def _limits(memory_limit: int | None, cpu_seconds: int | None) -> list[tuple[int, tuple[int, int]]]:
    """The rlimits to apply in the child, clamped to the current hard limits (computed in the parent)."""
    wanted: list[tuple[int, tuple[int, int]]] = []
    for which, soft, hard in (
        (resource.RLIMIT_AS, memory_limit, memory_limit),
        (resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 5 if cpu_seconds else None),
    ):
        if not soft or not hard:
            continue
        _, current_hard = resource.getrlimit(which)
        if current_hard != resource.RLIM_INFINITY:
            soft, hard = min(soft, current_hard), min(hard, current_hard)
        wanted.append((which, (soft, hard)))
    return wanted


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()


def run_tool(
    args: Sequence[str],
    *,
    timeout: float,
    memory_limit: int | None,
    on_stdout: Callable[[bytes], None] | None = None,
) -> ToolResult:
    """Run a tool with an address-space and CPU rlimit, killing its process group after *timeout* seconds.

    Standard output is collected, or streamed chunk by chunk to *on_stdout* when given (nothing is then
    kept in memory). Raises :class:`ToolTimeout` when the time is up or the CPU limit killed the tool.
    """
    cpu_seconds = math.ceil(timeout * max(os.cpu_count() or 1, 1)) + 1
    limits = _limits(memory_limit, cpu_seconds)

    def preexec() -> None:  # runs in the child between fork and exec: no allocation-heavy work here
        for which, values in limits:
            resource.setrlimit(which, values)

    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            preexec_fn=preexec,  # rlimits must be set in the child, before exec
            start_new_session=True,
            close_fds=True,
        )
        try:
            assert proc.stdout is not None
            fd = proc.stdout.fileno()
            with selectors.DefaultSelector() as selector:
                selector.register(fd, selectors.EVENT_READ)
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise subprocess.TimeoutExpired(args[0], timeout)
                    if not selector.select(remaining):
                        continue
                    data = os.read(fd, 1 << 16)
                    if not data:
                        break
                    if on_stdout is not None:
                        on_stdout(data)
                    else:
                        chunks.append(data)
            proc.wait(timeout=max(deadline - time.monotonic(), 0.001))
        except subprocess.TimeoutExpired:
            _kill(proc)
            logger.warning("%s killed after %s s", args[0], timeout)
            raise ToolTimeout(timeout) from None
        except BaseException:
            _kill(proc)
            raise
        finally:
            if proc.stdout is not None:
                proc.stdout.close()
        err.seek(0, os.SEEK_END)
        size = err.tell()
        err.seek(max(size - STDERR_TAIL, 0))
        stderr = err.read().decode("utf-8", "replace")
    if proc.returncode == -signal.SIGXCPU:
        logger.warning("%s stopped by its CPU limit (%s s)", args[0], cpu_seconds)
        raise ToolTimeout(timeout)
    return ToolResult(proc.returncode, b"".join(chunks), stderr)


def input_args(src: Path, demuxer: str) -> list[str]:
    """The common ffmpeg/ffprobe input options: local file protocol only, a forced demuxer, then the file."""
    return ["-protocol_whitelist", "file", "-f", demuxer, "-i", f"file:{src}"]


# --------------------------------------------------------------------------------------------------
# Sniffing
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sniffed:
    """What the first bytes of a file say it is."""

    kind: str  # 'image' | 'audio' | 'video' | 'unknown-av'
    mime: str
    demuxer: str | None  # ffmpeg demuxer to force with -f; None for images
    extension: str


_JPEG = Sniffed("image", "image/jpeg", None, "jpg")
_PNG = Sniffed("image", "image/png", None, "png")
_TIFF = Sniffed("image", "image/tiff", None, "tif")
_WEBP = Sniffed("image", "image/webp", None, "webp")
_WAV = Sniffed("audio", "audio/wav", "wav", "wav")
_MP3 = Sniffed("audio", "audio/mpeg", "mp3", "mp3")
_FLAC = Sniffed("audio", "audio/flac", "flac", "flac")

#: ISO BMFF major brands: audio-only (M4P is FairPlay-protected and cannot be decoded: refused).
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"F4A ", b"F4B "}
_QUICKTIME_BRANDS = {b"qt  "}
_VIDEO_BRANDS = {b"M4V ", b"M4VH", b"M4VP", b"avc1", b"F4V ", b"F4P ", b"XAVC", b"MSNV"}
#: Brands that say "ISO media" but not whether there is a picture.
_GENERIC_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9",
    b"mp41", b"mp42", b"mp71", b"dash", b"mmp4", b"3gp4", b"3gp5", b"3gp6", b"3gp7", b"3gp8", b"3gp9",
    b"3gg6", b"3gs6", b"3g2a", b"3g2b", b"3g2c", b"NDAS", b"NDSC", b"NDSH", b"NDSM", b"NDSP", b"NDSS",
    b"NDXC", b"NDXH", b"NDXM", b"NDXP", b"NDXS", b"CAEP", b"caqv",
}  # fmt: skip
#: QuickTime files written before the ftyp box existed start with one of these atoms.
_LEGACY_QT_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}

_MPEG_BITRATES = {
    (3, 3): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (3, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (3, 1): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (2, 3): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (2, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (2, 1): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MPEG_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}

#: Text that points elsewhere: playlists, manifests, concat lists, session descriptions.
_REFERENCE_PREFIXES = ("#extm3u", "#ext-x-", "#extinf", "ffconcat", "[playlist]", "v=0")
_REFERENCE_MARKERS = ("<mpd", "<smil", "<asx", "<playlist", "#ext-x-", "urn:mpeg:dash")
_URL_LINE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]{1,15}://|file\s+['\"]?\S|/\S+\.\w{2,4}\s*$)", re.I | re.M)


def sniff(path: Path) -> Sniffed:
    """Decide the type of a file from its magic bytes alone; refuses what the archive does not take."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
        if not head:
            raise MediaRejected("empty", {})
        found = _sniff_head(head) or _sniff_mp3(handle, head)
    if found is not None:
        logger.debug("sniffed %s as %s", path.name, found.mime)
        return found
    if _is_reference_text(head):
        raise MediaRejected("external_reference", {})
    raise MediaRejected("unsupported_type", {})


def _sniff_head(head: bytes) -> Sniffed | None:
    if head.startswith(b"\xff\xd8\xff"):
        return _JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _PNG
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return _TIFF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _WEBP
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return _WAV
    if head.startswith(b"fLaC"):
        return _FLAC
    if head.startswith(b"OggS"):
        return _sniff_ogg(head)
    if head[4:8] == b"ftyp":
        return _sniff_ftyp(head)
    if head[4:8] in _LEGACY_QT_ATOMS and int.from_bytes(head[:4], "big") != 2:
        return Sniffed("unknown-av", "video/quicktime", "mov", "mov")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return _sniff_ebml(head)
    return None


def _sniff_ogg(head: bytes) -> Sniffed | None:
    if len(head) < 27:
        return None
    segments = head[26]
    start = 27 + segments
    packet = head[start : start + 16]
    if packet.startswith(b"OpusHead"):
        return Sniffed("audio", "audio/ogg", "ogg", "opus")
    if packet.startswith((b"\x01vorbis", b"\x7fFLAC", b"Speex   ")):
        return Sniffed("audio", "audio/ogg", "ogg", "ogg")
    return None  # Theora, Skeleton, VP8 in Ogg...: not taken


def _sniff_ftyp(head: bytes) -> Sniffed | None:
    size = int.from_bytes(head[:4], "big")
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
    if major in _AUDIO_BRANDS:
        return Sniffed("audio", "audio/mp4", "mov", "m4a")
    if major in _QUICKTIME_BRANDS:
        return Sniffed("video", "video/quicktime", "mov", "mov")
    if major in _VIDEO_BRANDS:
        return Sniffed("video", "video/mp4", "mov", "mp4")
    if major in _GENERIC_BRANDS or (compatible & (_GENERIC_BRANDS | _VIDEO_BRANDS | _AUDIO_BRANDS)):
        if compatible & {b"heic", b"heix", b"mif1", b"msf1", b"avif", b"avis", b"crx "}:
            return None  # HEIF/AVIF pictures and camera raw files share the box structure
        if major.startswith(b"3g"):
            return Sniffed("unknown-av", "video/3gpp", "mov", "3gp")
        return Sniffed("unknown-av", "video/mp4", "mov", "mp4")
    return None


def _read_vint(data: bytes, pos: int) -> tuple[int, int, bool] | None:
    """(value, length, unknown-size) of an EBML variable-size integer at *pos*."""
    if pos >= len(data) or data[pos] == 0:
        return None
    first = data[pos]
    length = 8 - first.bit_length() + 1
    if pos + length > len(data):
        return None
    value = first & ((1 << (8 - length)) - 1)
    for byte in data[pos + 1 : pos + length]:
        value = (value << 8) | byte
    return value, length, value == (1 << (7 * length)) - 1


def _sniff_ebml(head: bytes) -> Sniffed | None:
    header = _read_vint(head, 4)
    if header is None:
        return None
    size, length, _ = header
    body = head[4 + length : 4 + length + size]
    at = body.find(b"\x42\x82")
    doc = _read_vint(body, at + 2) if at >= 0 else None
    if doc is None:
        return None
    doctype = body[at + 2 + doc[1] : at + 2 + doc[1] + doc[0]].rstrip(b"\x00")
    if doctype == b"webm":
        return Sniffed("unknown-av", "video/webm", "matroska", "webm")
    if doctype == b"matroska":
        return Sniffed("unknown-av", "video/x-matroska", "matroska", "mkv")
    return None


def _mpeg_frame_length(header: bytes) -> tuple[int, tuple[int, int, int]] | None:
    """Length and (version, layer, rate) of an MPEG audio frame starting with *header*, or None."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version, layer = (header[1] >> 3) & 3, (header[1] >> 1) & 3
    bitrate_index, rate_index, padding = header[2] >> 4, (header[2] >> 2) & 3, (header[2] >> 1) & 1
    if version == 1 or layer == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    bitrate = _MPEG_BITRATES[(3 if version == 3 else 2, layer)][bitrate_index - 1] * 1000
    rate = _MPEG_RATES[version][rate_index]
    if layer == 3:  # layer I
        length = (12 * bitrate // rate + padding) * 4
    elif layer == 1 and version != 3:  # layer III, MPEG-2/2.5
        length = 72 * bitrate // rate + padding
    else:
        length = 144 * bitrate // rate + padding
    return length, (version, layer, rate_index)


def _find_mpeg_frames(data: bytes, limit: int) -> int:
    """Offset of the first of two consecutive, consistent MPEG audio frames starting before *limit*, or -1."""
    pos = data.find(b"\xff")
    while 0 <= pos < limit:
        first = _mpeg_frame_length(data[pos : pos + 4])
        if first is not None:
            length, shape = first
            following = _mpeg_frame_length(data[pos + length : pos + length + 4])
            if following is not None and following[1] == shape:
                return pos
        pos = data.find(b"\xff", pos + 1)
    return -1


def _skip_id3(handle, head: bytes) -> tuple[bytes, int] | None:
    """The bytes after any leading ID3v2 tags (up to MP3_SCAN_BYTES) and how many tags were skipped."""
    offset = 0
    tags = 0
    data = head
    while data[:3] == b"ID3" and len(data) >= 10 and tags < MAX_ID3_TAGS:
        size = 0
        for byte in data[6:10]:
            if byte & 0x80:
                return None
            size = (size << 7) | byte
        offset += 10 + size + (10 if data[5] & 0x10 else 0)
        tags += 1
        handle.seek(offset)
        data = handle.read(MP3_SCAN_BYTES)
    return data, tags


def _mp3_start(handle, head: bytes) -> tuple[bytes, int] | None:
    """The data after the ID3 tags and the offset in it of the first MPEG audio frame, if any."""
    skipped = _skip_id3(handle, head)
    if skipped is None:
        return None
    data, tags = skipped
    pos = _find_mpeg_frames(data, MP3_SCAN_BYTES - 4 if tags else 1)
    return (data, pos) if pos >= 0 else None


def _sniff_mp3(handle, head: bytes) -> Sniffed | None:
    skipped = _skip_id3(handle, head)
    if skipped is not None and skipped[1] and skipped[0].startswith(b"fLaC"):
        return _FLAC
    handle.seek(0)
    return _MP3 if _mp3_start(handle, head) is not None else None


def _mp3_has_vbr_header(path: Path) -> bool:
    """True when the first MPEG audio frame carries a Xing/Info/VBRI header (an exact duration)."""
    with path.open("rb") as handle:
        start = _mp3_start(handle, handle.read(HEAD_BYTES))
    if start is None:
        return False
    data, pos = start
    frame = data[pos + 4 : pos + 48]
    return any(tag in frame for tag in (b"Xing", b"Info", b"VBRI"))


def _is_reference_text(head: bytes) -> bool:
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            text = head[len(bom) :].decode(codec, "replace")
            break
    else:
        text = head.decode("latin-1")
    lowered = text.lstrip().lower()
    if lowered.startswith(_REFERENCE_PREFIXES) or any(marker in lowered for marker in _REFERENCE_MARKERS):
        return True
    return "\x00" not in text and bool(_URL_LINE.search(text))


# --------------------------------------------------------------------------------------------------
# File name against content
# --------------------------------------------------------------------------------------------------

#: Families of file-name extensions; names within a family are interchangeable.
_EXTENSION_FAMILIES = {
    "JPEG": ("jpg", "jpeg", "jpe", "jfif", "jif"),
    "PNG": ("png", "apng"),
    "TIFF": ("tif", "tiff"),
    "WebP": ("webp",),
    "WAV": ("wav", "wave", "bwf", "rf64"),
    "MP3": ("mp3", "mp2", "mpga"),
    "FLAC": ("flac",),
    "Ogg": ("ogg", "oga", "opus", "spx"),
    "MP4/MOV": ("mp4", "m4v", "m4a", "m4b", "mov", "qt", "3gp", "3g2", "f4v", "f4a"),
    "Matroska/WebM": ("mkv", "mka", "mk3d", "webm", "weba"),
    # Known media types the archive does not take: a name saying one of these never matches.
    "GIF": ("gif",),
    "BMP": ("bmp", "dib"),
    "HEIF": ("heic", "heif", "avif"),
    "JPEG 2000": ("jp2", "j2k", "jpf", "jpx"),
    "JPEG XL": ("jxl",),
    "SVG": ("svg", "svgz"),
    "PSD": ("psd",),
    "camera raw": ("dng", "cr2", "cr3", "nef", "arw", "orf", "rw2", "raf"),
    "AVI": ("avi",),
    "Windows Media": ("wmv", "wma", "asf"),
    "Flash video": ("flv",),
    "MPEG": ("mpg", "mpeg", "vob", "ts", "m2ts", "mts"),
    "AIFF": ("aif", "aiff", "aifc"),
    "AAC": ("aac",),
    "AMR": ("amr",),
    "playlist": ("m3u", "m3u8", "pls", "mpd", "xspf", "asx", "sdp", "ffconcat"),
    "PDF": ("pdf",),
    "text": ("txt", "html", "htm", "xml", "json", "csv"),
}
_FAMILY_OF = {ext: family for family, exts in _EXTENSION_FAMILIES.items() for ext in exts}
_CONTENT_FAMILY = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/tiff": "TIFF",
    "image/webp": "WebP",
    "audio/wav": "WAV",
    "audio/mpeg": "MP3",
    "audio/flac": "FLAC",
    "audio/ogg": "Ogg",
}
_DEMUXER_FAMILY = {"mov": "MP4/MOV", "matroska": "Matroska/WebM"}


def content_family(sniffed: Sniffed) -> str:
    """A human-readable name of the detected type's family (e.g. 'JPEG', 'MP4/MOV')."""
    return _DEMUXER_FAMILY.get(sniffed.demuxer or "") or _CONTENT_FAMILY.get(sniffed.mime, sniffed.mime)


def check_filename(sniffed: Sniffed, filename: str) -> None:
    """Refuse (``type_mismatch``) a file whose name claims another known media type than its content."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    if "." not in name.strip("."):
        return
    claimed = _FAMILY_OF.get(name.rsplit(".", 1)[1].strip().lower())
    detected = content_family(sniffed)
    if claimed is not None and claimed != detected:
        raise MediaRejected("type_mismatch", {"detected": detected, "claimed": claimed})


# --------------------------------------------------------------------------------------------------
# Pictures
# --------------------------------------------------------------------------------------------------

_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/tiff": "TIFF", "image/webp": "WEBP"}
_PIL_ERRORS = (SyntaxError, ValueError, OSError, EOFError, TypeError, IndexError, KeyError, struct.error)
#: Pillow's decompression-bomb limit and truncated-image switch are process-wide. A check only ever raises
#: the limit (never lowers or disables it) and only switches truncated loading off, under this lock, and
#: puts back what it changed unless someone else changed it meanwhile.
_PILLOW_SETTINGS = threading.Lock()


def check_image(path: Path, sniffed: Sniffed, *, max_pixels: int) -> tuple[int, int]:
    """Refuse oversized, truncated or corrupt pictures; return (width, height) as shown (EXIF-rotated)."""
    pil_format = _PIL_FORMATS.get(sniffed.mime)
    if sniffed.kind != "image" or pil_format is None:
        raise MediaRejected("unsupported_type", {})
    with _PILLOW_SETTINGS, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # Pillow's complaints about odd metadata are logged, not raised
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            width, height = _header_size(path, pil_format)
            if width * height > max_pixels:
                raise MediaRejected("pixel_limit", {"pixels": width * height, "limit": max_pixels})
            with _strict_pillow(max_pixels):
                orientation = _decode(path, pil_format, width * height, max_pixels)
        finally:
            for warning in caught:
                logger.info("%s: %s", path.name, warning.message)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return width, height


@contextmanager
def _strict_pillow(max_pixels: int) -> Iterator[None]:
    """Let Pillow decode up to *max_pixels* and refuse truncated data while the block runs."""
    saved_truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    if saved_truncated:
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with allow_pixels(max_pixels):
            yield
    finally:
        if saved_truncated and ImageFile.LOAD_TRUNCATED_IMAGES is False:
            ImageFile.LOAD_TRUNCATED_IMAGES = saved_truncated


def _header_size(path: Path, pil_format: str) -> tuple[int, int]:
    """The picture's size from its header, through the format's own plugin: nothing is decoded and
    Pillow's process-wide bomb limit is neither consulted nor changed (the limit check is ours)."""
    Image.init()
    factory, accept = Image.OPEN[pil_format]
    with path.open("rb") as handle:
        try:
            if accept is not None and not accept(handle.read(16)):
                raise MediaRejected("unreadable", {})
            handle.seek(0)
            image = factory(handle, path.name)
            try:
                width, height = image.size
            finally:
                image.close()
        except _PIL_ERRORS as exc:
            logger.info("%s: header unreadable: %s", path.name, exc)
            raise MediaRejected("unreadable", {}) from exc
    if width <= 0 or height <= 0:
        raise MediaRejected("unreadable", {})
    return width, height


def _decode(path: Path, pil_format: str, pixels: int, max_pixels: int) -> int:
    """Fully decode the picture (after checking chunk integrity where Pillow can); the EXIF orientation."""
    try:
        with Image.open(path, formats=[pil_format]) as image:
            image.verify()
        with Image.open(path, formats=[pil_format]) as image:
            image.load()
            return int(image.getexif().get(ExifTags.Base.Orientation, 1) or 1)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise MediaRejected("pixel_limit", {"pixels": pixels, "limit": max_pixels}) from exc
    except _PIL_ERRORS as exc:
        code = "truncated" if "truncat" in str(exc).lower() or isinstance(exc, EOFError) else "unreadable"
        logger.info("%s: refused as %s: %s", path.name, code, exc)
        raise MediaRejected(code, {}) from exc


# --------------------------------------------------------------------------------------------------
# Sound and video
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AVFacts:
    """What ffprobe says about an accepted sound or video original."""

    kind: str  # 'audio' | 'video'
    mime: str
    duration: float
    width: int | None = None
    height: int | None = None
    audio_codec: str | None = None
    video_codec: str | None = None
    format_name: str = ""


def probe_av(
    path: Path,
    sniffed: Sniffed,
    *,
    ffprobe: str = "ffprobe",
    timeout: float = 30,
    memory_limit: int = 512 * 2**20,
    max_duration: float | None = None,
) -> AVFacts:
    """Probe a sound or video file with its demuxer forced; refuse what cannot be read or is too long."""
    if sniffed.demuxer is None or sniffed.kind == "image":
        raise MediaRejected("unsupported_type", {})
    if _container_truncated(path, sniffed.demuxer):
        raise MediaRejected("truncated", {})
    args = [ffprobe, "-hide_banner", "-v", "error", *input_args(path, sniffed.demuxer)]
    args += ["-print_format", "json", "-show_format", "-show_streams"]
    try:
        result = run_tool(args, timeout=timeout, memory_limit=memory_limit)
    except ToolTimeout as exc:
        raise MediaRejected("probe_timeout", {"seconds": timeout}) from exc
    if result.returncode != 0:
        logger.info("ffprobe refused %s (%s): %s", path.name, result.returncode, result.stderr.strip())
        raise MediaRejected("unreadable", {})
    try:
        info = json.loads(result.stdout)
    except ValueError as exc:
        raise MediaRejected("unreadable", {}) from exc
    audio, video = _main_streams(info, sniffed)
    fmt = info.get("format") or {}
    start = _float(fmt.get("start_time")) or 0.0
    duration = _positive(fmt.get("duration")) or max(
        (d for d in (_positive(s.get("duration")) for s in info.get("streams") or []) if d), default=None
    )
    from_header = duration is not None
    if duration is None:  # e.g. a live-recorded WebM: the data alone tell how long it is
        end = _packets_end(
            path, sniffed.demuxer, None, ffprobe=ffprobe, timeout=timeout, memory_limit=memory_limit
        )
        duration = _positive(end - start) if end is not None else None
    if duration is None:
        raise MediaRejected("unreadable", {})
    if max_duration is not None and duration > max_duration:
        raise MediaRejected("too_long", {"seconds": max_duration})
    if from_header and _needs_tail_check(path, sniffed.demuxer):
        expected = start + duration
        end = _packets_end(
            path,
            sniffed.demuxer,
            expected - TAIL_SECONDS,
            ffprobe=ffprobe,
            timeout=timeout,
            memory_limit=memory_limit,
        )
        if end is None or end < expected - max(TAIL_TOLERANCE, 0.01 * duration):
            logger.info("%s ends at %s s, its header says %s s", path.name, end, expected)
            raise MediaRejected("truncated", {})
    kind = "video" if video is not None else "audio"
    return AVFacts(
        kind=kind,
        mime=_mime(sniffed, kind),
        duration=round(duration, 3),
        width=int(video["width"]) if video else None,
        height=int(video["height"]) if video else None,
        audio_codec=audio.get("codec_name") if audio else None,
        video_codec=video.get("codec_name") if video else None,
        format_name=str(fmt.get("format_name") or ""),
    )


def _needs_tail_check(path: Path, demuxer: str) -> bool:
    """Containers whose duration comes from a header rather than from the data actually present."""
    return demuxer in ("flac", "matroska") or (demuxer == "mp3" and _mp3_has_vbr_header(path))


class _PacketEnd:
    """Streaming reader of ffprobe's "pts_time,duration_time" CSV lines: the latest packet end."""

    def __init__(self) -> None:
        self.pending = b""
        self.end: float | None = None

    def feed(self, data: bytes) -> None:
        lines = (self.pending + data).split(b"\n")
        self.pending = lines.pop()
        for line in lines:
            self._line(line)

    def _line(self, line: bytes) -> None:
        fields = line.decode("ascii", "replace").split(",")
        pts = _float(fields[0])
        if pts is not None:
            length = _float(fields[1]) if len(fields) > 1 else None
            self.end = max(self.end if self.end is not None else pts, pts + max(length or 0.0, 0.0))

    def finish(self) -> float | None:
        if self.pending:
            self._line(self.pending)
            self.pending = b""
        return self.end


def _packets_end(
    path: Path, demuxer: str, read_from: float | None, *, ffprobe: str, timeout: float, memory_limit: int
) -> float | None:
    """The end time of the last packet, reading from *read_from* seconds (or the whole file)."""
    args = [ffprobe, "-hide_banner", "-v", "error"]
    if read_from is not None:
        args += ["-read_intervals", f"{max(read_from, 0):.3f}%"]
    args += [*input_args(path, demuxer), "-show_entries", "packet=pts_time,duration_time", "-of", "csv=p=0"]
    reader = _PacketEnd()
    try:
        result = run_tool(args, timeout=timeout, memory_limit=memory_limit, on_stdout=reader.feed)
    except ToolTimeout as exc:
        raise MediaRejected("probe_timeout", {"seconds": timeout}) from exc
    if result.returncode != 0:
        logger.info("ffprobe could not read the packets of %s: %s", path.name, result.stderr.strip())
        raise MediaRejected("unreadable", {})
    return reader.finish()


def _float(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _positive(value) -> float | None:
    number = _float(value)
    return number if number is not None and number > 0 else None


def _main_streams(info: dict, sniffed: Sniffed) -> tuple[dict | None, dict | None]:
    """The first decodable audio stream and the first real (not cover art) video stream."""
    streams = [s for s in info.get("streams") or [] if isinstance(s, dict)]
    audio = next((s for s in streams if s.get("codec_type") == "audio" and s.get("codec_name")), None)
    video = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video"
            and s.get("codec_name")
            and not (s.get("disposition") or {}).get("attached_pic")  # cover art is not a video
            and (s.get("width") or 0) > 0
        ),
        None,
    )
    if sniffed.demuxer not in ("mov", "matroska"):
        video = None  # MP3, FLAC, Ogg and WAV are sound whatever pictures they carry
    if audio is None and video is None:
        raise MediaRejected("no_stream", {})
    return audio, video


def _mime(sniffed: Sniffed, kind: str) -> str:
    if sniffed.demuxer == "mov":
        if kind == "audio":
            return "audio/mp4"
        return "video/quicktime" if sniffed.mime == "video/quicktime" else sniffed.mime
    if sniffed.demuxer == "matroska":
        webm = sniffed.extension == "webm"
        if kind == "audio":
            return "audio/webm" if webm else "audio/x-matroska"
        return "video/webm" if webm else "video/x-matroska"
    return sniffed.mime


def _container_truncated(path: Path, demuxer: str) -> bool:
    """True when the container's own structure says the file ends early (ISO BMFF boxes, Matroska
    segment, RIFF size): ffprobe happily reports such files when their index comes first."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        if demuxer == "mov":
            return _boxes_truncated(handle, size)
        if demuxer == "matroska":
            return _segment_truncated(handle.read(HEAD_BYTES), size)
        if demuxer == "wav":
            head = handle.read(12)
            declared = int.from_bytes(head[4:8], "little")
            return head[:4] == b"RIFF" and declared not in (0, 0xFFFFFFFF) and declared + 8 > size + 1
    return False


def _boxes_truncated(handle, size: int) -> bool:
    offset = 0
    for _ in range(MAX_BOXES):
        if offset >= size:
            return False
        handle.seek(offset)
        header = handle.read(16)
        if len(header) < 8:
            return True
        box = int.from_bytes(header[:4], "big")
        if box == 1:
            if len(header) < 16:
                return True
            box = int.from_bytes(header[8:16], "big")
        elif box == 0:
            return False  # the last box runs to the end of the file
        if box < 8:
            raise MediaRejected("unreadable", {})
        if offset + box > size:
            return True
        offset += box
    return False


def _segment_truncated(head: bytes, size: int) -> bool:
    header = _read_vint(head, 4)
    if header is None:
        return False
    pos = 4 + header[1] + header[0]
    if head[pos : pos + 4] != b"\x18\x53\x80\x67":
        return False
    segment = _read_vint(head, pos + 4)
    if segment is None or segment[2]:
        return False  # live recordings leave the segment size unknown
    return pos + 4 + segment[1] + segment[0] > size


# --------------------------------------------------------------------------------------------------
# Captions
# --------------------------------------------------------------------------------------------------

_TIMESTAMP = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMING = re.compile(rf"^{_TIMESTAMP}[ \t]+-->[ \t]+{_TIMESTAMP}(?:[ \t]+.*)?$")


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def _starts_block(line: str, word: str) -> bool:
    return line == word or line.startswith((word + " ", word + "\t"))


def _bad(reason: str, line: int = 0) -> MediaRejected:
    return MediaRejected("bad_captions", {"reason": reason, "line": line})


def check_webvtt(data: bytes, max_bytes: int = 2_000_000) -> str:
    """Validate WebVTT captions; return them as NFC text with LF line ends."""
    if len(data) > max_bytes:
        raise MediaRejected("too_large", {"limit": max_bytes})
    if not data:
        raise MediaRejected("empty", {})
    if b"\x00" in data:
        raise _bad("nul")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _bad("encoding") from exc
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = text.split("\n")
    if not re.match(r"^WEBVTT(?:[ \t].*)?$", lines[0]):
        raise _bad("header", 1)
    number = 1
    while number < len(lines) and lines[number].strip():  # header lines up to the first blank line
        if "-->" in lines[number]:
            raise _bad("header", number + 1)
        number += 1
    cues = 0
    while number < len(lines):
        if not lines[number].strip():
            number += 1
            continue
        start = number
        block = []
        while number < len(lines) and lines[number].strip():
            block.append(lines[number])
            number += 1
        keyword = next((word for word in ("NOTE", "STYLE", "REGION") if _starts_block(block[0], word)), None)
        if keyword is not None:
            if keyword != "NOTE" and cues:
                raise _bad("style_after_cue", start + 1)
            if any("-->" in line for line in block):
                raise _bad("timing", start + 1)
            continue
        timing_index = 0 if "-->" in block[0] else 1
        if timing_index >= len(block):
            raise _bad("timing", start + 1)
        match = _TIMING.match(block[timing_index].strip())
        if match is None:
            raise _bad("timing", start + timing_index + 1)
        begin, end = _seconds(*match.groups()[:4]), _seconds(*match.groups()[4:])
        if end <= begin:
            raise _bad("timing_order", start + timing_index + 1)
        if any("-->" in line for line in block[timing_index + 1 :]):
            raise _bad("timing", start + timing_index + 2)
        cues += 1
    if cues == 0:
        raise _bad("no_cues")
    return text


_VTT_TAG = re.compile(r"<[^>]*>")


def webvtt_cue_text(text: str) -> str:
    """The spoken or written words of a checked WebVTT file (cue payloads only, tags removed), for search."""
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n"))
    out = []
    for block in blocks[1:]:  # the first block is the WEBVTT header
        lines = block.strip("\n").split("\n")
        if not lines or lines[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        timing = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing is None:
            continue
        payload = " ".join(_VTT_TAG.sub("", line).strip() for line in lines[timing + 1 :])
        if payload.strip():
            out.append(payload.strip())
    return "\n".join(out)
