"""The upload abuse corpus: hostile files and hostile names, generated at test time (nothing big is
committed). Each item says what the archive must answer; tests/abuse/test_upload_abuse.py runs every item
through every upload path that takes its kind. docs/abuse-corpus.md describes the corpus."""

from __future__ import annotations

import io
import socket
import struct
import subprocess
import threading
import uuid
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

#: Text that would show a local file leaked into a response, a rendition or a log.
PASSWD_MARKERS = (b"root:x:0:0", b"root:*:0:0", b"/bin/bash", b"daemon:x:")


@dataclass(frozen=True)
class HostileFile:
    """One hostile upload: its bytes (made on demand), the name it is sent under, and the expected answer.

    ``answer`` is ``refused`` (a 4xx with the message of ``reason``, nothing kept) or ``inert`` (a valid
    file of an accepted type carrying a payload: it may be kept, but only as its sniffed media type, and
    the payload never reaches a page or a rendition).
    """

    label: str
    make: Callable[[str], bytes]  # argument: the loopback listener's URL ("http://127.0.0.1:port")
    filename: str
    answer: str
    reason: str | None = None  # media.checks reason code for refusals


# --- pictures ---------------------------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_flood(width: int = 60000, height: int = 60000) -> bytes:
    """A 100-byte PNG whose header claims width x height pixels (a pixel flood)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 64))


def png_decompression_bomb(side: int = 20000) -> bytes:
    """A real, complete 1-bit PNG of side x side black pixels: ~50 KB that decode to 400 megapixels."""
    row = b"\0" + b"\0" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def small_jpeg(size=(64, 48), color=None) -> bytes:
    """A small valid JPEG of unique content (never refused as a duplicate)."""
    color = color or tuple(uuid.uuid4().bytes[:3])
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def jpeg_header_flood(width: int = 65000, height: int = 65000) -> bytes:
    """A small JPEG whose SOF header is rewritten to claim width x height pixels."""
    data = bytearray(small_jpeg())
    sof = next(i for i in range(2, len(data) - 9) if data[i] == 0xFF and data[i + 1] in (0xC0, 0xC2))
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def gif_header_flood() -> bytes:
    """A GIF89a claiming 65535 x 65535 pixels (GIF is not an accepted type at all)."""
    return (
        b"GIF89a"
        + struct.pack("<HH", 65535, 65535)
        + b"\x00\x00\x00"
        + b",\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;"
    )


def tiff_header_flood(width: int = 100000, height: int = 100000) -> bytes:
    """A baseline little-endian TIFF whose IFD claims width x height 1-bit pixels in one tiny strip."""
    entries = [
        (256, 4, 1, width),  # ImageWidth (LONG)
        (257, 4, 1, height),  # ImageLength
        (258, 3, 1, 1),  # BitsPerSample
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 1),  # Photometric: black is zero
        (273, 4, 1, 8),  # StripOffsets: right after the header
        (278, 4, 1, height),  # RowsPerStrip
        (279, 4, 1, 16),  # StripByteCounts (a lie)
    ]
    ifd_offset = 8 + 16
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        ifd += struct.pack("<HHI", tag, kind, count) + (
            struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        )
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", ifd_offset) + b"\0" * 16 + ifd


# --- polyglots --------------------------------------------------------------------------------------------

HTML_PAYLOAD = b"<html><body><script>alert('abuse-corpus')</script></body></html>"
SCRIPT_MARK = "alert('abuse-corpus')"


def jpeg_zip_polyglot() -> bytes:
    """A valid JPEG with a ZIP file (holding an HTML page) appended: a picture and a ZIP at once."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("index.html", HTML_PAYLOAD)
    return small_jpeg() + buffer.getvalue()


def gif_js_polyglot() -> bytes:
    """GIF89a header that is also JavaScript (the classic GIFAR/GIF-JS trick)."""
    return b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=1;" + HTML_PAYLOAD + b";\x00;"


def pdf_html_polyglot() -> bytes:
    """A PDF header followed by an HTML page."""
    return b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + HTML_PAYLOAD + b"\n%%EOF\n"


def svg_with_script() -> bytes:
    """An SVG picture with a script."""
    return (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>alert('abuse-corpus')</script><rect width='10' height='10'/></svg>\n"
    )


def mp3_with_html_id3(tmp_dir: Path) -> bytes:
    """A real MP3 whose ID3 title and comment hold an HTML page (valid sound carrying a payload)."""
    path = tmp_dir / f"id3-{uuid.uuid4().hex}.mp3"
    seconds = 1 + (uuid.uuid4().int % 500) / 1000
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency=500:duration={seconds}",
         "-metadata", f"title={HTML_PAYLOAD.decode()}", "-metadata", f"comment={HTML_PAYLOAD.decode()}",
         "-id3v2_version", "3", "-c:a", "libmp3lame", str(path)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    data = path.read_bytes()
    path.unlink()
    return data


# --- playlists and references -------------------------------------------------------------------------


def hls_to_local_file(_url: str) -> bytes:
    """An HLS playlist whose segments are local files."""
    return (
        b"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile:///etc/passwd\n"
        b"#EXTINF:10.0,\n/etc/passwd\n#EXT-X-ENDLIST\n"
    )


def hls_to_loopback(url: str) -> bytes:
    """An HLS playlist (with a key and a map) pointing at the test's loopback listener."""
    return (
        f'#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-KEY:METHOD=AES-128,URI="{url}/key"\n'
        f'#EXT-X-MAP:URI="{url}/init.mp4"\n#EXTINF:10.0,\n{url}/segment.ts\n#EXT-X-ENDLIST\n'
    ).encode()


def hls_with_bom_and_blank_lines(url: str) -> bytes:
    """An HLS playlist behind a UTF-8 byte-order mark and blank lines."""
    return b"\xef\xbb\xbf\n\n  " + hls_to_loopback(url)


def ffconcat_list(_url: str) -> bytes:
    """An ffconcat script naming local files."""
    return b"ffconcat version 1.0\nfile '/etc/passwd'\nfile 'file:/etc/hostname'\n"


def plain_m3u(url: str) -> bytes:
    """An old-style .m3u (no header): one URL a line."""
    return f"{url}/song.mp3\nfile:///etc/passwd\n".encode()


def id3_then_playlist(url: str) -> bytes:
    """An ID3 tag followed by a playlist instead of MPEG frames."""
    header = b"ID3\x03\x00\x00" + bytes([0, 0, 0, 10]) + b"\0" * 10
    return header + hls_to_loopback(url)


#: Every hostile media file (refused ones first). Names are what a client sends.
def media_items(tmp_dir: Path) -> list[HostileFile]:
    """The hostile media files of the corpus; *tmp_dir* is used to make the ones that need ffmpeg."""
    NO = "refused"
    return [
        HostileFile("png pixel flood", lambda _u: png_header_flood(), "flood.png", NO, "pixel_limit"),
        HostileFile("png decompression bomb", lambda _u: png_decompression_bomb(), "bomb.png", "refused",
                    "pixel_limit"),
        HostileFile("jpeg pixel flood", lambda _u: jpeg_header_flood(), "flood.jpg", "refused",
                    "pixel_limit"),
        HostileFile("tiff pixel flood", lambda _u: tiff_header_flood(), "flood.tif", NO, "pixel_limit"),
        HostileFile("gif pixel flood", lambda _u: gif_header_flood(), "flood.gif", NO, "unsupported_type"),
        HostileFile("gif+js polyglot", lambda _u: gif_js_polyglot(), "anh.gif", NO, "unsupported_type"),
        HostileFile("pdf+html polyglot", lambda _u: pdf_html_polyglot(), "tai-lieu.jpg", "refused",
                    "unsupported_type"),
        HostileFile("svg with script", lambda _u: svg_with_script(), "logo.svg", NO, "unsupported_type"),
        HostileFile("html named jpg", lambda _u: HTML_PAYLOAD, "photo.jpg", NO, "unsupported_type"),
        HostileFile("hls to local file", hls_to_local_file, "video.mp4", NO, "external_reference"),
        HostileFile("hls to loopback as mp3", hls_to_loopback, "song.mp3", NO, "external_reference"),
        HostileFile("hls behind a bom", hls_with_bom_and_blank_lines, "clip.mov", "refused",
                    "external_reference"),
        HostileFile("ffconcat list", ffconcat_list, "list.mp4", NO, "external_reference"),
        HostileFile("plain m3u", plain_m3u, "radio.mp3", NO, "external_reference"),
        HostileFile("id3 then playlist", id3_then_playlist, "track.mp3", NO, "external_reference"),
        HostileFile("jpeg+zip polyglot", lambda _u: jpeg_zip_polyglot(), "polyglot.jpg", "inert"),
        HostileFile("mp3 with html in id3", lambda _u: mp3_with_html_id3(tmp_dir), "bai-hat.mp3", "inert"),
    ]  # fmt: skip


# --- hostile names ------------------------------------------------------------------------------------------

#: File names that try to leave a directory or confuse a file system or a reader.
HOSTILE_NAMES = [
    "../../../../etc/passwd.jpg",
    "/etc/passwd.jpg",
    "..\\..\\windows\\win.ini.jpg",
    "C:\\Windows\\system32\\anh.jpg",
    "anh\x00.jpg",
    "\u202egpj.exe",  # right-to-left override: shows as "exe.jpg"
    "\uff0e\uff0e\uff0fetc\uff0fpasswd.jpg",  # full-width dots and slashes
    "a" * 300 + ".jpg",
    "CON.jpg",
    "aux",
    "concat:/etc/passwd|/etc/hostname.jpg",
    "file:/etc/passwd.jpg",
    "<script>alert('abuse-corpus')</script>.jpg",
]

#: Paths inside a ZIP file or a folder upload that must be refused before anything is extracted.
ESCAPING_PATHS = [
    "../evil.txt",
    "photos/../../evil.txt",
    "/tmp/evil.txt",
    "..\\evil.txt",
    "C:/evil.txt",
    "photos/..\\..\\evil.txt",
]


# --- ZIP bombs and lies -------------------------------------------------------------------------------------


def zip_of(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A ZIP file of {name: content}."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as bundle:
        for name, data in entries.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def zip_ratio_bomb() -> bytes:
    """One 40 MB entry of zeros (ratio ~1000:1)."""
    return zip_of({"f0.wav": b"\0" * (40 << 20)})


def zip_nested_bomb() -> bytes:
    """A ZIP holding ZIP files holding zeros: small at every level, huge once fully expanded."""
    inner = zip_of({f"layer-{i}.wav": b"\0" * (8 << 20) for i in range(4)})
    middle = zip_of({f"inner-{i}.zip": inner for i in range(8)})
    return zip_of({"f0.jpg": small_jpeg(), "nested.zip": middle})


def zip_many_entries(count: int = 20000) -> bytes:
    """Tens of thousands of empty entries (an inode / time bomb)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as bundle:
        for i in range(count):
            bundle.writestr(f"d/{i}.jpg", b"")
    return buffer.getvalue()


def zip_size_lies() -> bytes:
    """30 MB of zeros whose local and central headers both claim 1,000 bytes."""
    data = bytearray(zip_of({"f0.wav": b"\0" * (30 << 20)}))
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    data[local + 22 : local + 26] = (1000).to_bytes(4, "little")
    data[central + 24 : central + 28] = (1000).to_bytes(4, "little")
    return bytes(data)


def zip_overlapping_entries() -> bytes:
    """Many central-directory entries that all point at one compressed local entry (overlap bomb)."""
    base = bytearray(zip_of({"f0.wav": b"\0" * (4 << 20)}))
    central = base.index(b"PK\x01\x02")
    end = base.index(b"PK\x05\x06")
    record = bytes(base[central:end])
    name_len = int.from_bytes(record[28:30], "little")
    records = b""
    for i in range(200):
        name = f"f{i:03d}.wav".encode()
        records += (
            record[:28] + len(name).to_bytes(2, "little") + record[30:46] + name + record[46 + name_len :]
        )
    eocd = bytearray(base[end : end + 22])
    eocd[8:10] = eocd[10:12] = (200).to_bytes(2, "little")
    eocd[12:16] = len(records).to_bytes(4, "little")
    eocd[16:20] = central.to_bytes(4, "little")
    return bytes(base[:central]) + records + bytes(eocd)


#: (label, make, expected status, expected words of the English message) for whole bundles.
ZIP_BOMBS = [
    ("ratio bomb", zip_ratio_bomb, 413, "looks like a ZIP bomb"),
    ("many entries", lambda: zip_many_entries(), 413, "more than the limit of"),
    ("size lies", zip_size_lies, 400, "The ZIP file cannot be read"),
    ("overlapping entries", zip_overlapping_entries, 413, None),
]


# --- a loopback listener -----------------------------------------------------------------------------------


class LoopbackListener:
    """A TCP listener on 127.0.0.1 that records every connection made to it (and answers nothing)."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _address = self.socket.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.connections.append(conn.recv(4096))
                except OSError:
                    self.connections.append(b"")

    def close(self) -> None:
        """Stop listening."""
        self._stop.set()
        self._thread.join(timeout=5)
        self.socket.close()
