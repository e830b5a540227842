"""Search speed at 10,000 and 100,000 records, against SQLite FTS5 on the same corpus in the same run.

Usage: .venv/bin/python bench/search.py [--sizes 10000,100000] [--backends whoosh,postgresql] [--repeat 3]

For each size, in one run:
1. a fresh SQLite archive (migrated, vocabularies with communes) filled with the synthetic corpus of
   bench/corpus.py (in a child process; generation time and peak memory reported);
2. the baseline: an FTS5 table (``unicode61 remove_diacritics 2``; đ is mapped to d first, as the archive
   folds it) over the same records an anonymous visitor sees (published + public), one column per field
   weighted as the archive weighs them, plus facet and sort side tables. One baseline call = the top 20
   by ``bm25`` with their titles and a ``snippet()``, the total count, and a GROUP BY over the ethnic group
   facet of all matches (filters and sorts applied as SQL);
3. the full reindex of each backend (``archive.search.service.rebuild_index()``, in a child process);
4. the full service call ``search_records(text, filters, sort, page=1, per_page=20, viewer=ANONYMOUS)``
   (hits with snippets, facets, 'did you mean') for every query of ``corpus.QUERIES``: one warm-up pass
   (reported as "first call"), then ``--repeat`` passes, baseline and backends interleaved query by query;
5. how long a published record takes to be found: a real ``archive worker`` runs against the bench
   database (SQLite job queue in the data directory); the bench creates and publishes a record with a
   unique title, commits, and polls ``search_records`` until it is found.

Targets at 100,000 records (Whoosh): p95 <= 3x FTS5 p95, p50 <= 5x FTS5 p50, full reindex <= 5 minutes,
visible <= 2 s after publishing. The PostgreSQL backend (server at 127.0.0.1:5432, user postgres, scratch
database ``bench_search_<pid>`` created and dropped by the bench) is reported beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import random
import resource
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
#: Scratch database of this run (one per process, so that two runs never drop each other's database).
PG_DATABASE = f"bench_search_{os.getpid()}"
#: FTS5 column weights, in column order: the archive's field weights (titles > names > subjects > body
#: > media text, archive.search.whoosh_backend.FIELD_WEIGHTS).
FTS_COLUMNS = ("titles", "names", "subjects", "body", "media")
FTS_WEIGHTS = (8.0, 4.0, 2.5, 1.0, 0.4)
PER_PAGE = 20


class ServiceNotReady(RuntimeError):
    """The search service (or a backend) is not implemented yet."""


# --------------------------------------------------------------------------------------------------
# Apps, processes, memory
# --------------------------------------------------------------------------------------------------


def make_config(url: str, data_dir: Path, backend: str):
    from config import TestConfig

    return type(
        "BenchConfig",
        (TestConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "DATA_DIR": str(data_dir),
            "SEARCH_BACKEND": backend,
            "SEARCH_DIR": str(data_dir / "search"),
            "JOBS_IMMEDIATE": False,
            "REDIS_URL": None,
            "TESTING": False,
        },
    )


def make_app(url: str, data_dir: Path, backend: str):
    import logging

    from archive import create_app

    logging.getLogger("alembic").setLevel(logging.WARNING)
    return create_app(make_config(url, data_dir, backend))


def peak_rss_mb(pid: int | str = "self") -> float | None:
    """VmHWM (peak resident set size) of a process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_child(target, *args):
    """Run *target(*args, queue)* in a fresh spawned process and return what it put on the queue."""
    ctx = get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=target, args=(*args, queue))
    process.start()
    try:
        result = queue.get()
        process.join()
    finally:
        if process.is_alive():  # interrupted (SIGTERM, Ctrl-C): do not leave the child running
            process.terminate()
            process.join(10)
            if process.is_alive():
                process.kill()
    if isinstance(result, dict) and result.get("error"):
        raise ServiceNotReady(result["error"]) if result.get("not_ready") else RuntimeError(result["error"])
    return result


def _child_error(exc: BaseException) -> dict:
    import traceback

    not_ready = isinstance(exc, NotImplementedError | ImportError)
    return {"error": "".join(traceback.format_exception(exc)).strip(), "not_ready": not_ready}


def prepare_child(url: str, data_dir: str, size: int, seed: int, queue) -> None:
    """Child: migrate, load the vocabularies and generate the corpus; report times and peak memory."""
    try:
        from flask_migrate import upgrade

        from archive.core.extensions import db
        from archive.vocab.services import load_vocabularies

        app = make_app(url, Path(data_dir), "whoosh" if url.startswith("sqlite") else "postgresql")
        with app.app_context():
            started = time.perf_counter()
            with contextlib.redirect_stderr(
                io.StringIO()
            ):  # Alembic's INFO lines (its env.py logs to stderr)
                upgrade()
            load_vocabularies(include_communes=True)
            db.session.commit()
            vocab_s = time.perf_counter() - started
            started = time.perf_counter()
            generated = corpus.generate(db.session, size, seed=seed)
            gen_s = time.perf_counter() - started
            counts = {
                name: db.session.execute(db.text(f"SELECT count(*) FROM {name}")).scalar()  # noqa: S608
                for name in ("heritage_record", "record_text", "media_file", "record_place")
            }
            counts["visible"] = db.session.execute(
                db.text(
                    "SELECT count(*) FROM heritage_record "
                    "WHERE status = 'published' AND access_level = 'public'"
                )
            ).scalar()
            db.session.remove()
            db.engine.dispose()
        queue.put(
            {
                "generated": generated,
                "vocab_s": vocab_s,
                "gen_s": gen_s,
                "counts": counts,
                "rss": peak_rss_mb(),
            }
        )
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        queue.put(_child_error(exc))


def reindex_child(url: str, data_dir: str, backend: str, queue) -> None:
    """Child: time archive.search.service.rebuild_index(); report documents, index size, peak memory."""
    try:
        from archive.core.extensions import db
        from archive.search.service import rebuild_index

        app = make_app(url, Path(data_dir), backend)
        with app.app_context():
            started = time.perf_counter()
            documents = rebuild_index()
            seconds = time.perf_counter() - started
            if backend == "postgresql":
                size = db.session.execute(
                    db.text(
                        "SELECT pg_total_relation_size('search_document') "
                        "+ pg_total_relation_size('search_word')"
                    )
                ).scalar()
            else:
                size = sum(p.stat().st_size for p in (Path(data_dir) / "search").rglob("*") if p.is_file())
            db.session.remove()
            db.engine.dispose()
        # The Whoosh backend writes a large index in a child process: its peak counts too.
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        queue.put(
            {
                "seconds": seconds,
                "documents": documents,
                "index_mb": size / 1e6,
                "rss": peak_rss_mb(),
                "writer_rss": children,
            }
        )
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        queue.put(_child_error(exc))


def fts_child(archive_db: str, fts_db: str, queue) -> None:
    try:
        started = time.perf_counter()
        documents = build_fts(Path(archive_db), Path(fts_db))
        queue.put(
            {
                "seconds": time.perf_counter() - started,
                "documents": documents,
                "db_mb": Path(fts_db).stat().st_size / 1e6,
                "rss": peak_rss_mb(),
            }
        )
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        queue.put(_child_error(exc))


# --------------------------------------------------------------------------------------------------
# The FTS5 baseline
# --------------------------------------------------------------------------------------------------


def _fold_d(text: str) -> str:
    """unicode61 removes diacritics but keeps đ (a letter of its own); the archive folds it to d."""
    return text.replace("đ", "d").replace("Đ", "D")


def build_fts(archive_db: Path, fts_db: Path) -> int:
    """An FTS5 table of what an anonymous visitor may find, with the documents the archive indexes
    (same fields and names as archive.search.service.build_document), plus facet and sort tables."""
    from metadata.languages import pick_value
    from metadata.text import fold

    src = sqlite3.connect(archive_db)
    visible = dict(
        src.execute(
            "SELECT id, category FROM heritage_record WHERE status = 'published' AND access_level = 'public'"
        )
    )
    places = {
        row[0]: row[1:]
        for row in src.execute("SELECT id, code, name, parent_id, current_province_id FROM place")
    }
    predecessors: dict[int, list[str]] = {}
    for new_id, name in src.execute(
        "SELECT s.new_id, p.name FROM place_succession s JOIN place p ON p.id = s.old_id "
        "WHERE p.level = 'province'"
    ):
        predecessors.setdefault(new_id, []).append(name)
    groups = {
        gid: (slug, [vi, en, *json.loads(other or "[]"), *json.loads(sub or "[]")])
        for gid, slug, vi, en, other, sub in src.execute(
            "SELECT id, slug, name_vi, name_en, other_names, subgroups FROM ethnic_group"
        )
    }
    docs: dict[int, dict] = {
        rid: {
            "titles": [],
            "names": [],
            "subjects": [],
            "body": [],
            "media": [],
            "title_values": [],
            "facets": {"category": {category}},
            "langs": set(),
            "dates": [],
        }
        for rid, category in visible.items()
    }
    for rid, fld, lang, value in src.execute(
        "SELECT record_id, field, lang, value FROM record_text ORDER BY record_id, field, position"
    ):
        doc = docs.get(rid)
        if doc is None:
            continue
        if fld in ("title", "alternative"):
            doc["titles"].append(value)
            if fld == "title":
                from metadata.languages import LangString

                doc["title_values"].append(LangString(value, lang))
        elif fld in ("summary", "description"):
            doc["body"].append(value)
        if fld in ("title", "summary", "description"):
            doc["langs"].add(lang)
    for rid, gid in src.execute(
        "SELECT record_id, ethnic_group_id FROM record_ethnic_group ORDER BY position"
    ):
        if rid in docs:
            slug, names = groups[gid]
            docs[rid]["names"].extend(names)
            docs[rid]["facets"].setdefault("ethnic_group", set()).add(slug)
    for rid, pid in src.execute("SELECT record_id, place_id FROM record_place ORDER BY position"):
        doc = docs.get(rid)
        if doc is None:
            continue
        unit, top = pid, pid
        while unit is not None:
            code, name, parent, _current = places[unit]
            doc["names"].append(name)
            top = unit
            unit = parent
        provinces = doc["facets"].setdefault("province", set())
        provinces.add(places[top][0])
        current = places[pid][3]
        if current is not None:
            provinces.add(places[current][0])
            if current != top:
                doc["names"].append(places[current][1])
            doc["names"].extend(predecessors.get(current, ()))
    for rid, labels in src.execute(
        "SELECT x.record_id, s.labels FROM record_subject x JOIN subject s ON s.id = x.subject_id"
    ):
        if rid in docs:
            docs[rid]["subjects"].extend(v["value"] for v in json.loads(labels))
    for rid, slug in src.execute(
        "SELECT x.record_id, c.slug FROM record_collection x JOIN collection c ON c.id = x.collection_id"
    ):
        if rid in docs:
            docs[rid]["facets"].setdefault("collection", set()).add(slug)
    for rid, kind, caption in src.execute(
        "SELECT record_id, kind, caption FROM media_file WHERE state != 'failed' AND access_level = 'public'"
    ):
        if rid in docs:
            docs[rid]["media"].extend(v["value"] for v in json.loads(caption or "[]") if v.get("value"))
            docs[rid]["facets"].setdefault("media_type", set()).add(kind)
    for rid, start in src.execute("SELECT record_id, start FROM documented_date"):
        if rid in docs:
            docs[rid]["dates"].append(start)
    src.close()

    fts_db.unlink(missing_ok=True)
    dst = sqlite3.connect(fts_db)
    dst.execute("PRAGMA journal_mode = WAL")
    dst.execute(
        f"CREATE VIRTUAL TABLE fts USING fts5({', '.join(FTS_COLUMNS)}, "
        "tokenize = 'unicode61 remove_diacritics 2')"
    )
    dst.execute("CREATE TABLE facet (record_id INTEGER NOT NULL, facet TEXT NOT NULL, value TEXT NOT NULL)")
    dst.execute("CREATE TABLE doc (id INTEGER PRIMARY KEY, title_sort TEXT NOT NULL, sort_date TEXT)")
    fts_rows, facet_rows, doc_rows = [], [], []
    for rid, doc in docs.items():
        names = list(dict.fromkeys(doc["names"]))
        fts_rows.append(
            (
                rid,
                *(
                    _fold_d("\n".join(values))
                    for values in (doc["titles"], names, doc["subjects"], doc["body"], doc["media"])
                ),
            )
        )
        dates = sorted(doc["dates"])
        facets = doc["facets"]
        facets["language"] = doc["langs"]
        facets["decade"] = {d[:3] + "0" for d in dates}
        for facet, values in facets.items():
            facet_rows.extend((rid, facet, v) for v in values)
        title = pick_value(doc["title_values"], "vi", "")
        doc_rows.append((rid, fold(title), dates[0] if dates else None))
    dst.executemany(f"INSERT INTO fts (rowid, {', '.join(FTS_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)", fts_rows)
    dst.executemany("INSERT INTO facet VALUES (?, ?, ?)", facet_rows)
    dst.executemany("INSERT INTO doc VALUES (?, ?, ?)", doc_rows)
    dst.execute("CREATE INDEX ix_facet_value ON facet (facet, value, record_id)")
    dst.execute("CREATE INDEX ix_facet_record ON facet (record_id, facet, value)")
    dst.execute("CREATE INDEX ix_doc_date ON doc (sort_date)")
    dst.execute("CREATE INDEX ix_doc_title ON doc (title_sort)")
    dst.execute("INSERT INTO fts (fts) VALUES ('optimize')")
    dst.commit()
    dst.execute("ANALYZE")
    dst.close()
    return len(docs)


def fts_query_text(text: str) -> str | None:
    """The visitor's text as FTS5 syntax: each word (the archive's tokens, folded) quoted, ANDed."""
    from metadata.text import fold, words

    seen: list[str] = []
    for _start, _end, word in words(text):
        folded = fold(word)
        if folded not in seen:
            seen.append(folded)
    return " ".join(f'"{w}"' for w in seen[:12]) or None


class FtsBaseline:
    """One connection to the FTS5 database; ``search`` is the timed unit of the baseline."""

    def __init__(self, path: Path):
        self.conn = sqlite3.connect(path, check_same_thread=False)
        self.conn.execute("PRAGMA cache_size = -262144")  # 256 MiB, so the baseline is never starved
        self.score = f"bm25(fts, {', '.join(str(w) for w in FTS_WEIGHTS)})"

    def search(self, query: corpus.Query) -> tuple[int, list]:
        """Top hits (id, titles, snippet), total, and the ethnic-group facet: (total, hits).

        With no text (browse), the plain ``doc`` table stands for the matches: counting every row of an
        FTS5 table without MATCH would read all its content."""
        match = fts_query_text(query.text)
        base = "fts" if match else "doc"
        where, params = [], []
        if match:
            where.append("fts MATCH ?")
            params.append(match)
        for facet, values in query.filters.items():
            marks = ", ".join("?" for _ in values)
            # The unary + keeps SQLite from handing the rowid list to FTS5 (one full-text lookup per id).
            where.append(
                f"+{base}.rowid IN (SELECT record_id FROM facet WHERE facet = ? AND value IN ({marks}))"
            )
            params += [facet, *values]
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        order = {
            "relevance": self.score if match else "doc.id DESC",
            "date_desc": "doc.sort_date IS NULL, doc.sort_date DESC",
            "date_asc": "doc.sort_date IS NULL, doc.sort_date ASC",
            "title": "doc.title_sort",
        }[query.sort]
        conn = self.conn
        if match:
            join = "JOIN doc ON doc.id = fts.rowid" if query.sort != "relevance" else ""
            sql = (
                f"SELECT fts.rowid, fts.titles, snippet(fts, 3, '<mark>', '</mark>', '…', 16) "
                f"FROM fts {join} {clause} ORDER BY {order} LIMIT {PER_PAGE}"
            )
        else:
            sql = (
                f"SELECT fts.rowid, fts.titles, substr(fts.body, 1, 200) FROM fts WHERE fts.rowid IN "
                f"(SELECT doc.id FROM doc {clause} ORDER BY {order} LIMIT {PER_PAGE})"
            )
        hits = conn.execute(sql, params).fetchall()
        total = conn.execute(f"SELECT count(*) FROM {base} {clause}", params).fetchone()[0]
        conn.execute(
            f"SELECT facet.value, count(*) FROM {base} JOIN facet ON facet.record_id = {base}.rowid "
            f"AND facet.facet = 'ethnic_group' {clause} GROUP BY facet.value",
            params,
        ).fetchall()
        return total, hits


# --------------------------------------------------------------------------------------------------
# The service
# --------------------------------------------------------------------------------------------------


class Service:
    """One app (database + backend) whose ``search`` is the timed full service call."""

    def __init__(self, name: str, url: str, data_dir: Path):
        self.name = name
        self.app = make_app(url, data_dir, name)

    def search(self, query: corpus.Query) -> tuple[float, int]:
        """(seconds, total) of one search_records call; the request context is set up outside the timing."""
        from archive.core.extensions import db
        from archive.search.base import ANONYMOUS
        from archive.search.service import search_records

        with self.app.test_request_context("/search"):
            started = time.perf_counter()
            page = search_records(
                query.text,
                filters={k: list(v) for k, v in query.filters.items()},
                sort=query.sort,
                page=1,
                per_page=PER_PAGE,
                viewer=ANONYMOUS,
            )
            elapsed = time.perf_counter() - started
            if page.unavailable:
                raise RuntimeError(f"{self.name}: the index is unavailable (not built?)")
            db.session.remove()
        return elapsed, page.total


def check_service() -> None:
    """Fail early, with a clear message, while the service is still being written."""
    import inspect

    try:
        from archive.search import service
    except ImportError as exc:
        raise ServiceNotReady(f"archive.search.service cannot be imported: {exc}") from exc
    for name in ("search_records", "rebuild_index"):
        source = inspect.getsource(getattr(service, name))
        if "raise NotImplementedError" in source.split('"""')[-1]:
            raise ServiceNotReady(f"archive.search.service.{name} is not implemented yet")


# --------------------------------------------------------------------------------------------------
# Visibility after publishing
# --------------------------------------------------------------------------------------------------


def start_worker(url: str, data_dir: Path, backend: str, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env.update(
        ARCHIVE_DATABASE_URL=url,
        ARCHIVE_DATA_DIR=str(data_dir),
        ARCHIVE_SEARCH_BACKEND=backend,
        ARCHIVE_SEARCH_DIR=str(data_dir / "search"),
    )
    script = Path(sys.executable).parent / "archive"
    command = (
        [str(script), "worker"] if script.exists() else ["flask", "--app", "archive", "archive", "worker"]
    )
    process = subprocess.Popen(
        command,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        cwd=str(ROOT),
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while "Re-queued" not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)
        time.sleep(2.0)  # let its first outbox sync run and the consumer go idle
    except BaseException:
        stop_worker(process)
        raise
    return process


def stop_worker(process: subprocess.Popen) -> float | None:
    rss = peak_rss_mb(process.pid)
    try:
        os.killpg(process.pid, signal.SIGINT)  # the worker's own process group (start_new_session)
        process.wait(timeout=20)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    return rss


def visibility(service: Service, trials: int, seed: int, timeout: float = 30.0) -> list[float | None]:
    """Seconds from the commit that publishes a new record until search_records finds it (None: timeout)."""
    from archive.core.extensions import db
    from archive.records.services import create_record
    from archive.search.service import search_records
    from metadata.csv_records import RecordInput
    from metadata.languages import LangString

    rng = random.Random(seed)
    out: list[float | None] = []
    for trial in range(trials):
        time.sleep(rng.uniform(1.0, 3.0))  # publishing happens at any moment of the worker's polling
        token = f"benchvis{trial}{rng.randrange(16**8):08x}"
        with service.app.test_request_context("/"):
            create_record(
                RecordInput(
                    row=0,
                    identifier=None,
                    slug=None,
                    category="festival",
                    status="published",
                    access_level="public",
                    texts={
                        "title": [LangString(f"Lễ hội {token} của người Tày", "vi")],
                        "summary": [LangString("Bản ghi đo thời gian hiển thị sau khi công bố.", "vi")],
                    },
                    ethnic_groups=["tay"],
                    places=["pre2025-p06"],
                ),
                actor=None,
            )
            started = time.perf_counter()
            db.session.commit()
            db.session.remove()
            found = None
            while time.perf_counter() - started < timeout:
                page = search_records(token)
                db.session.remove()  # end the read transaction (SQLite: BEGIN IMMEDIATE) at once
                if page.total:
                    found = time.perf_counter() - started
                    break
                time.sleep(0.02)
        out.append(found)
    return out


# --------------------------------------------------------------------------------------------------
# PostgreSQL scratch database
# --------------------------------------------------------------------------------------------------


def pg_reset(drop_only: bool = False) -> str:
    import sqlalchemy as sa

    assert PG_DATABASE.startswith("bench_search"), PG_DATABASE  # never any other database
    admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
        if not drop_only:
            conn.execute(sa.text(f'CREATE DATABASE "{PG_DATABASE}"'))
    admin.dispose()
    return f"{PG_SERVER}/{PG_DATABASE}"


# --------------------------------------------------------------------------------------------------
# Running and reporting
# --------------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def summary(times: list[float]) -> dict:
    return {
        "p50": statistics.median(times) * 1000,
        "p95": percentile(times, 95) * 1000,
        "max": max(times) * 1000,
        "n": len(times),
    }


def run_size(size: int, args, work: Path) -> dict:
    print(f"\n=== {size:,} records", flush=True)
    result: dict = {"size": size, "backends": {}}
    data_dir = work / f"sqlite-{size}"
    sqlite_url = f"sqlite:///{data_dir / 'archive.sqlite3'}"
    prep = run_child(prepare_child, sqlite_url, str(data_dir), size, args.seed)
    result["prepare"] = prep
    print(
        f"  SQLite archive: vocabularies {prep['vocab_s']:.1f} s, corpus of {prep['generated']:,} records "
        f"generated and inserted in {prep['gen_s']:.1f} s (peak RSS {prep['rss']:.0f} MB); "
        f"{prep['counts']['visible']:,} visible to an anonymous visitor",
        flush=True,
    )
    fts_path = work / f"fts-{size}.sqlite3"
    fts = run_child(fts_child, str(data_dir / "archive.sqlite3"), str(fts_path))
    result["fts_build"] = fts
    print(f"  FTS5 baseline built in {fts['seconds']:.1f} s ({fts['documents']:,} documents)", flush=True)

    services: dict[str, Service] = {}
    for backend in args.backends:
        if backend == "whoosh":
            url, bdir = sqlite_url, data_dir
        else:
            url = pg_reset()
            print(f"  PostgreSQL scratch database: {PG_DATABASE}", flush=True)
            bdir = work / f"pg-{size}"
            pg_prep = run_child(prepare_child, url, str(bdir), size, args.seed)
            result["pg_prepare"] = pg_prep
            print(
                f"  PostgreSQL archive: corpus generated and inserted in {pg_prep['gen_s']:.1f} s",
                flush=True,
            )
        reindex = run_child(reindex_child, url, str(bdir), backend)
        result["backends"][backend] = {"reindex": reindex, "url": url, "dir": bdir}
        print(
            f"  {backend}: full reindex {reindex['seconds']:.1f} s, {reindex['documents']:,} documents, "
            f"index {reindex['index_mb']:.0f} MB, peak RSS {reindex['rss']:.0f} MB "
            f"(index writer process {reindex.get('writer_rss', 0):.0f} MB)",
            flush=True,
        )
        services[backend] = Service(backend, url, bdir)

    baseline = FtsBaseline(fts_path)
    names = ["fts", *services]
    times: dict[str, list[float]] = {n: [] for n in names}
    first: dict[str, list[float]] = {n: [] for n in names}
    per_query: dict[str, dict[str, list[float]]] = {
        q.text + repr(q.filters) + q.sort: {} for q in corpus.QUERIES
    }
    totals: dict[str, dict[str, int]] = {}

    def measure(name: str, query: corpus.Query) -> tuple[float, int]:
        if name == "fts":
            started = time.perf_counter()
            total, _hits = baseline.search(query)
            return time.perf_counter() - started, total
        return services[name].search(query)

    print(f"  {len(corpus.QUERIES)} queries: warm-up pass, then {args.repeat} measured passes", flush=True)
    for query in corpus.QUERIES:
        key = query.text + repr(query.filters) + query.sort
        totals[key] = {}
        for name in names:
            seconds, total = measure(name, query)
            first[name].append(seconds)
            totals[key][name] = total
    rng = random.Random(args.seed)
    for n_pass in range(args.repeat):
        print(f"  pass {n_pass + 1}/{args.repeat}", flush=True)
        order = list(corpus.QUERIES)
        rng.shuffle(order)
        for query in order:
            key = query.text + repr(query.filters) + query.sort
            for name in names:
                seconds, _total = measure(name, query)
                times[name].append(seconds)
                per_query[key].setdefault(name, []).append(seconds)
    result["search"] = {n: summary(times[n]) for n in names}
    result["first"] = {n: summary(first[n]) for n in names}
    result["per_query"] = per_query
    result["totals"] = totals
    result["search_rss"] = peak_rss_mb()

    for backend, service in services.items():
        if args.visibility_trials <= 0:
            break
        info = result["backends"][backend]
        log = work / f"worker-{backend}-{size}.log"
        worker = start_worker(info["url"], info["dir"], backend, log)
        try:
            seen = visibility(service, args.visibility_trials, args.seed)
        finally:
            info["worker_rss"] = stop_worker(worker)
        info["visible"] = seen
        shown = ", ".join("timeout" if s is None else f"{s:.2f}" for s in seen)
        print(f"  {backend}: visible after publishing (s): {shown}", flush=True)

    for service in services.values():
        with service.app.app_context():
            from archive.core.extensions import db

            db.session.remove()
            db.engine.dispose()
    baseline.conn.close()
    print_size(result)
    return result


def _ms(value: float) -> str:
    return f"{value:.1f} ms" if value >= 10 else f"{value:.2f} ms"


def print_size(result: dict) -> None:
    """Per-query figures of one size (to see which queries dominate), and the totals found."""
    names = ["fts", *result["backends"]]
    print(f"\n  per query at {result['size']:,} records (median of the measured passes, ms; total found)")
    header = "  " + f"{'query':<44}" + "".join(f"{n:>22}" for n in names)
    print(header)
    for query in corpus.QUERIES:
        key = query.text + repr(query.filters) + query.sort
        label = (
            (query.text or "(browse)")
            + (" +filter" if query.filters else "")
            + (f" ↕{query.sort}" if query.sort != "relevance" else "")
        )
        cells = []
        for name in names:
            median = statistics.median(result["per_query"][key][name]) * 1000
            cells.append(f"{median:9.2f} {result['totals'][key][name]:>10,}")
        print("  " + f"{label[:44]:<44}" + "".join(f"{c:>22}" for c in cells))
    mismatched = [k for k, t in result["totals"].items() if len(set(t.values())) > 1]
    print(f"  queries whose totals differ between the baseline and a backend: {len(mismatched)}")


def markdown(results: list[dict], command: str, args) -> str:
    backends = list(args.backends)
    label = {"fts": "SQLite FTS5 (baseline)", "whoosh": "Whoosh", "postgresql": "PostgreSQL"}
    lines = [
        "## Search (`bench/search.py`)",
        "",
        f"Command: `{command}` ({dt.date.today().isoformat()}). Corpus: `bench/corpus.py`, seed {args.seed}; "
        f"{len(corpus.QUERIES)} queries × {args.repeat} measured passes after one warm-up pass, baseline and "
        "backends interleaved query by query, anonymous visitor, 20 hits per page.",
        "",
        "| records | measure | " + " | ".join(label[n] for n in ["fts", *backends]) + " | target |",
        "|---|---|" + "---|" * (len(backends) + 1) + "---|",
    ]
    for r in results:
        n = f"{r['size']:,}"
        fts = r["search"]["fts"]
        for stat, target in (("p50", "Whoosh ≤ 5× FTS5"), ("p95", "Whoosh ≤ 3× FTS5"), ("max", "")):
            cells = [_ms(fts[stat])]
            for b in backends:
                value = r["search"][b][stat]
                cells.append(f"{_ms(value)} (**{value / fts[stat]:.1f}×**)")
            lines.append(f"| {n} | search {stat} | " + " | ".join(cells) + f" | {target} |")
        cells = [f"{_ms(r['first']['fts']['p50'])} / {_ms(r['first']['fts']['p95'])}"]
        for b in backends:
            f = r["first"][b]
            cells.append(f"{_ms(f['p50'])} / {_ms(f['p95'])}")
        lines.append(f"| {n} | first call p50 / p95 (warm-up pass) | " + " | ".join(cells) + " | |")
        cells = [f"{r['fts_build']['seconds']:.1f} s (FTS5 build)"]
        for b in backends:
            cells.append(f"**{r['backends'][b]['reindex']['seconds']:.1f} s**")
        lines.append(f"| {n} | full reindex | " + " | ".join(cells) + " | ≤ 300 s |")
        cells = [f"{r['fts_build']['db_mb']:.0f} MB"]
        for b in backends:
            cells.append(f"{r['backends'][b]['reindex']['index_mb']:.0f} MB")
        lines.append(f"| {n} | index size | " + " | ".join(cells) + " | |")
        if any("visible" in r["backends"][b] for b in backends):
            cells = ["—"]
            for b in backends:
                seen = r["backends"][b].get("visible") or []
                ok = [s for s in seen if s is not None]
                text = f"{statistics.median(ok):.2f} / {max(ok):.2f} s" if ok else "—"
                if len(ok) < len(seen):
                    text += f" ({len(seen) - len(ok)} timed out)"
                cells.append(text)
            trials = args.visibility_trials
            lines.append(
                f"| {n} | visible after publishing, p50 / max of {trials} | "
                + " | ".join(cells)
                + " | ≤ 2 s |"
            )
        cells = [f"{r['fts_build']['rss']:.0f} MB (build)"]
        for b in backends:
            info = r["backends"][b]
            text = f"reindex {info['reindex']['rss']:.0f} MB"
            if info["reindex"].get("writer_rss", 0) > 1:
                text += f" (its index writer process {info['reindex']['writer_rss']:.0f} MB)"
            if info.get("worker_rss"):
                text += f", worker {info['worker_rss']:.0f} MB"
            cells.append(text)
        lines.append(f"| {n} | peak RSS (VmHWM) | " + " | ".join(cells) + " | |")
    lines.append("")
    for r in results:
        prep = r["prepare"]
        lines.append(
            f"{r['size']:,} records: {prep['counts']['visible']:,} visible to an anonymous visitor, "
            f"{prep['counts']['record_text']:,} text values, {prep['counts']['media_file']:,} media files; "
            f"generated and inserted in {prep['gen_s']:.1f} s (SQLite). Peak RSS of the process running "
            f"every search: {r['search_rss']:.0f} MB."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated corpus sizes")
    parser.add_argument("--backends", default="whoosh,postgresql", help="whoosh and/or postgresql")
    parser.add_argument("--repeat", type=int, default=3, help="measured passes over the query set")
    parser.add_argument("--visibility-trials", type=int, default=5, help="publish-and-find trials (0: skip)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the work directory and the PG database")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args()
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    command = ".venv/bin/python bench/search.py " + " ".join(sys.argv[1:])
    try:
        check_service()
    except ServiceNotReady as exc:
        sys.exit(f"bench/search.py: the search service is not ready: {exc}")
    # `timeout` and `kill` send SIGTERM: exit through the finally blocks (worker stopped, scratch removed).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = Path(tempfile.mkdtemp(prefix="bench-search-"))
    print(f"work directory: {work}")
    results = []
    try:
        for size in sizes:
            results.append(run_size(size, args, work))
            if args.json:
                args.json.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
            if size != sizes[-1]:  # figures so far, in case a later size does not finish
                print("\n" + markdown(results, command, args), flush=True)
    except ServiceNotReady as exc:
        sys.exit(f"bench/search.py: the search service is not ready:\n{exc}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
            if "postgresql" in args.backends:
                try:
                    pg_reset(drop_only=True)
                except Exception as exc:  # noqa: BLE001 - cleanup only
                    print(f"could not drop {PG_DATABASE}: {exc}")
    print()
    print(markdown(results, command, args))


if __name__ == "__main__":
    main()
