"""IIIF Image API speed and memory, measured through the real HTTP stack.

Usage: .venv/bin/python bench/iiif_tiles.py [--requests 200] [--skip-memory]

1. Builds a 6000x4000 JPEG, ingests it (pyramid built once) in a throw-away archive, starts the archive's
   HTTP server in a child process and measures, in the same run:
   - a standard tile request vs the same tile bytes served as a static file by the same server (target <= 2x);
   - an arbitrary region request (1234,2345,1500,1100/!512,512/0/default.jpg, varied so that the render
     cache never answers) vs the naive approach in this process: open the original with Pillow, crop,
     resize and encode (target >= 10x faster).
2. Builds a 200-megapixel source, and reports the peak resident memory (VmHWM) of a fresh server process
   while it serves tiles, regions and sizes of it (target <= 300 MB).
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402


def make_source(path: Path, width: int, height: int) -> None:
    """A photographic-like JPEG: gradients, shapes and noise, so it does not compress to nothing."""
    base = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width // 4, height // 4), 40).resize((width, height))
    red = Image.merge("RGB", (base, noise, base.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    red.save(path, "JPEG", quality=90)
    for im in (base, noise, red):
        im.close()


def build_archive(data_dir: Path, source: Path) -> tuple[str, Path]:
    """Ingest *source* into a new archive in *data_dir*; returns (media id, pyramid directory)."""
    from flask_migrate import upgrade

    from archive import create_app
    from archive.core.extensions import db
    from archive.media.services import derivative_path, ingest_file, queue_derivatives
    from archive.records.services import create_record
    from config import TestConfig
    from metadata.csv_records import RecordInput

    config = type(
        "BenchConfig",
        (TestConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data_dir / 'archive.sqlite3'}",
            "DATA_DIR": str(data_dir),
            "JOBS_IMMEDIATE": True,
            "MAX_IMAGE_PIXELS": 300_000_000,
            "IIIF_CACHE_BYTES": 512 * 1024**2,
            "TESTING": False,
        },
    )
    app = create_app(config)
    with app.app_context():
        upgrade()
        record = create_record(
            RecordInput.titled("Bench", slug="bench", category="craft"),
            actor=None,
        )
        copy = data_dir / source.name
        shutil.copy(source, copy)
        media = ingest_file(record, copy, source.name, actor=None)
        db.session.commit()
        started = time.perf_counter()
        queue_derivatives(media)
        db.session.refresh(media)
        assert media.state == "ready", media.state_detail
        print(f"  pyramid built in {time.perf_counter() - started:.1f} s")
        result = media.public_id, derivative_path(media.derivative("pyramid"))
        db.session.remove()
    return result


def serve(data_dir: str, static_dir: str, port_queue) -> None:
    """Child process: the archive app plus a plain static-file route for the baseline."""
    from flask import send_from_directory
    from werkzeug.serving import make_server

    from archive import create_app
    from config import TestConfig

    config = type(
        "BenchConfig",
        (TestConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(data_dir) / 'archive.sqlite3'}",
            "DATA_DIR": data_dir,
            "JOBS_IMMEDIATE": True,
            "TESTING": False,
            "IIIF_CACHE_BYTES": 512 * 1024**2,
        },
    )
    app = create_app(config)
    app.add_url_rule(
        "/bench-static/<path:name>",
        "bench_static",
        lambda name: send_from_directory(static_dir, name, max_age=31536000),
    )
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    port_queue.put(server.server_port)
    server.serve_forever()


def start_server(data_dir: Path, static_dir: Path):
    ctx = get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=serve, args=(str(data_dir), str(static_dir), queue), daemon=True)
    process.start()
    return process, queue.get(timeout=120)


def fetch(port: int, path: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"{path}: HTTP {response.status} {body[:200]!r}")
    return elapsed, body


def summary(times: list[float]) -> str:
    times = sorted(times)
    p95 = times[int(len(times) * 0.95) - 1]
    return f"median {statistics.median(times) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms (n={len(times)})"


def naive_region(source: Path, box: tuple[int, int, int, int]) -> bytes:
    """Open the original, crop, resize to fit 512x512, encode: what a pyramid-less server would do."""
    with Image.open(source) as image:
        region = image.crop((box[0], box[1], box[0] + box[2], box[1] + box[3]))
        region.thumbnail((512, 512), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        region.convert("RGB").save(out, "JPEG", quality=85)
        return out.getvalue()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def speed(work: Path, requests: int) -> None:
    print("== 6000x4000 source: tiles and regions")
    source = work / "source-6000x4000.jpg"
    make_source(source, 6000, 4000)
    data = work / "speed"
    data.mkdir()
    media_id, pyramid = build_archive(data, source)
    static = work / "static"
    static.mkdir()
    shutil.copy(pyramid / "tiles" / "1" / "2_3.jpg", static / "tile.jpg")
    process, port = start_server(data, static)
    try:
        tile_path = f"/iiif/3/{media_id}/1024,1536,512,512/512,/0/default.jpg"
        for _ in range(20):  # warm up both paths
            fetch(port, tile_path)
            fetch(port, "/bench-static/tile.jpg")
        tile_times, static_times = [], []
        for _ in range(requests):  # interleaved, so that machine noise hits both alike
            elapsed, tile_bytes = fetch(port, tile_path)
            tile_times.append(elapsed)
            elapsed, static_bytes = fetch(port, "/bench-static/tile.jpg")
            static_times.append(elapsed)
        assert tile_bytes == static_bytes
        print(f"  IIIF tile      : {summary(tile_times)}")
        print(f"  static file    : {summary(static_times)}")
        print(
            f"  ratio (median) : {statistics.median(tile_times) / statistics.median(static_times):.2f}x "
            "(target <= 2x)"
        )

        region_times, naive_times = [], []
        count = max(20, requests // 5)
        for i in range(count):
            box = (1234 + i, 2345, 1500, 1100)  # a new region each time: the render cache never answers
            elapsed, body = fetch(
                port, f"/iiif/3/{media_id}/{box[0]},{box[1]},{box[2]},{box[3]}/!512,512/0/default.jpg"
            )
            region_times.append(elapsed)
            started = time.perf_counter()
            naive_region(source, box)
            naive_times.append(time.perf_counter() - started)
        with Image.open(io.BytesIO(body)) as check:
            assert check.size == (512, 375), check.size
        print(f"  IIIF region    : {summary(region_times)}")
        print(f"  naive Pillow   : {summary(naive_times)}")
        print(
            f"  speed-up (median): {statistics.median(naive_times) / statistics.median(region_times):.1f}x "
            "(target >= 10x)"
        )
    finally:
        process.terminate()
        process.join(10)


def memory(work: Path) -> None:
    print("== 200-megapixel source: peak resident memory of the server")
    width, height = 16384, 12208  # 200.0 megapixels
    source = work / "source-200mp.jpg"
    started = time.perf_counter()
    make_source(source, width, height)
    print(f"  source written in {time.perf_counter() - started:.1f} s ({source.stat().st_size / 1e6:.0f} MB)")
    data = work / "memory"
    data.mkdir()
    media_id, _ = build_archive(data, source)
    process, port = start_server(data, work)
    try:
        baseline = peak_rss_mb(process.pid)
        fetch(port, f"/iiif/3/{media_id}/info.json")
        paths = [
            f"/iiif/3/{media_id}/full/max/0/default.jpg",
            f"/iiif/3/{media_id}/full/!1024,1024/0/default.jpg",
            f"/iiif/3/{media_id}/full/pct:10/0/default.jpg",
        ]
        for i in range(40):
            x, y = (i * 997) % (width - 3000), (i * 631) % (height - 3000)
            paths.append(f"/iiif/3/{media_id}/{x},{y},2048,2048/512,/0/default.jpg")
            paths.append(f"/iiif/3/{media_id}/{x},{y},3000,2500/!800,800/{(i * 45) % 360}/default.png")
            paths.append(f"/iiif/3/{media_id}/{(i % 8) * 512},{(i // 8) * 512},512,512/512,/0/default.jpg")
        for path in paths:
            fetch(port, path)
        print(
            f"  server peak RSS after start: {baseline:.0f} MB; after {len(paths) + 1} requests: "
            f"{peak_rss_mb(process.pid):.0f} MB (target <= 300 MB)"
        )
    finally:
        process.terminate()
        process.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-iiif-"))
    try:
        speed(work, args.requests)
        if not args.skip_memory:
            memory(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
