"""Web renditions of sound and video originals, made with ffmpeg for cheap phones on slow links.

Every ffmpeg run reads the original with its demuxer forced and the file protocol only, under the
address-space, CPU and wall-clock limits of :func:`media.checks.run_tool`. Outputs are written under
temporary names in the target directory and renamed into place once complete, so a finished name is always
a finished file; a function finding all its outputs already there reuses them. Metadata (which may hold the
place a recording was made) is not copied into renditions, and the muxers run bit-exact, so the same
original always gives the same bytes on the same machine.

Sound: ``web.m4a`` (AAC-LC 128 kbit/s), ``low.opus`` (Opus 24 kbit/s mono, constrained VBR) and
``peaks.json`` (waveform), all from one decode. Video: ``720.mp4``, ``360.mp4`` and ``audio-low.opus``
from one decode (one ffmpeg process with several outputs), then ``poster.jpg``.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import sys
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from media.checks import ToolResult, input_args, run_tool

logger = logging.getLogger(__name__)

DEFAULT_MEMORY_LIMIT = 2 * 2**30
PEAK_RATE = 8000
BASE_ARGS = ("-nostdin", "-hide_banner", "-v", "error")
#: Never copy the original's tags, chapters, subtitles or data streams; write reproducible files.
CLEAN_OUTPUT = ("-map_metadata", "-1", "-map_chapters", "-1", "-fflags", "+bitexact")


class RenditionError(RuntimeError):
    """ffmpeg or ffprobe failed while making a rendition."""


def _check(result: ToolResult, what: str) -> ToolResult:
    if result.returncode != 0:
        raise RenditionError(f"{what} exited with {result.returncode}: {result.stderr.strip()[-2000:]}")
    return result


def _ffprobe_for(ffmpeg: str) -> str:
    """The ffprobe binary next to *ffmpeg* (same directory, same naming)."""
    path = Path(ffmpeg)
    name = path.name.replace("ffmpeg", "ffprobe") if "ffmpeg" in path.name else "ffprobe"
    return str(path.with_name(name)) if os.sep in ffmpeg else name


def _streams(src: Path, demuxer: str, ffprobe: str, timeout: float, memory_limit: int) -> dict:
    """ffprobe's view of the original: format and streams."""
    args = [ffprobe, "-hide_banner", "-v", "error", *input_args(src, demuxer), "-of", "json"]
    args += ["-show_format", "-show_streams"]
    result = _check(run_tool(args, timeout=timeout, memory_limit=memory_limit), "ffprobe")
    try:
        return json.loads(result.stdout)
    except ValueError as exc:
        raise RenditionError(f"ffprobe gave no JSON for {src.name}") from exc


def _first(info: dict, codec_type: str) -> dict | None:
    return next(
        (
            s
            for s in info.get("streams") or []
            if s.get("codec_type") == codec_type and not (s.get("disposition") or {}).get("attached_pic")
        ),
        None,
    )


def _specifier(stream: dict) -> str:
    """The ffmpeg stream specifier of a probed stream (its absolute index in the first input)."""
    return f"0:{int(stream['index'])}"


def _duration(info: dict) -> float | None:
    try:
        value = float((info.get("format") or {}).get("duration"))
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None


def _aac_rate(audio: dict | None) -> str:
    """44.1 kHz for sources of that family, 48 kHz otherwise: the two rates every phone plays."""
    try:
        rate = int((audio or {}).get("sample_rate") or 0)
    except ValueError:
        rate = 0
    return "44100" if rate and rate % 11025 == 0 else "48000"


def _stereo_or_mono(audio: dict | None) -> str:
    channels = int((audio or {}).get("channels") or 2)
    return "1" if channels == 1 else "2"


@contextmanager
def _outputs(out_dir: Path, names: list[str]) -> Iterator[dict[str, Path]]:
    """Temporary paths for *names* in *out_dir*; renamed to the final names only if the block succeeds."""
    out_dir.mkdir(parents=True, exist_ok=True)
    token = f"{os.getpid()}.{secrets.token_hex(4)}"
    temps = {name: out_dir / f".{name}.{token}.part" for name in names}
    try:
        yield temps
        for name, temp in temps.items():
            if not temp.exists() or temp.stat().st_size == 0:
                raise RenditionError(f"ffmpeg wrote nothing for {name}")
        for name, temp in temps.items():
            os.replace(temp, out_dir / name)
    finally:
        for temp in temps.values():
            temp.unlink(missing_ok=True)


def _write_json(path: Path, data: dict) -> None:
    with _outputs(path.parent, [path.name]) as temps:
        temps[path.name].write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")


# --------------------------------------------------------------------------------------------------
# Waveform peaks
# --------------------------------------------------------------------------------------------------


class PeakAccumulator:
    """Min/max peaks of a stream of signed 16-bit little-endian mono samples, in bounded memory.

    Samples are folded into blocks of equal length; when there are too many blocks, neighbours merge and the
    block length doubles, so memory stays proportional to the number of buckets whatever the duration.
    """

    def __init__(self, buckets: int = 800, sample_rate: int = PEAK_RATE) -> None:
        if buckets < 1:
            raise ValueError("buckets must be positive")
        self.buckets = buckets
        self.sample_rate = sample_rate
        self.samples = 0
        self._limit = 16 * buckets  # blocks kept before merging: a bucket edge is off by 1/8 bucket at most
        self._block = 1
        self._mins: list[int] = []
        self._maxs: list[int] = []
        self._pending = array("h")
        self._odd = b""

    def feed(self, data: bytes) -> None:
        """Add raw PCM bytes (any length; an odd trailing byte waits for the next call)."""
        data = self._odd + data
        cut = len(data) - len(data) % 2
        self._odd = data[cut:]
        chunk = array("h")
        chunk.frombytes(data[:cut])
        if sys.byteorder == "big":
            chunk.byteswap()
        self.samples += len(chunk)
        buf = self._pending + chunk
        pos, size = 0, len(buf)
        while size - pos >= self._block:
            block = self._block
            count = min((size - pos) // block, self._limit - len(self._mins))
            for _ in range(count):
                part = buf[pos : pos + block]
                self._mins.append(min(part))
                self._maxs.append(max(part))
                pos += block
            if len(self._mins) >= self._limit:
                self._merge()
        self._pending = buf[pos:]

    def _merge(self) -> None:
        self._mins = [min(a, b) for a, b in zip(self._mins[0::2], self._mins[1::2], strict=True)]
        self._maxs = [max(a, b) for a, b in zip(self._maxs[0::2], self._maxs[1::2], strict=True)]
        self._block *= 2

    def result(self) -> dict:
        """The peaks document: version, sample rate, bucket count, duration and [min, max] pairs in -1..1."""
        mins, maxs = list(self._mins), list(self._maxs)
        if self._pending:
            mins.append(min(self._pending))
            maxs.append(max(self._pending))
        blocks = len(mins)
        count = min(self.buckets, blocks)
        peaks = []
        for i in range(count):
            lo, hi = i * blocks // count, (i + 1) * blocks // count
            peaks.append([round(min(mins[lo:hi]) / 32768, 4), round(max(maxs[lo:hi]) / 32768, 4)])
        return {
            "version": 1,
            "sample_rate": self.sample_rate,
            "buckets": count,
            "duration": round(self.samples / self.sample_rate, 3),
            "peaks": peaks,
        }


def _peak_output(stream: str = "0:a:0") -> list[str]:
    """ffmpeg output options sending an audio stream as mono 8 kHz s16le PCM to standard output."""
    mono = ["-map", stream, "-vn", "-sn", "-dn", "-ac", "1", "-ar", str(PEAK_RATE), "-c:a", "pcm_s16le"]
    # Without -flush_packets 0 every small audio frame is its own write, and its own read on our side.
    return [*mono, "-flush_packets", "0", "-f", "s16le", "pipe:1"]


def waveform_peaks(
    src: Path,
    demuxer: str,
    *,
    ffmpeg: str = "ffmpeg",
    buckets: int = 800,
    timeout: float = 1800,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
) -> dict:
    """Min/max waveform peaks of the first audio stream, decoded to 8 kHz mono through a pipe."""
    accumulator = PeakAccumulator(buckets)
    args = [ffmpeg, *BASE_ARGS, *input_args(src, demuxer), *_peak_output()]
    _check(run_tool(args, timeout=timeout, memory_limit=memory_limit, on_stdout=accumulator.feed), "ffmpeg")
    return accumulator.result()


# --------------------------------------------------------------------------------------------------
# Sound
# --------------------------------------------------------------------------------------------------

AUDIO_FILES = {"web": "web.m4a", "low": "low.opus", "peaks": "peaks.json"}


def audio_renditions(
    src: Path,
    demuxer: str,
    out_dir: Path,
    *,
    ffmpeg: str = "ffmpeg",
    timeout: float = 1800,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    ffprobe: str | None = None,
    buckets: int = 800,
) -> dict[str, Path]:
    """Make web.m4a (AAC-LC 128k), low.opus (Opus 24k mono) and peaks.json from one ffmpeg decode."""
    finals = {key: out_dir / name for key, name in AUDIO_FILES.items()}
    if all(path.is_file() for path in finals.values()):
        logger.info("audio renditions of %s already made in %s", src.name, out_dir)
        return finals
    info = _streams(src, demuxer, ffprobe or _ffprobe_for(ffmpeg), timeout, memory_limit)
    audio = _first(info, "audio")
    if audio is None:
        raise RenditionError(f"{src.name} has no audio stream")
    accumulator = PeakAccumulator(buckets)
    stream = _specifier(audio)
    with _outputs(out_dir, ["web.m4a", "low.opus"]) as temps:
        args = [ffmpeg, *BASE_ARGS, *input_args(src, demuxer)]
        args += ["-map", stream, "-vn", "-sn", "-dn", *CLEAN_OUTPUT, "-c:a", "aac", "-b:a", "128k"]
        args += ["-ar", _aac_rate(audio), "-ac", _stereo_or_mono(audio), "-movflags", "+faststart"]
        args += ["-f", "ipod", str(temps["web.m4a"])]
        args += ["-map", stream, "-vn", "-sn", "-dn", *CLEAN_OUTPUT, "-c:a", "libopus", "-b:a", "24k"]
        args += ["-ac", "1", "-ar", "48000", "-application", "voip", "-vbr", "constrained"]
        args += ["-f", "ogg", str(temps["low.opus"])]
        args += _peak_output(stream)
        result = run_tool(args, timeout=timeout, memory_limit=memory_limit, on_stdout=accumulator.feed)
        _check(result, "ffmpeg")
    _write_json(finals["peaks"], accumulator.result())
    logger.info("audio renditions of %s made in %s", src.name, out_dir)
    return finals


# --------------------------------------------------------------------------------------------------
# Video
# --------------------------------------------------------------------------------------------------


def _fit(long_side: int, short_side: int) -> str:
    """A scale filter fitting the picture within long×short (turned for portrait pictures), never
    enlarging it, with even dimensions."""
    width = f"if(gte(iw,ih),min(iw,{long_side}),min(iw,{short_side}))"
    height = f"if(gte(iw,ih),min(ih,{short_side}),min(ih,{long_side}))"
    return f"scale=w='{width}':h='{height}':force_original_aspect_ratio=decrease:force_divisible_by=2"


def _poster_time(duration: float | None) -> float:
    """10 % into the video, or 1 s in when the duration is unknown; never past the end."""
    if duration is None:
        return 1.0
    return max(min(duration * 0.1, duration - 0.1), 0.0)


def video_renditions(
    src: Path,
    demuxer: str,
    out_dir: Path,
    *,
    ffmpeg: str = "ffmpeg",
    timeout: float = 3600,
    has_audio: bool = True,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    ffprobe: str | None = None,
) -> dict[str, Path]:
    """Make 720.mp4, 360.mp4 and audio-low.opus in one ffmpeg run, then poster.jpg."""
    info = _streams(src, demuxer, ffprobe or _ffprobe_for(ffmpeg), timeout, memory_limit)
    audio, video = _first(info, "audio"), _first(info, "video")
    if video is None:
        raise RenditionError(f"{src.name} has no video stream")
    if has_audio and audio is None:
        logger.info("%s has no audio stream: its renditions are silent", src.name)
    with_audio = has_audio and audio is not None
    finals = {"720": out_dir / "720.mp4", "360": out_dir / "360.mp4"}
    if with_audio:
        finals["audio_low"] = out_dir / "audio-low.opus"
    if not all(path.is_file() for path in finals.values()):
        _encode_video(
            src, demuxer, out_dir, ffmpeg, timeout, memory_limit, video, audio if with_audio else None
        )
    finals["poster"] = out_dir / "poster.jpg"
    if not finals["poster"].is_file():
        at = _poster_time(_duration(info))
        _poster(src, demuxer, out_dir, ffmpeg, timeout, memory_limit, _specifier(video), at)
    logger.info("video renditions of %s made in %s", src.name, out_dir)
    return finals


def _encode_video(
    src: Path,
    demuxer: str,
    out_dir: Path,
    ffmpeg: str,
    timeout: float,
    memory_limit: int,
    video: dict,
    audio: dict | None,
) -> None:
    # One decode, scaled once to 720, then split: the 360 picture is scaled down from the 720 one.
    graph = f"[{_specifier(video)}]{_fit(1280, 720)},format=yuv420p,split=2[v720][big];"
    graph += f"[big]{_fit(640, 360)}[v360]"
    names = ["720.mp4", "360.mp4"] + (["audio-low.opus"] if audio is not None else [])
    with _outputs(out_dir, names) as temps:
        args = [ffmpeg, *BASE_ARGS, *input_args(src, demuxer), "-filter_complex", graph]
        for label, crf, profile, maxrate, audio_opts in (
            ("720", "23", "high", "2500k", ["-b:a", "128k", "-ac", _stereo_or_mono(audio)]),
            ("360", "28", "main", "700k", ["-b:a", "64k", "-ac", "1"]),
        ):
            args += ["-map", f"[v{label}]", *CLEAN_OUTPUT, "-c:v", "libx264", "-preset", "veryfast"]
            args += ["-crf", crf, "-profile:v", profile, "-pix_fmt", "yuv420p", "-maxrate", maxrate]
            args += ["-bufsize", str(int(maxrate[:-1]) * 2) + "k"]
            if audio is not None:
                args += ["-map", _specifier(audio), "-c:a", "aac", "-ar", _aac_rate(audio), *audio_opts]
            args += ["-movflags", "+faststart", "-f", "mp4", str(temps[f"{label}.mp4"])]
        if audio is not None:
            args += ["-map", _specifier(audio), *CLEAN_OUTPUT, "-c:a", "libopus", "-b:a", "32k"]
            args += ["-vbr", "constrained"]
            args += ["-ac", "1", "-ar", "48000", "-f", "ogg", str(temps["audio-low.opus"])]
        _check(run_tool(args, timeout=timeout, memory_limit=memory_limit), "ffmpeg")


def _poster(
    src: Path,
    demuxer: str,
    out_dir: Path,
    ffmpeg: str,
    timeout: float,
    memory_limit: int,
    stream: str,
    at: float,
) -> None:
    with _outputs(out_dir, ["poster.jpg"]) as temps:
        for seek in dict.fromkeys((at, 0.0)):  # a seek past the last frame gives nothing: then take the first
            args = [ffmpeg, *BASE_ARGS, "-ss", f"{seek:.3f}", *input_args(src, demuxer), "-map", stream]
            args += ["-frames:v", "1", "-vf", f"{_fit(1280, 720)},format=yuvj420p", *CLEAN_OUTPUT]
            args += ["-flags:v", "+bitexact", "-c:v", "mjpeg", "-q:v", "3", "-f", "mjpeg", "-y"]
            args += [str(temps["poster.jpg"])]
            _check(run_tool(args, timeout=timeout, memory_limit=memory_limit), "ffmpeg")
            if temps["poster.jpg"].stat().st_size > 0:
                break
