"""Ingest speed: accepting and fully deriving media, as a ratio to running bare ffmpeg commands.

Usage: .venv/bin/python bench/ingest.py [--repeat 2]

Generates a 5-minute stereo audio recording (WAV) and a 1-minute 1080p H.264/AAC video, then, in the same
run and alternating, measures:
- the archive: ingest (sniffing, ffprobe, checksum, write-once store, database row) and the derivative job
  (audio: AAC 128k, Opus 24k, waveform peaks; video: 720p and 360p H.264, Opus audio, poster frame);
- the baseline: the bare ffmpeg commands a person would type to make the same renditions, one per output.
Target: archive / baseline <= 1.2.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", *args], check=True)


def make_inputs(work: Path) -> tuple[Path, Path]:
    audio = work / "song-5min.wav"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=220:duration=300",
        "-f",
        "lavfi",
        "-i",
        "anoisesrc=d=300:c=pink:a=0.05",
        "-filter_complex",
        "[0][1]amix=inputs=2,aformat=channel_layouts=stereo",
        "-ar",
        "44100",
        str(audio),
    )
    video = work / "festival-1min-1080p.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=1920x1080:rate=25:duration=60",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=330:duration=60",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "20",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "192k",
        "-shortest",
        str(video),
    )
    return audio, video


def baseline_audio(src: Path, out: Path) -> None:
    ffmpeg("-i", str(src), "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", str(out / "web.m4a"))
    ffmpeg(
        "-i",
        str(src),
        "-ac",
        "1",
        "-c:a",
        "libopus",
        "-b:a",
        "24k",
        "-application",
        "voip",
        str(out / "low.opus"),
    )
    # waveform peaks: decode to 8 kHz mono PCM (what any peaks tool reads)
    ffmpeg("-i", str(src), "-ac", "1", "-ar", "8000", "-f", "s16le", str(out / "pcm.raw"))


def baseline_video(src: Path, out: Path) -> None:
    ffmpeg(
        "-i",
        str(src),
        "-vf",
        "scale=-2:720",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "23",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-movflags",
        "+faststart",
        str(out / "720.mp4"),
    )
    ffmpeg(
        "-i",
        str(src),
        "-vf",
        "scale=-2:360",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "28",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "64k",
        "-ac",
        "1",
        "-movflags",
        "+faststart",
        str(out / "360.mp4"),
    )
    ffmpeg("-i", str(src), "-vn", "-ac", "1", "-c:a", "libopus", "-b:a", "32k", str(out / "audio-low.opus"))
    ffmpeg("-ss", "6", "-i", str(src), "-frames:v", "1", "-vf", "scale=-2:720", str(out / "poster.jpg"))


def make_app(data_dir: Path):
    from flask_migrate import upgrade

    from archive import create_app
    from config import TestConfig

    config = type(
        "BenchConfig",
        (TestConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data_dir / 'archive.sqlite3'}",
            "DATA_DIR": str(data_dir),
            "JOBS_IMMEDIATE": True,
            "TESTING": False,
        },
    )
    app = create_app(config)
    with app.app_context():
        upgrade()
    return app


def archive_run(app, src: Path, work: Path) -> float:
    """Ingest and derive one file; returns seconds."""
    from archive.core.extensions import db
    from archive.media.services import ingest_file, queue_derivatives
    from archive.records.services import create_record
    from metadata.csv_records import RecordInput

    copy = work / ("upload-" + src.name)
    shutil.copy(src, copy)  # an upload arrives as a new file; the copy is not timed
    with app.app_context():
        record = create_record(
            RecordInput.titled(f"Bench {time.time()}"),
            actor=None,
        )
        db.session.commit()
        started = time.perf_counter()
        media = ingest_file(record, copy, src.name, actor=None)
        db.session.commit()
        queue_derivatives(media)
        elapsed = time.perf_counter() - started
        db.session.refresh(media)
        assert media.state == "ready", media.state_detail
        # make the next run ingest the same bytes again (duplicates are refused)
        from archive.core.storage import original_path

        path = original_path(media.storage_key)
        path.chmod(0o644)
        path.unlink()
        db.session.delete(media)
        db.session.commit()
        db.session.remove()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        audio, video = make_inputs(work)
        app = make_app(work / "data")
        for label, src, baseline in (
            ("5-min audio", audio, baseline_audio),
            ("1-min 1080p video", video, baseline_video),
        ):
            ours, bare = [], []
            for _ in range(args.repeat):
                out = work / "bare"
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir()
                started = time.perf_counter()
                baseline(src, out)
                bare.append(time.perf_counter() - started)
                ours.append(archive_run(app, src, work))
            ours_m, bare_m = statistics.median(ours), statistics.median(bare)
            runs = (
                f"archive {', '.join(f'{t:.2f}' for t in ours)}; bare {', '.join(f'{t:.2f}' for t in bare)}"
            )
            print(
                f"== {label}: archive {ours_m:.2f} s, bare ffmpeg {bare_m:.2f} s, "
                f"ratio {ours_m / bare_m:.2f} (target <= 1.2) [runs: {runs}]"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
