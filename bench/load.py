"""Load test of the production stack: a realistic visitor mix against gunicorn, PostgreSQL and Redis.

Usage: .venv/bin/python bench/load.py [--duration 60] [--users 20] [--spawn-rate 5] [--workers 4]
                                      [--database-url URL] [--redis-url URL] [--keep] [--smoke] [--json FILE]

1. Creates its own PostgreSQL database (default ``archive_load`` on 127.0.0.1, dropped afterwards unless
   --keep) and a temporary data directory, flushes its Redis database (default db 7);
2. migrates and loads the demo content with media in ProductionConfig (PostgreSQL search backend, Huey in
   Redis), with one ``archive worker`` running, and waits until every media file is derived and the
   search outbox is empty;
3. starts gunicorn (--workers sync workers on a free loopback port);
4. reads the running site as an anonymous visitor to find real URLs: record pages in vi and en, browse
   and listing pages, searches with facets, IIIF info.json and tiles at several zoom levels, image sizes
   used by the pages, audio/video renditions (requested with Range headers), manifests, OAI-PMH
   ListRecords (following resumption tokens), ListIdentifiers and GetRecord, exhibits and datasets;
5. runs locust headless (bench/locustfile.py, in a subprocess: locust brings gevent, which the archive
   never imports) on loopback for --duration seconds (at least 60 unless --smoke);
6. samples the resident memory (RSS) of the gunicorn master, each gunicorn worker and the queue worker
   every --sample-seconds;
7. prints per kind: requests, failures, req/s, median, p95, p99, and overall; memory: first-quarter vs
   last-quarter average RSS per process and the growth; exits 1 when any request failed (a status other
   than 200/206/304, or a connection error) or a process died;
8. stops everything it started and removes what it created.

Only public, anonymous URLs are requested. The JSON API's read limit is raised for the run
(ARCHIVE_API_READ_RATE_LIMIT) so that 20 visitors on one loopback address do not turn into 429s, and
OAI pages are 20 records (ARCHIVE_OAI_PAGE_SIZE) so that the 57 demo records need resumption tokens.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlencode, urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
#: locust lives in a virtual environment of its own: it brings gevent, and with gevent importable the
#: archive's processes import it (huey's consumer does) and were seen to crash (SIGSEGV in `archive export`).
LOCUST_VENV = ROOT / ".venv-bench"
LOCUST_VERSION = "2.47.0"


def locust_command() -> Path:
    """The locust executable of .venv-bench, made (with the versions of requirements.lock) when missing."""
    locust = LOCUST_VENV / "bin" / "locust"
    if not locust.exists():
        log(f"creating {LOCUST_VENV} with locust {LOCUST_VERSION}")
        subprocess.run([sys.executable, "-m", "venv", str(LOCUST_VENV)], check=True)
        subprocess.run(
            [str(LOCUST_VENV / "bin" / "pip"), "install", "-q", "-c", str(ROOT / "requirements.lock"),
             f"locust=={LOCUST_VERSION}"],
            check=True,
        )  # fmt: skip
    return locust


#: Relative weights of the visitor mix (how often a visitor's next request is of each kind).
WEIGHTS = {
    "record_page": 20,  # record pages, vi and en
    "listing": 10,  # home, browse, groups, places, collections, categories, calendar, map
    "search": 12,  # searches, some with facets, some with a second page
    "iiif_info": 4,  # info.json when the zoom viewer opens
    "iiif_tile": 24,  # tiles at several zoom levels (a viewer asks for many)
    "iiif_image": 10,  # the sized images the pages show (cards, record pictures)
    "media_range": 8,  # audio/video renditions, Range requests
    "manifest": 4,  # IIIF Presentation manifests
    "api": 4,  # JSON API reads: record lists, records, searches, vocabularies
    "oai": 2,  # harvesters: ListRecords with resumption, ListIdentifiers, GetRecord
    "exhibit_dataset": 4,  # exhibits and open datasets
    "static": 2,  # CSS/JS (most are cached by browsers; a few cold visitors)
}

#: Search queries visitors type: broad, a group, a place, English, without diacritics, a misspelling.
QUERIES = [
    "lễ hội",
    "người",
    "cúng",
    "Thái",
    "múa",
    "Hà Giang",
    "festival",
    "le hoi",
    "cong chieng",
    "mua xuan",
    "dệt thổ cẩm",
    "lễ cúng",
]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- PostgreSQL and Redis ----------------------------------------------------------------------------


def _pg_parts(url: str) -> tuple[str, str]:
    """(libpq URL of the maintenance database, name of the bench database) from a SQLAlchemy URL."""
    plain = re.sub(r"^postgresql\+\w+://", "postgresql://", url)
    parts = urlsplit(plain)
    name = parts.path.lstrip("/")
    if not name:
        raise SystemExit("--database-url must name a database")
    return parts._replace(path="/postgres").geturl(), name


def create_database(url: str) -> None:
    import psycopg

    admin, name = _pg_parts(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            raise SystemExit(f"database {name!r} already exists; drop it or pass another --database-url")
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    admin, name = _pg_parts(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_count(url: str, sql: str) -> int:
    import psycopg

    with psycopg.connect(re.sub(r"^postgresql\+\w+://", "postgresql://", url)) as conn:
        return conn.execute(sql).fetchone()[0]


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


# --- processes ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """The processes started by the bench, stopped in reverse order on exit."""

    def __init__(self, env: dict, log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str]) -> subprocess.Popen:
        out = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 (kept open for the child)
        proc = subprocess.Popen(
            args, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs.append((name, proc))
        return proc

    def run(self, name: str, args: list[str]) -> None:
        with open(self.log_dir / f"{name}.log", "ab") as out:
            subprocess.run(args, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, check=True)

    def stop(self) -> None:
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    log(f"{name} did not stop in 30 s; killing it")
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        self.procs.clear()


def wait_for(predicate, timeout: float, what: str, every: float = 1.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")


# --- reading the site --------------------------------------------------------------------------------


def fetch(base: str, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """GET without following redirects; (status, headers, body)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(urljoin(base, path), headers=headers or {})
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def server_ready(base: str) -> bool:
    for path in ("/readyz", "/vi/"):
        try:
            status, _, _ = fetch(base, path)
        except OSError:
            return False
        if status == 200:
            return True
        if status != 404:
            return False
    return False


ATTRIBUTE = re.compile(r"""\b(href|src|srcset|data-[\w-]+)\s*=\s*["']([^"']+)["']""")


def links(page: bytes) -> list[str]:
    """Every site URL in href/src/srcset/data-* attributes of a page (a srcset gives each candidate)."""
    found = []
    for name, value in ATTRIBUTE.findall(page.decode("utf-8", "replace")):
        value = html.unescape(value)
        # IIIF URLs hold commas ("!800,800"): srcset candidates are split at a comma followed by a space.
        candidates = re.split(r",\s+", value) if name == "srcset" else [value]
        for candidate in candidates:
            url = candidate.strip().split(" ")[0]
            if url.startswith("/"):
                found.append(url)
    return found


def discover(base: str, rng: random.Random) -> dict:
    """Read the running site as an anonymous visitor and build the visitor mix of real URLs."""
    kinds: dict[str, list[dict]] = {kind: [] for kind in WEIGHTS}

    def add(kind: str, url: str, **extra) -> None:
        entry = {"url": url, **extra}
        if entry not in kinds[kind]:
            kinds[kind].append(entry)

    def ok(path: str) -> bytes:
        status, _, body = fetch(base, path)
        if status != 200:
            raise SystemExit(f"discovery: GET {path} answered {status}")
        return body

    # Records from the sitemap (public records only), in both languages.
    sitemap = ok("/sitemap.xml").decode()
    record_urls = sorted(set(re.findall(r"<loc>https?://[^/]+(/(?:vi|en)/records/[^<]+)</loc>", sitemap)))
    if not record_urls:
        paths = re.findall(r"<loc>https?://[^/]+(/[^<]+)</loc>", sitemap)
        raise SystemExit(f"discovery: no record URLs in /sitemap.xml ({paths[:5]})")
    for url in record_urls:
        for lang in ("vi", "en"):
            add("record_page", re.sub(r"^/(vi|en)/", f"/{lang}/", url))

    images: set[str] = set()
    renditions: set[str] = set()
    manifests: set[str] = set()
    statics: set[str] = set()
    for url in record_urls:
        if not url.startswith("/vi/"):
            continue
        for link in links(ok(url)):
            path = link.split("#")[0]
            if path.startswith("/iiif/3/") and not path.endswith("info.json"):
                images.add(path)
            elif re.match(r"^/media/[^/]+/r/", path):
                renditions.add(path)
            elif path.endswith("/manifest.json"):
                manifests.add(path)
            elif path.startswith("/static/"):
                statics.add(path)

    # Listings: the home page and browse pages with the first few entries of each.
    listing_pages = ["/vi/", "/en/", "/vi/browse", "/en/browse", "/vi/records", "/vi/calendar", "/vi/map"]
    for index in ("/vi/groups", "/vi/places", "/vi/collections", "/vi/categories"):
        listing_pages.append(index)
        prefix = index + "/"
        entries = sorted({link.split("?")[0] for link in links(ok(index)) if link.startswith(prefix)})
        listing_pages += entries[:6]
    for page in listing_pages:
        body = ok(page)
        add("listing", page)
        for link in links(body):
            if link.startswith("/iiif/3/") and not link.endswith("info.json"):
                images.add(link)
            elif link.startswith("/static/"):
                statics.add(link.split("#")[0])

    # Searches: typed queries, facet links from their result pages, a second page.
    for q in QUERIES:
        lang = rng.choice(("vi", "en"))
        path = f"/{lang}/search?" + urlencode({"q": q})
        body = ok(path)
        add("search", path)
        facet_links = [
            link
            for link in links(body)
            if link.startswith(f"/{lang}/search?") and "q=" in link and link != path
        ]
        for link in rng.sample(facet_links, min(3, len(facet_links))):
            status, _, _ = fetch(base, link)
            if status == 200:
                add("search", link)
    add("search", "/vi/search?" + urlencode({"q": "lễ hội", "page": 2}))

    # IIIF: info.json of every image seen, tiles at every scale factor the service declares.
    identifiers = sorted({path.split("/")[3] for path in images})
    for image in sorted(images):
        add("iiif_image", image)
    for identifier in identifiers:
        info_path = f"/iiif/3/{identifier}/info.json"
        info = json.loads(ok(info_path))
        add("iiif_info", info_path)
        width, height = info["width"], info["height"]
        for tiles in info.get("tiles", []):
            size = tiles["width"]
            tile_h = tiles.get("height", size)
            for factor in tiles.get("scaleFactors", [1]):
                step_w, step_h = size * factor, tile_h * factor
                columns = range(0, width, step_w)
                rows = range(0, height, step_h)
                cells = [(x, y) for x in columns for y in rows]
                for x, y in rng.sample(cells, min(6, len(cells))):
                    w, h = min(step_w, width - x), min(step_h, height - y)
                    out_w = -(-w // factor)
                    add("iiif_tile", f"/iiif/3/{identifier}/{x},{y},{w},{h}/{out_w},/0/default.jpg")

    # Audio and video renditions: their sizes, so that the locustfile asks for ranges inside them.
    for path in sorted(renditions):
        status, headers, _ = fetch(base, path, {"Range": "bytes=0-0"})
        if status == 206 and "/" in headers.get("Content-Range", ""):
            add("media_range", path, size=int(headers["Content-Range"].rsplit("/", 1)[1]))

    for path in sorted(manifests):
        add("manifest", path)

    # JSON API: what a script reading the archive asks for.
    api_lists = json.loads(ok("/api/v1/records"))
    add("api", "/api/v1/records")
    add("api", "/api/v1/records?page=2")
    for q in QUERIES[:6]:
        add("api", "/api/v1/search?" + urlencode({"q": q}))
    for path in ("/api/v1/collections", "/api/v1/exhibits", "/api/v1/vocabularies/ethnic-groups"):
        add("api", path)
    public_ids = re.findall(r"/records/(r[0-9a-z]+)", " ".join(record_urls))
    for public_id in sorted(set(public_ids))[:20]:
        add("api", f"/api/v1/records/{public_id}")
    if not api_lists:
        raise SystemExit("discovery: /api/v1/records is empty")

    # OAI-PMH: a harvest of each list, and single records.
    identify = ok("/oai?verb=ListIdentifiers&metadataPrefix=oai_dc").decode()
    for verb in ("ListRecords", "ListIdentifiers"):
        add("oai", f"/oai?verb={verb}&metadataPrefix=oai_dc", verb=verb, follow=True)
    for identifier in re.findall(r"<identifier>([^<]+)</identifier>", identify)[:20]:
        add("oai", f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier={quote(identifier, safe='')}")

    # Exhibits and datasets, with their pages.
    for index in ("/vi/exhibits", "/vi/datasets"):
        add("exhibit_dataset", index)
        prefix = index + "/"
        for link in sorted({link for link in links(ok(index)) if link.startswith(prefix)})[:8]:
            status, _, _ = fetch(base, link)
            if status == 200:
                add("exhibit_dataset", link)

    for path in sorted(statics):
        status, _, _ = fetch(base, path)
        if status == 200:
            add("static", path)

    # Every URL of the mix once, in a shuffled order: a visitor URL that does not answer is a bench bug
    # (or a site bug) to look at, not something to leave out. This also warms the workers up.
    every = [(kind, entry) for kind, entries in kinds.items() for entry in entries]
    rng.shuffle(every)
    broken = []
    for kind, entry in every:
        headers = {"Range": "bytes=0-1023"} if kind == "media_range" else {}
        status, _, _ = fetch(base, entry["url"], headers)
        if status not in (200, 206):
            broken.append(f"{status} {entry['url']}")
    if broken:
        raise SystemExit("discovery: URLs that do not answer:\n  " + "\n  ".join(broken))

    return {
        "kinds": {kind: {"weight": WEIGHTS[kind], "requests": reqs} for kind, reqs in kinds.items()},
        "think_seconds": [0.5, 2.0],
    }


# --- memory ------------------------------------------------------------------------------------------


class MemorySampler(threading.Thread):
    """Samples the RSS of the gunicorn master and workers and of the queue worker."""

    def __init__(self, gunicorn_pid: int, worker_pid: int, every: float) -> None:
        super().__init__(daemon=True)
        self.gunicorn_pid = gunicorn_pid
        self.worker_pid = worker_pid
        self.every = every
        self.samples: dict[str, list[tuple[float, float]]] = {}
        self.stop_event = threading.Event()

    def processes(self):
        import psutil

        master = psutil.Process(self.gunicorn_pid)
        found = [("gunicorn master", master)]
        found += [(f"gunicorn worker {child.pid}", child) for child in master.children()]
        queue = psutil.Process(self.worker_pid)
        found.append((f"queue worker {queue.pid}", queue))
        return found

    def run(self) -> None:
        import psutil

        while not self.stop_event.is_set():
            now = time.monotonic()
            try:
                for label, proc in self.processes():
                    try:
                        rss = proc.memory_info().rss / 1024**2
                    except psutil.NoSuchProcess:
                        continue
                    self.samples.setdefault(label, []).append((now, rss))
            except psutil.NoSuchProcess:
                pass
            self.stop_event.wait(self.every)

    def report(self) -> list[dict]:
        rows = []
        for label, series in self.samples.items():
            values = [rss for _, rss in series]
            if len(values) < 4:
                continue
            quarter = max(1, len(values) // 4)
            first = statistics.fmean(values[:quarter])
            last = statistics.fmean(values[-quarter:])
            rows.append(
                {
                    "process": label,
                    "samples": len(values),
                    "first_quarter_mb": round(first, 1),
                    "last_quarter_mb": round(last, 1),
                    "growth_mb": round(last - first, 1),
                    "growth_pct": round(100 * (last - first) / first, 1),
                    "max_mb": round(max(values), 1),
                }
            )
        return rows


# --- the run -----------------------------------------------------------------------------------------


def read_locust_stats(prefix: Path) -> list[dict]:
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for row in rows:
        out.append(
            {
                "kind": row["Name"] if row["Name"] != "Aggregated" else "ALL",
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "median_ms": float(row["50%"] or 0),
                "p95_ms": float(row["95%"] or 0),
                "p99_ms": float(row["99%"] or 0),
                "max_ms": float(row["Max Response Time"] or 0),
            }
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (at least 60)")
    parser.add_argument("--users", type=int, default=20, help="simulated visitors")
    parser.add_argument("--spawn-rate", type=float, default=5, help="visitors started per second")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (>1: gthread)")
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/archive_load",
        help="PostgreSQL database to create for the run (it must not exist)",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7", help="Redis database (flushed)")
    parser.add_argument("--keep", action="store_true", help="keep the database and data directory")
    parser.add_argument("--smoke", action="store_true", help="allow a short run (for development)")
    parser.add_argument(
        "--think",
        default="0.5,2.0",
        help="visitor think time between requests, MIN,MAX seconds (0,0: as fast as the server answers)",
    )
    parser.add_argument("--sample-seconds", type=float, default=3.0, help="memory sampling interval")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()
    if args.duration < 60 and not args.smoke:
        parser.error("--duration must be at least 60 s (use --smoke for a short development run)")

    data_dir = Path(tempfile.mkdtemp(prefix="archive-load-"))
    log_dir = data_dir / "logs"
    log_dir.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "ARCHIVE_CONFIG": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "ARCHIVE_DATABASE_URL": args.database_url,
        "ARCHIVE_DATA_DIR": str(data_dir / "data"),
        "ARCHIVE_REDIS_URL": args.redis_url,
        "ARCHIVE_SEARCH_BACKEND": "postgresql",
        "ARCHIVE_SECURE_COOKIES": "0",
        "ARCHIVE_FORCE_HSTS": "0",
        "ARCHIVE_BASE_URL": base,
        # Every simulated visitor comes from 127.0.0.1: the per-IP API limit would otherwise answer 429.
        "ARCHIVE_API_READ_RATE_LIMIT": "1000000 per minute",
        "ARCHIVE_OAI_PAGE_SIZE": "20",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("FLASK_APP", None)
    stack = Stack(env, log_dir)
    created = False
    exit_code = 1
    try:
        create_database(args.database_url)
        created = True
        flush_redis(args.redis_url)
        log(f"database {args.database_url}, data {data_dir}, redis {args.redis_url}")

        started = time.monotonic()
        stack.run("migrate", [str(VENV_BIN / "archive"), "db", "upgrade"])
        queue_worker = stack.start("worker", [str(VENV_BIN / "archive"), "worker"])
        stack.run("demo", [str(VENV_BIN / "archive"), "demo"])
        log(f"demo loaded in {time.monotonic() - started:.0f} s; waiting for the media derivatives")

        def settled() -> bool:
            if queue_worker.poll() is not None:
                raise SystemExit(f"the queue worker exited ({queue_worker.returncode}); see {log_dir}")
            pending = database_count(
                args.database_url, "SELECT count(*) FROM media_file WHERE state IN ('pending', 'processing')"
            )
            outbox = database_count(args.database_url, "SELECT count(*) FROM search_outbox")
            return pending == 0 and outbox == 0

        wait_for(settled, 1800, "the media derivatives and the search index", every=2)
        failed = database_count(args.database_url, "SELECT count(*) FROM media_file WHERE state = 'failed'")
        media = database_count(args.database_url, "SELECT count(*) FROM media_file")
        log(f"content ready after {time.monotonic() - started:.0f} s: {media} media files, {failed} failed")

        gunicorn_args = [
            str(VENV_BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--access-logfile",
            "-" if os.environ.get("LOAD_ACCESS_LOG") else "/dev/null",
            "--error-logfile",
            "-",
            "--timeout",
            "120",
        ]
        if args.threads > 1:
            gunicorn_args += ["--worker-class", "gthread", "--threads", str(args.threads)]
        gunicorn = stack.start("gunicorn", [*gunicorn_args, "archive:create_app()"])
        wait_for(lambda: server_ready(base), 120, "gunicorn to answer")
        log(f"gunicorn ({args.workers} workers) answers on {base}")

        mix = discover(base, random.Random(2026))
        mix["think_seconds"] = [float(value) for value in args.think.split(",")]
        mix_path = data_dir / "mix.json"
        mix_path.write_text(json.dumps(mix, ensure_ascii=False, indent=1), encoding="utf-8")
        log(
            "visitor mix: "
            + ", ".join(
                f"{kind} {len(spec['requests'])} URLs (weight {spec['weight']})"
                for kind, spec in mix["kinds"].items()
            )
        )

        # Let the workers settle after discovery (imports, first queries) before sampling memory.
        time.sleep(2)
        sampler = MemorySampler(gunicorn.pid, queue_worker.pid, args.sample_seconds)
        sampler.start()
        prefix = data_dir / "locust"
        locust_env = {**env, "LOAD_MIX": str(mix_path)}
        args.load_before = os.getloadavg()[0]
        args.log_dir = log_dir
        log(f"locust: {args.users} visitors, spawn rate {args.spawn_rate}/s, {args.duration} s")
        with open(log_dir / "locust.log", "ab") as out:
            subprocess.run(
                [
                    str(locust_command()),
                    "-f",
                    str(ROOT / "bench" / "locustfile.py"),
                    "--headless",
                    "--host",
                    base,
                    "--users",
                    str(args.users),
                    "--spawn-rate",
                    str(args.spawn_rate),
                    "--run-time",
                    f"{args.duration}s",
                    "--stop-timeout",
                    "30",
                    "--csv",
                    str(prefix),
                    "--only-summary",
                    "--exit-code-on-error",
                    "0",
                ],
                cwd=ROOT,
                env=locust_env,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=args.duration + 180,
            )
        sampler.stop_event.set()
        sampler.join()

        stats = read_locust_stats(prefix)
        memory = sampler.report()
        dead = [name for name, proc in stack.procs if proc.poll() is not None]
        print_report(args, stats, memory, prefix, dead)
        if args.json:
            args.json.write_text(
                json.dumps(
                    {"stats": stats, "memory": memory, "args": {k: str(v) for k, v in vars(args).items()}},
                    indent=1,
                ),
                encoding="utf-8",
            )
        total = next((row for row in stats if row["kind"] == "ALL"), None)
        exit_code = 0 if total and total["requests"] and not total["failures"] and not dead else 1
    finally:
        stack.stop()
        if args.keep:
            log(f"kept: database {args.database_url}, data {data_dir}")
        else:
            if created:
                drop_database(args.database_url)
                flush_redis(args.redis_url)
            if exit_code == 0:
                shutil.rmtree(data_dir, ignore_errors=True)
            else:
                log(f"logs kept in {log_dir}")
    return exit_code


def print_report(args, stats: list[dict], memory: list[dict], prefix: Path, dead: list[str]) -> None:
    print()
    print(
        f"Load: {args.users} visitors (think {args.think} s), {args.duration} s, "
        f"gunicorn {args.workers} workers"
        + (f" x {args.threads} threads" if args.threads > 1 else "")
        + f"; load average (1 min) before {args.load_before:.1f}, after {os.getloadavg()[0]:.1f}"
    )
    header = ("kind", "requests", "failures", "req/s", "median", "p95", "p99", "max")
    print(
        f"{header[0]:<16} "
        + " ".join(f"{name:>9}" if i < 2 else f"{name:>8}" for i, name in enumerate(header[1:]))
    )
    for row in sorted(stats, key=lambda r: (r["kind"] == "ALL", r["kind"])):
        print(
            f"{row['kind']:<16} {row['requests']:>9} {row['failures']:>9} {row['rps']:>8.1f} "
            + " ".join(f"{row[key]:>6.0f}ms" for key in ("median_ms", "p95_ms", "p99_ms", "max_ms"))
        )
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        with failures.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        if rows:
            print("\nFailures:")
            for row in rows:
                print(f"  {row['Name']}: {row['Error']} x{row['Occurrences']}")
    print(f"\nMemory (RSS, sampled every {args.sample_seconds:g} s): first vs last quarter of the run")
    print(f"{'process':<28} {'samples':>7} {'first':>9} {'last':>9} {'growth':>9} {'%':>6} {'max':>9}")
    for row in memory:
        print(
            f"{row['process']:<28} {row['samples']:>7} {row['first_quarter_mb']:>7.1f}MB "
            f"{row['last_quarter_mb']:>7.1f}MB {row['growth_mb']:>+7.1f}MB {row['growth_pct']:>+5.1f}% "
            f"{row['max_mb']:>7.1f}MB"
        )
    if dead:
        print(f"\nProcesses that exited during the run: {', '.join(dead)}")
    # Server-side evidence for any failure: the errors gunicorn and the app logged.
    errors = [
        line
        for line in (args.log_dir / "gunicorn.log").read_text(errors="replace").splitlines()
        if "Traceback" in line or " ERROR " in line or "[ERROR]" in line or "CRITICAL" in line
    ]
    print(f"\ngunicorn log: {len(errors)} error lines" + (f" (first: {errors[0]})" if errors else ""))


if __name__ == "__main__":
    sys.exit(main())
