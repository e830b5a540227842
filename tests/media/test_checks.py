"""Ingest checks: content sniffing, file names, pictures, ffprobe under limits, WebVTT captions."""

from __future__ import annotations

import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from media.checks import (
    AVFacts,
    MediaRejected,
    Sniffed,
    ToolTimeout,
    check_filename,
    check_image,
    check_webvtt,
    probe_av,
    run_tool,
    sniff,
)

SECONDS = 2.0
LAVFI_VIDEO = f"testsrc2=size=160x120:rate=25:duration={SECONDS}"
LAVFI_AUDIO = f"sine=frequency=440:duration={SECONDS}"


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly, failing the test on error."""
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True, capture_output=True, timeout=60
    )


def write(path: Path, data: bytes) -> Path:
    """Write bytes and return the path."""
    path.write_bytes(data)
    return path


def truncate(path: Path, fraction: float = 0.5) -> Path:
    """Keep only the first *fraction* of a file."""
    data = path.read_bytes()
    return write(path, data[: int(len(data) * fraction)])


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk with its CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def blank_bilevel_png(path: Path, width: int, height: int) -> Path:
    """A valid, all-black 1-bit PNG of any size, made without holding its pixels in memory."""
    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + (width + 7) // 8)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return write(
        path,
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", body) + png_chunk(b"IEND", b""),
    )


def picture(path: Path, fmt: str, size: tuple[int, int] = (320, 200), **options) -> Path:
    """A small noisy picture in the given Pillow format."""
    with Image.effect_noise(size, 40) as noise, noise.convert("RGB") as image:
        image.save(path, fmt, **options)
    return path


# --------------------------------------------------------------------------------------------------
# Samples (made once per module: ffmpeg runs are the slow part)
# --------------------------------------------------------------------------------------------------

TONE = ["-f", "lavfi", "-i", LAVFI_AUDIO]
PATTERN = ["-f", "lavfi", "-i", LAVFI_VIDEO, *TONE]
H264 = ["-c:v", "libx264", "-preset", "ultrafast"]

AV_SAMPLES = {
    # name: (ffmpeg arguments, sniffed kind, sniffed demuxer, probed kind, probed mime)
    "tone.wav": (TONE, "audio", "wav", "audio", "audio/wav"),
    "tone.mp3": ([*TONE, "-c:a", "libmp3lame"], "audio", "mp3", "audio", "audio/mpeg"),
    "bare.mp3": (
        [*TONE, "-c:a", "libmp3lame", "-id3v2_version", "0", "-write_xing", "0"],
        "audio",
        "mp3",
        "audio",
        "audio/mpeg",
    ),
    "tone.flac": (TONE, "audio", "flac", "audio", "audio/flac"),
    "tone.opus": ([*TONE, "-c:a", "libopus"], "audio", "ogg", "audio", "audio/ogg"),
    "tone.ogg": ([*TONE, "-c:a", "libvorbis"], "audio", "ogg", "audio", "audio/ogg"),
    "tone.m4a": ([*TONE, "-c:a", "aac"], "audio", "mov", "audio", "audio/mp4"),
    "sound-only.mp4": ([*TONE, "-c:a", "aac", "-f", "mp4"], "unknown-av", "mov", "audio", "audio/mp4"),
    "clip.mp4": ([*PATTERN, *H264, "-c:a", "aac"], "unknown-av", "mov", "video", "video/mp4"),
    "clip.mov": ([*PATTERN, *H264, "-c:a", "aac"], "video", "mov", "video", "video/quicktime"),
    "clip.mkv": ([*PATTERN, *H264, "-c:a", "flac"], "unknown-av", "matroska", "video", "video/x-matroska"),
    "clip.webm": (
        [*PATTERN, "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus"],
        "unknown-av",
        "matroska",
        "video",
        "video/webm",
    ),
    "sound-only.webm": (
        [*TONE, "-c:a", "libopus", "-f", "webm"],
        "unknown-av",
        "matroska",
        "audio",
        "audio/webm",
    ),
}


@pytest.fixture(scope="module")
def av(tmp_path_factory) -> dict[str, Path]:
    """Every accepted sound and video type, generated with ffmpeg."""
    folder = tmp_path_factory.mktemp("av")
    made = {}
    for name, (args, *_) in AV_SAMPLES.items():
        made[name] = folder / name
        ffmpeg(*args, str(made[name]))
    return made


@pytest.fixture
def sample(av, tmp_path):
    """A private copy of one generated sample (tests may damage it)."""

    def copy(name: str, as_name: str | None = None) -> Path:
        return write(tmp_path / (as_name or name), av[name].read_bytes())

    return copy


# --------------------------------------------------------------------------------------------------
# Sniffing and probing accepted types
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "suffix", "mime", "options"),
    [
        ("JPEG", "jpg", "image/jpeg", {"quality": 85}),
        ("PNG", "png", "image/png", {}),
        ("TIFF", "tif", "image/tiff", {"compression": "tiff_lzw"}),
        ("TIFF", "tif", "image/tiff", {"compression": "raw"}),
        ("WEBP", "webp", "image/webp", {"quality": 80}),
    ],
)
def test_pictures_are_sniffed_and_checked(tmp_path, fmt, suffix, mime, options):
    path = picture(tmp_path / f"p.{suffix}", fmt, (321, 203), **options)
    sniffed = sniff(path)
    assert sniffed == Sniffed("image", mime, None, suffix)
    check_filename(sniffed, f"photo.{suffix.upper()}")
    assert check_image(path, sniffed, max_pixels=10**6) == (321, 203)


def test_big_endian_tiff_is_sniffed(tmp_path):
    path = write(tmp_path / "mm.tif", b"MM\x00*" + b"\x00" * 60)
    assert sniff(path).mime == "image/tiff"


@pytest.mark.parametrize("name", list(AV_SAMPLES))
def test_sound_and_video_are_sniffed_and_probed(av, name):
    _, kind, demuxer, probed_kind, probed_mime = AV_SAMPLES[name]
    sniffed = sniff(av[name])
    assert (sniffed.kind, sniffed.demuxer) == (kind, demuxer)
    check_filename(sniffed, name)
    facts = probe_av(av[name], sniffed, timeout=30)
    assert isinstance(facts, AVFacts)
    assert (facts.kind, facts.mime) == (probed_kind, probed_mime)
    assert facts.duration == pytest.approx(SECONDS, abs=0.1)
    if probed_kind == "video":
        assert (facts.width, facts.height) == (160, 120) and facts.video_codec
    else:
        assert facts.width is None and facts.video_codec is None
    assert facts.audio_codec and facts.format_name


def test_cover_art_does_not_make_sound_a_video(tmp_path):
    cover = picture(tmp_path / "cover.jpg", "JPEG", (64, 64))
    path = tmp_path / "song.m4a"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        LAVFI_AUDIO,
        "-i",
        str(cover),
        "-map",
        "0:a",
        "-map",
        "1:v",
        "-c:a",
        "aac",
        "-c:v",
        "copy",
        "-disposition:v:0",
        "attached_pic",
        "-f",
        "ipod",
        str(path),
    )
    facts = probe_av(path, sniff(path))
    assert (facts.kind, facts.mime, facts.width) == ("audio", "audio/mp4", None)


def test_live_recorded_webm_without_duration_is_measured(tmp_path):
    path = tmp_path / "live.webm"
    with path.open("wb") as out:  # written to a pipe: no duration, no cues, unknown segment size
        command = ["ffmpeg", "-nostdin", "-v", "error", *TONE, "-c:a", "libopus", "-f", "webm", "pipe:1"]
        subprocess.run(command, stdout=out, stderr=subprocess.DEVNULL, check=True, timeout=60)
    facts = probe_av(path, sniff(path))
    assert facts.kind == "audio" and facts.duration == pytest.approx(SECONDS, abs=0.1)


# --------------------------------------------------------------------------------------------------
# Names against content
# --------------------------------------------------------------------------------------------------


def test_png_named_jpg_is_a_type_mismatch(tmp_path):
    path = picture(tmp_path / "upload", "PNG")
    with pytest.raises(MediaRejected) as caught:
        check_filename(sniff(path), "Lễ hội.JPG")
    assert caught.value.code == "type_mismatch"
    assert caught.value.params == {"detected": "PNG", "claimed": "JPEG"}


@pytest.mark.parametrize(
    ("name", "filename"),
    [
        ("clip.mp4", "clip.mov"),
        ("clip.mp4", "clip.M4V"),
        ("clip.mov", "clip.mp4"),
        ("tone.m4a", "tone.mp4"),
        ("sound-only.mp4", "tone.m4a"),
        ("clip.webm", "clip.mkv"),
        ("clip.mkv", "clip.webm"),
        ("tone.opus", "tone.ogg"),
        ("tone.wav", "no-extension"),
        ("tone.wav", "archive.unknownext"),
        ("tone.wav", ".hidden"),
        ("tone.wav", "C:\\Users\\officer\\recording.WAV"),
    ],
)
def test_names_in_the_same_family_are_accepted(av, name, filename):
    check_filename(sniff(av[name]), filename)


@pytest.mark.parametrize(
    ("name", "filename", "claimed"),
    [
        ("tone.mp3", "tone.wav", "WAV"),
        ("tone.flac", "tone.mp3", "MP3"),
        ("clip.mkv", "clip.mp4", "MP4/MOV"),
        ("clip.mp4", "clip.avi", "AVI"),
        ("tone.wav", "tone.m3u8", "playlist"),
    ],
)
def test_names_of_another_type_are_refused(av, name, filename, claimed):
    with pytest.raises(MediaRejected) as caught:
        check_filename(sniff(av[name]), filename)
    assert caught.value.code == "type_mismatch" and caught.value.params["claimed"] == claimed


# --------------------------------------------------------------------------------------------------
# What sniffing refuses
# --------------------------------------------------------------------------------------------------

REFUSED = {
    "hls.mp4": (b"#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:10.0,\nhttp://127.0.0.1:9/a.ts\n", "external_reference"),
    "bom-hls.mp4": (b"\xef\xbb\xbf  #EXTM3U\n#EXTINF:-1,\nfile:///etc/passwd\n", "external_reference"),
    "list.ffconcat": (b"ffconcat version 1.0\nfile 'clip.mp4'\nfile '/etc/passwd'\n", "external_reference"),
    "list.txt": (b"file 'a.mp4'\nfile 'b.mp4'\n", "external_reference"),
    "stream.mpd": (
        b'<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period/></MPD>\n',
        "external_reference",
    ),
    "bare.mpd": (b'<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"/>', "external_reference"),
    "session.sdp": (
        b"v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 239.0.0.1\nm=audio 5004 RTP/AVP 0\n",
        "external_reference",
    ),
    "radio.pls": (b"[playlist]\nFile1=http://example.org/live\n", "external_reference"),
    "urls.m3u": (b"http://example.org/a.mp3\nhttp://example.org/b.mp3\n", "external_reference"),
    "notes.mp3": (b"Just some notes about the festival.\n" * 20, "unsupported_type"),
    "drawing.svg": (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "unsupported_type"),
    "random.bin": (bytes(range(256)) * 8, "unsupported_type"),
    "photo.heic": (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64, "unsupported_type"),
    "protected.m4a": (b"\x00\x00\x00\x14ftypM4P \x00\x00\x00\x00M4P " + b"\x00" * 64, "unsupported_type"),
    "anim.gif": (b"GIF89a" + b"\x00" * 64, "unsupported_type"),
    "fake.mp3": (b"\xff\xfb\x90\x00" + b"\x00" * 100, "unsupported_type"),  # one frame header, no second
    "empty.wav": (b"", "empty"),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_sniff_refuses(tmp_path, name):
    data, code = REFUSED[name]
    with pytest.raises(MediaRejected) as caught:
        sniff(write(tmp_path / name, data))
    assert caught.value.code == code


def test_ogg_video_is_not_accepted(tmp_path):
    path = tmp_path / "theora.ogg"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:duration=0.2", "-c:v", "libtheora", str(path))
    with pytest.raises(MediaRejected) as caught:
        sniff(path)
    assert caught.value.code == "unsupported_type"


# --------------------------------------------------------------------------------------------------
# Truncated and damaged files
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["clip.mp4", "clip.mov", "tone.m4a", "clip.mkv", "clip.webm", "tone.flac", "tone.mp3", "tone.wav"]
)
def test_half_truncated_sound_and_video_are_refused(sample, name):
    path = truncate(sample(name))
    with pytest.raises(MediaRejected) as caught:
        probe_av(path, sniff(path))
    assert caught.value.code in ("truncated", "unreadable")


def test_truncated_mp4_with_its_index_first_is_refused(sample, tmp_path):
    faststart = tmp_path / "faststart.mp4"
    ffmpeg("-i", str(sample("clip.mp4")), "-c", "copy", "-movflags", "+faststart", str(faststart))
    probe_av(faststart, sniff(faststart))  # whole: fine
    truncate(faststart)
    with pytest.raises(MediaRejected) as caught:
        probe_av(faststart, sniff(faststart))
    assert caught.value.code == "truncated"


@pytest.mark.parametrize(
    ("fmt", "suffix"), [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp"), ("TIFF", "tif")]
)
def test_half_truncated_pictures_are_refused(tmp_path, fmt, suffix):
    path = truncate(picture(tmp_path / f"half.{suffix}", fmt, (400, 300)))
    with pytest.raises(MediaRejected) as caught:
        check_image(path, sniff(path), max_pixels=10**6)
    assert caught.value.code in ("truncated", "unreadable")
    if fmt in ("JPEG", "PNG"):
        assert caught.value.code == "truncated"


def test_truncation_is_found_even_when_pillow_is_set_to_tolerate_it(tmp_path, monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    path = truncate(picture(tmp_path / "half.jpg", "JPEG", (400, 300)))
    with pytest.raises(MediaRejected) as caught:
        check_image(path, sniff(path), max_pixels=10**6)
    assert caught.value.code == "truncated"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True


def test_file_without_sound_or_picture_has_no_stream(tmp_path):
    subtitles = write(tmp_path / "s.srt", b"1\n00:00:00,000 --> 00:00:01,000\nXin chao\n")
    for name in ("subtitles-only.mp4", "subtitles-only.mkv"):
        path = tmp_path / name
        ffmpeg("-i", str(subtitles), *(["-c:s", "mov_text"] if name.endswith("mp4") else []), str(path))
        with pytest.raises(MediaRejected) as caught:
            probe_av(path, sniff(path))
        assert caught.value.code == "no_stream"


def test_sound_with_the_wrong_inside_is_unreadable(tmp_path):
    path = write(tmp_path / "x.flac", b"fLaC" + b"\x00" * 200)
    with pytest.raises(MediaRejected) as caught:
        probe_av(path, sniff(path))
    assert caught.value.code == "unreadable"


# --------------------------------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------------------------------


def test_pixel_flood_is_refused_from_the_header_without_decoding(tmp_path):
    path = blank_bilevel_png(tmp_path / "flood.png", 20_000, 20_000)
    assert path.stat().st_size < 200_000
    limit_before = Image.MAX_IMAGE_PIXELS
    started = time.monotonic()
    with pytest.raises(MediaRejected) as caught:
        check_image(path, sniff(path), max_pixels=250_000_000)
    assert time.monotonic() - started < 0.5  # decoding 400 megapixels would take seconds and gigabytes
    assert caught.value.code == "pixel_limit"
    assert caught.value.params == {"pixels": 400_000_000, "limit": 250_000_000}
    assert Image.MAX_IMAGE_PIXELS == limit_before


def test_picture_above_pillows_default_but_within_our_limit_is_accepted(tmp_path):
    assert Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < 100_000_000
    path = blank_bilevel_png(tmp_path / "big.png", 10_000, 9_500)
    limit_before = Image.MAX_IMAGE_PIXELS
    assert check_image(path, sniff(path), max_pixels=100_000_000) == (10_000, 9_500)
    assert Image.MAX_IMAGE_PIXELS == limit_before


def test_pixel_limit_applies_to_ordinary_pictures(tmp_path):
    path = picture(tmp_path / "p.jpg", "JPEG", (400, 300))
    with pytest.raises(MediaRejected) as caught:
        check_image(path, sniff(path), max_pixels=100_000)
    assert caught.value.params == {"pixels": 120_000, "limit": 100_000}


@pytest.mark.parametrize(
    ("orientation", "expected"),
    [(1, (300, 200)), (3, (300, 200)), (6, (200, 300)), (8, (200, 300)), (5, (200, 300))],
)
def test_exif_orientation_gives_the_displayed_size(tmp_path, orientation, expected):
    path = tmp_path / "rotated.jpg"
    with Image.new("RGB", (300, 200), "red") as image:
        exif = image.getexif()
        exif[0x0112] = orientation
        image.save(path, "JPEG", exif=exif)
    assert check_image(path, sniff(path), max_pixels=10**6) == expected


def test_probe_that_takes_too_long_is_killed(av):
    started = time.monotonic()
    with pytest.raises(MediaRejected) as caught:
        probe_av(av["tone.wav"], sniff(av["tone.wav"]), timeout=0.001)
    assert caught.value.code == "probe_timeout" and caught.value.params == {"seconds": 0.001}
    assert time.monotonic() - started < 2


def test_recording_longer_than_the_limit_is_refused(av):
    with pytest.raises(MediaRejected) as caught:
        probe_av(av["clip.mkv"], sniff(av["clip.mkv"]), max_duration=1.5)
    assert caught.value.code == "too_long" and caught.value.params == {"seconds": 1.5}
    assert probe_av(av["clip.mkv"], sniff(av["clip.mkv"]), max_duration=3).duration == pytest.approx(
        SECONDS, abs=0.1
    )


def test_pictures_are_not_probed(tmp_path):
    path = picture(tmp_path / "p.png", "PNG")
    with pytest.raises(MediaRejected) as caught:
        probe_av(path, sniff(path))
    assert caught.value.code == "unsupported_type"


def test_run_tool_sets_memory_and_cpu_limits():
    code = "import resource as r; print(r.getrlimit(r.RLIMIT_AS)[0], r.getrlimit(r.RLIMIT_CPU)[0])"
    result = run_tool([sys.executable, "-c", code], timeout=20, memory_limit=1024 * 2**20)
    memory, cpu = map(int, result.stdout.split())
    assert result.returncode == 0 and memory == 1024 * 2**20 and 0 < cpu < 10_000


def test_run_tool_kills_a_hanging_tool():
    started = time.monotonic()
    with pytest.raises(ToolTimeout):
        run_tool(["sleep", "30"], timeout=0.3, memory_limit=None)
    assert time.monotonic() - started < 3


def test_run_tool_streams_standard_output():
    seen: list[bytes] = []
    result = run_tool(
        [sys.executable, "-c", "import sys; sys.stdout.write('x' * 300000)"],
        timeout=20,
        memory_limit=None,
        on_stdout=seen.append,
    )
    assert result.returncode == 0 and result.stdout == b"" and sum(map(len, seen)) == 300_000


def test_ffprobe_is_refused_too_little_memory(av):
    with pytest.raises(MediaRejected) as caught:
        probe_av(av["tone.wav"], sniff(av["tone.wav"]), memory_limit=16 * 2**20)
    assert caught.value.code == "unreadable"


# --------------------------------------------------------------------------------------------------
# WebVTT captions
# --------------------------------------------------------------------------------------------------

GOOD_VTT = (
    "\ufeffWEBVTT - Lễ hội đâm trâu\r\n"
    "Kind: captions\r\n"
    "\r\n"
    "NOTE recorded in Kon Tum\r\n"
    "\r\n"
    "STYLE\r\n"
    "::cue { color: yellow }\r\n"
    "\r\n"
    "intro\r\n"
    "00:00:01.000 --> 00:00:04.000 align:start line:0\r\n"
    "Xin cha\u0300o\r\n"
    "\r\n"
    "01:02.500 --> 01:04.250\r\n"
    "Lời hát\r\n"
    "thứ hai\r\n"
)


def test_good_webvtt_is_normalised():
    text = check_webvtt(GOOD_VTT.encode("utf-8"))
    assert text.startswith("WEBVTT - Lễ hội") and "\r" not in text
    assert "Xin chào" in text  # combining grave accent composed (NFC)
    assert "01:02.500 --> 01:04.250\nLời hát\nthứ hai\n" in text


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"00:00:01.000 --> 00:00:02.000\nno header\n", "header"),
        (b"WEBVTTX\n\n00:00:01.000 --> 00:00:02.000\nx\n", "header"),
        (b"WEBVTT\n\n00:00:01,000 --> 00:00:02,000\ncomma\n", "timing"),
        (b"WEBVTT\n\n00:00:01.000 -> 00:00:02.000\narrow\n", "timing"),
        (b"WEBVTT\n\n00:01.5 --> 00:02.000\nshort millis\n", "timing"),
        (b"WEBVTT\n\n00:00:61.000 --> 00:01:02.000\nsixty-one seconds\n", "timing"),
        (b"WEBVTT\n\n00:00:04.000 --> 00:00:02.000\nbackwards\n", "timing_order"),
        (b"WEBVTT\n\nidentifier only\ntext\n", "timing"),
        (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nx --> y\n", "timing"),
        (b"WEBVTT\n\nNOTE only a comment\n", "no_cues"),
        (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nnul \x00 here\n", "nul"),
        (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n\xff\xfe latin-1 \xe9\n", "encoding"),
        ("WEBVTT\n".encode("utf-16"), "nul"),
    ],
)
def test_bad_webvtt_is_refused(data, reason):
    with pytest.raises(MediaRejected) as caught:
        check_webvtt(data)
    assert caught.value.code == "bad_captions" and caught.value.params["reason"] == reason


def test_webvtt_size_limit():
    data = GOOD_VTT.encode("utf-8")
    with pytest.raises(MediaRejected) as caught:
        check_webvtt(data, max_bytes=len(data) - 1)
    assert caught.value.code == "too_large" and caught.value.params == {"limit": len(data) - 1}
    assert check_webvtt(data, max_bytes=len(data))
