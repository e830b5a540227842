"""Web renditions of sound and video: codecs, sizes, bit rates, durations, waveform peaks, idempotence."""

from __future__ import annotations

import json
import math
import struct
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from media.checks import ToolTimeout
from media.renditions import (
    PeakAccumulator,
    RenditionError,
    audio_renditions,
    video_renditions,
    waveform_peaks,
)

AUDIO_SECONDS = 10.0
VIDEO_SECONDS = 5.0


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly, failing the test on error."""
    command = ["ffmpeg", "-nostdin", "-v", "error", "-y", *args]
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def probe(path: Path) -> dict:
    """ffprobe's JSON description of a rendition."""
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams", str(path)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return json.loads(result.stdout)


def stream(info: dict, codec_type: str) -> dict:
    """The first stream of a type."""
    return next(s for s in info["streams"] if s["codec_type"] == codec_type)


def kbits(info: dict) -> float:
    """Overall bit rate in kbit/s, from the file size and duration."""
    return int(info["format"]["size"]) * 8 / float(info["format"]["duration"]) / 1000


def top_level_boxes(path: Path) -> list[str]:
    """The names of an MP4 file's top-level boxes, in order."""
    names, offset, data = [], 0, path.read_bytes()
    while offset + 8 <= len(data):
        size, name = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        names.append(name.decode("latin-1"))
        offset += size or len(data)
    return names


def contents(folder: Path) -> dict[str, bytes]:
    """Every file of a folder by name (hidden temporary files included, to catch leftovers)."""
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def sound(tmp_path_factory) -> Path:
    """10 s of stereo 44.1 kHz sound: a tone and noise, in FLAC."""
    path = tmp_path_factory.mktemp("sound") / "festival.flac"
    ffmpeg(
        "-f", "lavfi", "-i", f"sine=frequency=330:sample_rate=44100:duration={AUDIO_SECONDS}",
        "-f", "lavfi", "-i", f"anoisesrc=color=pink:sample_rate=44100:amplitude=0.2:duration={AUDIO_SECONDS}",
        "-filter_complex", "[0:a][1:a]amerge=inputs=2[a]", "-map", "[a]", str(path),
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    """5 s of 1280x720 test pattern with a tone, in MP4."""
    path = tmp_path_factory.mktemp("video") / "dance.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=25:duration={VIDEO_SECONDS}",
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={VIDEO_SECONDS}",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-c:a", "aac", "-b:a", "192k", str(path),
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def sound_made(sound, tmp_path_factory) -> dict[str, Path]:
    """The sound renditions, made once."""
    return audio_renditions(sound, "flac", tmp_path_factory.mktemp("sound-out"), timeout=120)


@pytest.fixture(scope="module")
def video_made(video, tmp_path_factory) -> dict[str, Path]:
    """The video renditions, made once."""
    return video_renditions(video, "mov", tmp_path_factory.mktemp("video-out"), timeout=300, has_audio=True)


# --------------------------------------------------------------------------------------------------
# Sound
# --------------------------------------------------------------------------------------------------


def test_sound_renditions_are_made(sound_made):
    assert set(sound_made) == {"web", "low", "peaks"}
    assert [p.name for p in sound_made.values()] == ["web.m4a", "low.opus", "peaks.json"]
    folder = sound_made["web"].parent
    assert sorted(p.name for p in folder.iterdir()) == ["low.opus", "peaks.json", "web.m4a"]  # no temporaries


def test_web_m4a_is_aac_lc_128k_with_its_index_first(sound_made):
    info = probe(sound_made["web"])
    audio = stream(info, "audio")
    assert (audio["codec_name"], audio["profile"]) == ("aac", "LC")
    assert audio["sample_rate"] in ("44100", "48000") and audio["channels"] == 2
    assert 100 <= kbits(info) <= 160
    assert float(info["format"]["duration"]) == pytest.approx(AUDIO_SECONDS, abs=0.5)
    boxes = top_level_boxes(sound_made["web"])
    assert boxes.index("moov") < boxes.index("mdat")  # +faststart: playable while it downloads
    assert "tags" not in info["format"] or "title" not in info["format"]["tags"]


def test_low_opus_is_mono_and_small(sound_made):
    info = probe(sound_made["low"])
    audio = stream(info, "audio")
    assert (audio["codec_name"], audio["channels"], info["format"]["format_name"]) == ("opus", 1, "ogg")
    assert kbits(info) <= 40
    assert float(info["format"]["duration"]) == pytest.approx(AUDIO_SECONDS, abs=0.5)


def test_peaks_json_has_the_buckets_in_range(sound_made):
    peaks = json.loads(sound_made["peaks"].read_text(encoding="utf-8"))
    assert (peaks["version"], peaks["sample_rate"], peaks["buckets"]) == (1, 8000, 800)
    assert len(peaks["peaks"]) == 800
    assert peaks["duration"] == pytest.approx(AUDIO_SECONDS, abs=0.5)
    for low, high in peaks["peaks"]:
        assert -1 <= low <= high <= 1
        assert round(low, 4) == low and round(high, 4) == high
    assert max(high for _, high in peaks["peaks"]) > 0.1  # the tone and noise are there


def test_sound_renditions_are_idempotent(sound, sound_made, tmp_path):
    folder = sound_made["web"].parent
    before = {name: (folder / name).stat().st_mtime_ns for name in ("web.m4a", "low.opus", "peaks.json")}
    again = audio_renditions(sound, "flac", folder, timeout=120)
    assert again == sound_made
    assert {name: (folder / name).stat().st_mtime_ns for name in before} == before  # reused as they were
    fresh = audio_renditions(sound, "flac", tmp_path / "fresh", timeout=120)
    assert contents(fresh["web"].parent) == contents(folder)  # made again: the very same bytes


def test_waveform_peaks_of_a_known_tone(tmp_path):
    tone = tmp_path / "tone.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=200:duration=3", "-af", "volume=0.5", str(tone))
    peaks = waveform_peaks(tone, "wav", buckets=100, timeout=60)
    assert peaks["buckets"] == 100 == len(peaks["peaks"])
    assert peaks["duration"] == pytest.approx(3, abs=0.05)
    amplitude = 0.5 / 8  # ffmpeg's sine source peaks at 1/8 of full scale
    for low, high in peaks["peaks"]:
        assert low == pytest.approx(-amplitude, abs=0.01) and high == pytest.approx(amplitude, abs=0.01)


def test_peak_accumulator_streams_in_bounded_memory():
    samples = [int(20000 * math.sin(i / 7)) * (1 if i < 50_000 else 0) for i in range(100_001)]
    data = struct.pack(f"<{len(samples)}h", *samples)
    accumulator = PeakAccumulator(buckets=50)
    for start in range(0, len(data), 4099):  # odd chunk sizes split samples between calls
        accumulator.feed(data[start : start + 4099])
    result = accumulator.result()
    assert result["buckets"] == 50 and result["duration"] == pytest.approx(100_001 / 8000, abs=0.001)
    assert len(accumulator._mins) <= 16 * 50
    first, last = result["peaks"][0], result["peaks"][-1]
    assert first[0] == pytest.approx(-20000 / 32768, abs=0.01) and first[1] == pytest.approx(
        20000 / 32768, abs=0.01
    )
    assert last == [0.0, 0.0]  # the silent second half stays silent


def test_peaks_of_a_very_short_sound_have_fewer_buckets():
    accumulator = PeakAccumulator(buckets=800)
    accumulator.feed(struct.pack("<5h", -32768, 0, 100, 32767, 5))
    result = accumulator.result()
    assert result["buckets"] == 5 and result["peaks"][0] == [-1.0, -1.0] and result["peaks"][3] == [1.0, 1.0]


def test_failed_sound_rendition_leaves_nothing(tmp_path):
    bogus = tmp_path / "bogus.wav"
    bogus.write_bytes(b"RIFF\x24\x00\x00\x00WAVEjunk" + b"\x00" * 64)
    out = tmp_path / "out"
    with pytest.raises(RenditionError):
        audio_renditions(bogus, "wav", out, timeout=60)
    assert not out.exists() or list(out.iterdir()) == []


def test_sound_rendition_past_its_time_is_killed_and_leaves_nothing(sound, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ToolTimeout):
        audio_renditions(sound, "flac", out, timeout=0.001)
    assert not out.exists() or list(out.iterdir()) == []


# --------------------------------------------------------------------------------------------------
# Video
# --------------------------------------------------------------------------------------------------


def test_video_renditions_are_made(video_made):
    assert set(video_made) == {"720", "360", "audio_low", "poster"}
    folder = video_made["720"].parent
    assert sorted(p.name for p in folder.iterdir()) == ["360.mp4", "720.mp4", "audio-low.opus", "poster.jpg"]


@pytest.mark.parametrize(
    ("name", "size", "profile", "channels", "max_kbits"),
    [("720", (1280, 720), "High", 1, 3200), ("360", (640, 360), "Main", 1, 900)],
)
def test_mp4_renditions(video_made, name, size, profile, channels, max_kbits):
    info = probe(video_made[name])
    picture, sound = stream(info, "video"), stream(info, "audio")
    assert (picture["codec_name"], picture["profile"], picture["pix_fmt"]) == ("h264", profile, "yuv420p")
    assert (picture["width"], picture["height"]) == size
    assert (sound["codec_name"], sound["profile"], sound["channels"]) == ("aac", "LC", channels)
    assert kbits(info) <= max_kbits
    assert float(info["format"]["duration"]) == pytest.approx(VIDEO_SECONDS, abs=0.5)
    boxes = top_level_boxes(video_made[name])
    assert boxes.index("moov") < boxes.index("mdat")


def test_video_audio_low_and_poster(video_made):
    info = probe(video_made["audio_low"])
    sound = stream(info, "audio")
    assert (sound["codec_name"], sound["channels"]) == ("opus", 1)
    assert kbits(info) <= 40
    assert float(info["format"]["duration"]) == pytest.approx(VIDEO_SECONDS, abs=0.5)
    with Image.open(video_made["poster"]) as poster:
        assert (poster.format, poster.size) == ("JPEG", (1280, 720))


def test_video_renditions_are_idempotent(video, video_made, tmp_path):
    folder = video_made["720"].parent
    before = {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}
    assert video_renditions(video, "mov", folder, timeout=300, has_audio=True) == video_made
    assert {path.name: path.stat().st_mtime_ns for path in folder.iterdir()} == before
    fresh = video_renditions(video, "mov", tmp_path / "fresh", timeout=300, has_audio=True)
    assert contents(fresh["720"].parent) == contents(folder)


def test_small_silent_portrait_video_is_not_enlarged(tmp_path):
    source = tmp_path / "portrait.mov"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=362x642:rate=25:duration=1", "-c:v", "libx264", "-preset",
           "ultrafast", "-pix_fmt", "yuv420p", str(source))  # fmt: skip
    made = video_renditions(source, "mov", tmp_path / "out", timeout=120, has_audio=True)  # claims sound
    assert set(made) == {"720", "360", "poster"}  # no sound in the original: no audio-low, silent MP4s
    big, small = probe(made["720"]), probe(made["360"])
    assert [s["codec_type"] for s in big["streams"]] == ["video"]
    assert (stream(big, "video")["width"], stream(big, "video")["height"]) == (362, 642)  # never enlarged
    width, height = stream(small, "video")["width"], stream(small, "video")["height"]
    assert width % 2 == 0 and height % 2 == 0 and width <= 360 and height <= 640
    assert abs(width / height - 362 / 642) < 0.02
    with Image.open(made["poster"]) as poster:
        assert poster.size == (362, 642)


def test_video_without_sound_is_honoured(video, tmp_path):
    made = video_renditions(video, "mov", tmp_path / "out", timeout=300, has_audio=False)
    assert "audio_low" not in made
    assert [s["codec_type"] for s in probe(made["360"])["streams"]] == ["video"]
