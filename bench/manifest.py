"""IIIF Presentation manifests: build time of a 500-canvas manifest, and serving it from the cache.

Usage: .venv/bin/python bench/manifest.py [--canvases 500] [--runs 9]

1. The builder alone (metadata.iiif_presentation.build_manifest + JSON serialisation) on a synthetic
   record with N image canvases (fake media facts, no files), median of several runs; the same manifest
   built with iiif-prezi3's models, for comparison (why the builder uses plain dicts).
2. Through the application (Flask test client, SQLite in a throw-away directory): a record with N ready
   image files; the first GET (load, access checks, build, cache), then cached GETs, then 304
   revalidations with If-None-Match, then the first GET after an edit of the record (cache invalidated).
Budget: a 500-canvas manifest is built in <= 1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from metadata.iiif_presentation import (  # noqa: E402
    CanvasSource,
    Link,
    ManifestLinks,
    Provider,
    build_manifest,
)
from metadata.languages import LangString  # noqa: E402
from metadata.model import DocDate, RecordDescription, Term  # noqa: E402

BASE = "https://archive.example"


def synthetic(n: int) -> tuple[RecordDescription, list[CanvasSource], ManifestLinks]:
    """A record with *n* image files of varied sizes, and its links."""
    record = RecordDescription(
        identifier="rbench",
        slug="bench",
        url=f"{BASE}/records/rbench",
        category="festival",
        status="published",
        access_level="public",
        texts={
            "title": [LangString("Lễ hội thử", "vi"), LangString("Test festival", "en")],
            "summary": [LangString("Tóm tắt.", "vi"), LangString("Summary.", "en")],
        },
        ethnic_groups=[Term("tay", [LangString("Tày", "vi"), LangString("Tay", "en")])],
        dates=[DocDate("held", dt.date(2024, 2, 10))],
        rights_uri="https://creativecommons.org/licenses/by-nc-sa/4.0/",
        rights_holder="Bản Cải",
        publisher="Lưu trữ",
    )
    sources = [
        CanvasSource(
            f"m{i:05d}",
            "image",
            [LangString(f"Ảnh {i}", "vi"), LangString(f"Picture {i}", "en")],
            4000 + i,
            3000 - i,
            image_service=f"{BASE}/iiif/3/m{i:05d}",
        )
        for i in range(n)
    ]
    links = ManifestLinks(
        base=f"{BASE}/iiif/records/rbench",
        homepages=[Link(f"{BASE}/vi/records/rbench/bench", "Text", [], "text/html", language="vi")],
        see_also=[Link(f"{BASE}/records/rbench/dc.xml", "Dataset", [], "application/xml")],
        provider=Provider(f"{BASE}/vi/", [LangString("Lưu trữ", "vi")], f"{BASE}/vi/"),
    )
    return record, sources, links


def time_builder(n: int, runs: int) -> tuple[float, int]:
    """Median seconds to build and serialise the manifest, and its size in bytes."""
    record, sources, links = synthetic(n)
    times, size = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        body = json.dumps(build_manifest(record, sources, links), ensure_ascii=False, separators=(",", ":"))
        times.append(time.perf_counter() - start)
        size = len(body.encode("utf-8"))
    return statistics.median(times), size


def time_prezi3(n: int, runs: int) -> float:
    """Median seconds to build and serialise the same canvases with iiif-prezi3's models."""
    from iiif_prezi3 import Annotation, AnnotationBody, AnnotationPage, Canvas, Manifest, ServiceV3

    times = []
    for _ in range(runs):
        start = time.perf_counter()
        manifest = Manifest(id=f"{BASE}/iiif/records/rbench/manifest.json", label={"vi": ["Lễ hội thử"]})
        for i in range(n):
            cid = f"{BASE}/iiif/records/rbench/canvas/m{i:05d}"
            service = f"{BASE}/iiif/3/m{i:05d}"
            body = AnnotationBody(
                id=f"{service}/full/max/0/default.jpg",
                type="Image",
                format="image/jpeg",
                width=4000 + i,
                height=3000 - i,
                service=[ServiceV3(id=service, type="ImageService3", profile="level2")],
            )
            annotation = Annotation(
                id=f"{cid}/annotation/painting", motivation="painting", body=body, target=cid
            )
            page = AnnotationPage(id=f"{cid}/page/painting", items=[annotation])
            manifest.items.append(
                Canvas(id=cid, label={"vi": [f"Ảnh {i}"]}, width=4000 + i, height=3000 - i, items=[page])
            )
        manifest.json()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_app(n: int, runs: int) -> dict[str, float]:
    """Seconds for the first GET, cached GETs (median), 304s (median) and the first GET after an edit."""
    from flask_migrate import upgrade

    from archive import create_app
    from archive.core.extensions import db
    from archive.iiif.presentation import bp, manifests
    from archive.media.models import MediaDerivative, MediaFile
    from archive.records.services import create_record, update_record
    from config import TestConfig
    from metadata.csv_records import RecordInput

    work = Path(tempfile.mkdtemp(prefix="bench-manifest-"))
    try:
        config = type(
            "BenchConfig",
            (TestConfig,),
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'archive.sqlite3'}",
                "DATA_DIR": str(work / "data"),
            },
        )
        app = create_app(config)
        if bp.name not in app.blueprints:
            app.register_blueprint(bp)
        with app.app_context():
            upgrade()
            title = {"title": [LangString("Lễ hội thử", "vi")]}
            fields = dict(row=0, identifier=None, slug=None, category="festival", status="published",
                          access_level="public", texts=title)  # fmt: skip
            record = create_record(RecordInput(**fields), actor=None)
            for i in range(n):
                media = MediaFile(
                    public_id=f"mbench{i:05d}", record=record, kind="image", original_filename=f"{i}.jpg",
                    storage_key=f"fake/{i}.jpg", sha256=f"{i:064d}", size_bytes=1, mime_type="image/jpeg",
                    width=4000 + i, height=3000 - i, caption=[{"lang": "vi", "value": f"Ảnh {i}"}],
                    state="ready", position=i,
                )  # fmt: skip
                media.derivatives.append(
                    MediaDerivative(
                        name="pyramid",
                        storage_key=f"fake/{i}",
                        mime_type="image/jpeg",
                        sha256=f"{i:064x}",
                        size_bytes=1,
                    )  # fmt: skip
                )
                db.session.add(media)
            db.session.commit()
            public_id = record.public_id
        client = app.test_client()
        url = f"/iiif/records/{public_id}/manifest.json"
        manifests.clear()
        start = time.perf_counter()
        first = client.get(url)
        cold = time.perf_counter() - start
        assert first.status_code == 200 and len(first.get_json()["items"]) == n, first.status_code
        etag = first.headers["ETag"]
        warm, revalidate = [], []
        for _ in range(runs):
            start = time.perf_counter()
            assert client.get(url).status_code == 200
            warm.append(time.perf_counter() - start)
            start = time.perf_counter()
            assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
            revalidate.append(time.perf_counter() - start)
        with app.app_context():
            from archive.records.models import HeritageRecord

            fields["texts"] = {"title": [LangString("Lễ hội đã sửa", "vi")]}
            update_record(db.session.get(HeritageRecord, record.id), RecordInput(**fields), None)
            db.session.commit()
        start = time.perf_counter()
        edited = client.get(url, headers={"If-None-Match": etag})
        after_edit = time.perf_counter() - start
        assert edited.status_code == 200 and edited.get_json()["label"] == {"vi": ["Lễ hội đã sửa"]}
        with app.app_context():
            db.engine.dispose()
        return {
            "first": cold,
            "cached": statistics.median(warm),
            "revalidate": statistics.median(revalidate),
            "after_edit": after_edit,
            "bytes": len(first.get_data()),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--canvases", type=int, default=500)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--skip-prezi3", action="store_true")
    args = parser.parse_args()
    n = args.canvases
    build, size = time_builder(n, args.runs)
    print(
        f"builder (plain dicts), {n} canvases: median {build * 1000:.1f} ms, "
        f"{size / 1024:.0f} KiB (budget 1000 ms)"
    )
    if not args.skip_prezi3:
        prezi = time_prezi3(n, max(3, args.runs // 3))
        print(f"iiif-prezi3 models, same canvases (painting only): median {prezi * 1000:.1f} ms")
    served = time_app(n, args.runs)
    print(
        f"HTTP, {n} canvases ({served['bytes'] / 1024:.0f} KiB): first GET {served['first'] * 1000:.1f} ms, "
        f"cached GET median {served['cached'] * 1000:.1f} ms, "
        f"304 median {served['revalidate'] * 1000:.1f} ms, "
        f"first GET after an edit {served['after_edit'] * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
