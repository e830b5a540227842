"""Page weight and slow-3G largest contentful paint, measured in a real browser (issue 6).

Usage: .venv/bin/python bench/page_weight.py [--url http://host:port | --data DIR] [--runs 5]
                                             [--json out.json] [--skip-3g] [--verbose]

Without --url, builds a throw-away archive with the demo content and its media (the embedded default
configuration: SQLite, CSRF on, 20 records a page), serves it with werkzeug's threaded server (HTTP/1.1
keep-alive) in a child process on a loopback port, and measures it; with --url, measures that running
archive instead. --data DIR keeps the demo archive in DIR (built there on the first run, reused after).

Pages: home, browse (``/groups`` or ``/browse`` when the archive has them, else ``/records``), search
(``/search?q=lễ hội``), a record page with an image and one with audio (the first ones found through the
record list), in Vietnamese and in English. Each is loaded by Debian's Chromium (Playwright) with a cold
cache on a 360x740 phone viewport (device pixel ratio 2, touch), until the network is idle; lazy images
below the fold are not scrolled into view, media with preload="none" is not played, and the zoom viewer
is not opened.

1. Weight: the bytes transferred per resource, from CDP ``Network.loadingFinished.encodedDataLength``
   (compressed body plus response headers, i.e. what crosses the network), summed by type. Budgets:
   HTML + CSS + JS <= 60 kB on every page; everything (images included) <= 200 kB on record pages
   (1 kB = 1000 bytes). Also checks that text is compressed, static files are fingerprinted and cached
   for a year, and images use IIIF with srcset, sizes, loading="lazy" (except the first) and alt text.
2. Slow 3G: Chromium's DevTools throttling (``Network.emulateNetworkConditions``: 400 ms latency,
   400 kbit/s = 50,000 bytes/s down and up; ``Emulation.setCPUThrottlingRate`` 4) and the largest
   contentful paint of the record pages from a ``PerformanceObserver('largest-contentful-paint')``,
   --runs cold loads each; median and worst. Budget: 4 s.

Exits 1 when a budget is broken, and names the heaviest resources of the pages that broke it.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 360, "height": 740}
DEVICE_SCALE = 2
USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 12; SM-A035F) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
#: Budgets of issue 6, in bytes (1 kB = 1000 bytes, as browsers' developer tools count) and ms.
TEXT_BUDGET = 60_000
RECORD_BUDGET = 200_000
LCP_BUDGET_MS = 4000
#: Chromium DevTools throttling profile of issue 6.
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 50_000, "uploadThroughput": 50_000}
CPU_SLOWDOWN = 4
SEARCH_QUERY = "lễ hội"
LANGUAGES = ("vi", "en")
#: CDP resource types, grouped as the budgets count them.
GROUPS = {"Document": "html", "Stylesheet": "css", "Script": "js", "Image": "img", "Media": "media"}
TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml", "application/xml")


# The archive under test --------------------------------------------------------------------------------


def bench_config(data_dir: Path):
    """The embedded default configuration, on a throw-away database and data directory."""
    from config import Config

    return type(
        "PageWeightConfig",
        (Config,),
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data_dir / 'archive.sqlite3'}",
            "DATA_DIR": str(data_dir),
            "JOBS_IMMEDIATE": True,
            "BASE_URL": "http://127.0.0.1",
        },
    )


def build_archive(data_dir: Path) -> None:
    """Migrate a new database and load the demo records with their media (renditions made at once)."""
    from flask_migrate import upgrade

    from archive import create_app
    from archive.core.extensions import db
    from archive.demo.loader import load_demo

    app = create_app(bench_config(data_dir))
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        created = load_demo(with_media=True)
        db.session.commit()
        print(f"  demo loaded: {created} records in {time.perf_counter() - started:.0f} s", flush=True)
        if "archive_assets" not in app.extensions:
            print("  WARNING: archive.core.assets is not set up in create_app (no compression, fingerprints)")
        db.session.remove()
        db.engine.dispose()


def serve(data_dir: str, port_queue) -> None:
    """Child process: the archive on a free loopback port."""
    import logging

    from werkzeug.serving import WSGIRequestHandler, make_server

    from archive import create_app

    class KeepAliveHandler(WSGIRequestHandler):
        protocol_version = "HTTP/1.1"

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = create_app(bench_config(Path(data_dir)))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=KeepAliveHandler)
    port_queue.put(server.server_port)
    server.serve_forever()


def start_server(data_dir: Path):
    ctx = get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=serve, args=(str(data_dir), queue), daemon=True)
    process.start()
    return process, f"http://127.0.0.1:{queue.get(timeout=180)}"


# Choosing the pages ------------------------------------------------------------------------------------


def http_get(url: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, ""


def find_pages(base: str) -> dict[str, str]:
    """Paths (without the language prefix) of the pages to measure."""
    pages = {"home": "/"}
    for candidate in ("/groups", "/browse", "/records"):
        if http_get(f"{base}/vi{candidate}")[0] == 200:
            pages["browse"] = candidate
            break
    pages["search"] = "/search?" + urllib.parse.urlencode({"q": SEARCH_QUERY})
    image = audio = None
    for number in range(1, 6):
        status, body = http_get(f"{base}/vi/records?page={number}")
        links = list(dict.fromkeys(re.findall(r'href="/vi(/records/[A-Za-z0-9_-]+/[^"?#/]+)"', body)))
        if status != 200 or not links:
            break
        for path in links:
            _, record = http_get(f"{base}/vi{html.unescape(path)}")
            if image is None and "/iiif/3/" in record and not re.search("<(audio|video)", record):
                image = path
            if audio is None and "<audio" in record:
                audio = path
            if image and audio:
                break
        if image and audio:
            break
    if image is None or audio is None:
        raise SystemExit(f"could not find a record page with an image ({image}) and one with audio ({audio})")
    pages["record-image"] = html.unescape(image)
    pages["record-audio"] = html.unescape(audio)
    # The open datasets (issue 8): the list, the first dataset, and its first table's preview with chart.
    status, body = http_get(f"{base}/vi/datasets")
    if status == 200:
        pages["datasets"] = "/datasets"
        found = re.findall(r'href="/vi(/datasets/[a-z0-9-]+)"', body)
        # The largest demo table (54 rows, 25 a page, a chart of 25 bars) when it is there.
        found.sort(key=lambda path: not path.endswith("records-by-ethnic-group"))
        if found:
            pages["dataset"] = found[0]
            _, page = http_get(f"{base}/vi{found[0]}")
            tables = re.findall(r'href="/vi(/datasets/[a-z0-9-]+/v[0-9]+/[a-z0-9_-]+)"', page)
            if tables:
                pages["dataset-table"] = tables[0]
    return pages


# Measuring ---------------------------------------------------------------------------------------------


@dataclass
class Resource:
    url: str
    type: str
    status: int = 0
    mime: str = ""
    encoding: str = ""
    cache_control: str = ""
    transferred: int = 0
    finished: bool = False


@dataclass
class PageWeight:
    page: str
    lang: str
    url: str
    bytes_by_group: dict[str, int] = field(default_factory=dict)
    text_bytes: int = 0
    total_bytes: int = 0
    requests: int = 0
    resources: list[Resource] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    budget: dict[str, bool] = field(default_factory=dict)


def new_context(browser):
    return browser.new_context(
        viewport=VIEWPORT,
        device_scale_factor=DEVICE_SCALE,
        is_mobile=True,
        has_touch=True,
        user_agent=USER_AGENT,
        locale="vi-VN",
    )


def record_network(cdp) -> dict[str, Resource]:
    """Follow every response of a page through CDP; returns the live table of resources by request id."""
    resources: dict[str, Resource] = {}

    def on_response(event):
        response = event["response"]
        headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
        resources[event["requestId"]] = Resource(
            url=response["url"],
            type=event.get("type", "Other"),
            status=response.get("status", 0),
            mime=response.get("mimeType", ""),
            encoding=headers.get("content-encoding", ""),
            cache_control=headers.get("cache-control", ""),
        )

    def on_finished(event):
        resource = resources.get(event["requestId"])
        if resource is not None:
            resource.transferred = int(event.get("encodedDataLength", 0))
            resource.finished = True

    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.loadingFinished", on_finished)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    return resources


IMAGE_AUDIT = """() => Array.from(document.images).map((img, index) => ({
    src: img.currentSrc || img.src, srcset: img.getAttribute('srcset') || '',
    sizes: img.getAttribute('sizes') || '',
    loading: img.getAttribute('loading') || '', alt: img.getAttribute('alt'), index,
    aboveFold: img.getBoundingClientRect().top < window.innerHeight}))"""


def measure_weight(browser, base: str, page_name: str, lang: str, path: str) -> PageWeight:
    """Load one page cold and sum what crossed the network."""
    url = f"{base}/{lang}{path if path != '/' else '/'}"
    context = new_context(browser)
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        resources = record_network(cdp)
        response = page.goto(url, wait_until="load", timeout=120_000)
        page.wait_for_load_state("networkidle", timeout=120_000)
        images = page.evaluate(IMAGE_AUDIT)
        status = response.status if response else 0
    finally:
        context.close()
    result = PageWeight(page_name, lang, url)
    if status != 200:
        result.problems.append(f"the page answered {status}")
    for resource in resources.values():
        if not resource.finished:
            continue
        group = GROUPS.get(resource.type, "other")
        result.bytes_by_group[group] = result.bytes_by_group.get(group, 0) + resource.transferred
        result.resources.append(resource)
        result.requests += 1
        result.problems.extend(resource_problems(resource, base))
    result.text_bytes = sum(result.bytes_by_group.get(g, 0) for g in ("html", "css", "js"))
    result.total_bytes = sum(result.bytes_by_group.values())
    result.problems.extend(image_problems(images))
    result.budget["text"] = result.text_bytes <= TEXT_BUDGET
    if page_name.startswith("record"):
        result.budget["total"] = result.total_bytes <= RECORD_BUDGET
    return result


def resource_problems(resource: Resource, base: str) -> list[str]:
    """What a resource does against the issue's rules: uncompressed text, static files not cached."""
    problems = []
    name = resource.url.removeprefix(base)
    if (
        resource.status == 200
        and resource.mime.startswith(TEXT_TYPES)
        and not resource.encoding
        and resource.transferred > 1000
    ):
        problems.append(f"{name}: {resource.mime} sent uncompressed ({resource.transferred} B)")
    if "/static/" in resource.url and resource.status == 200:
        if "v=" not in resource.url:
            problems.append(f"{name}: static file without a fingerprint")
        elif "immutable" not in resource.cache_control:
            problems.append(f"{name}: fingerprinted but Cache-Control is {resource.cache_control!r}")
    if resource.status >= 400:
        problems.append(f"{name}: HTTP {resource.status}")
    return problems


def image_problems(images: list[dict]) -> list[str]:
    """Images not served through IIIF with srcset/sizes, lazy loading below the first, or without alt."""
    problems = []
    for image in images:
        where = image["src"].split("?")[0][-60:]
        if image["alt"] is None:
            problems.append(f"image {where}: no alt attribute")
        if image["src"].startswith("data:") or image["src"].endswith(".svg"):
            continue
        if "/iiif/" not in image["src"]:
            problems.append(f"image {where}: not served through IIIF")
        if not image["srcset"] or not image["sizes"]:
            problems.append(f"image {where}: no srcset/sizes")
        if image["index"] > 0 and image["loading"] != "lazy":
            problems.append(f"image {where}: not loading=lazy")
    return problems


LCP_SCRIPT = """() => new Promise(resolve => {
    const entries = [];
    new PerformanceObserver(list => entries.push(...list.getEntries()))
        .observe({type: 'largest-contentful-paint', buffered: true});
    setTimeout(() => {
        const last = entries[entries.length - 1];
        const nav = performance.getEntriesByType('navigation')[0];
        resolve({lcp: last ? last.startTime : null, size: last ? last.size : 0,
                 element: last && last.element ? last.element.tagName.toLowerCase() : '',
                 url: last ? last.url : '', load: nav ? nav.loadEventEnd : null,
                 fcp: (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null});
    }, 100);
})"""


def measure_lcp(browser, url: str) -> dict:
    """One cold load under slow 3G and a 4x slower CPU: LCP, FCP and load event, in ms."""
    context = new_context(browser)
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        resources = record_network(cdp)
        cdp.send("Network.emulateNetworkConditions", SLOW_3G)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        page.goto(url, wait_until="load", timeout=300_000)
        page.wait_for_load_state("networkidle", timeout=300_000)
        result = page.evaluate(LCP_SCRIPT)
    finally:
        context.close()
    finished = [r for r in resources.values() if r.finished]
    result["bytes"] = sum(r.transferred for r in finished)
    result["resources"] = [asdict(r) for r in finished]
    return result


# Report ------------------------------------------------------------------------------------------------


def kb(value: int) -> str:
    return f"{value / 1000:.1f}"


def weight_table(results: list[PageWeight]) -> str:
    lines = [
        "| page | lang | requests | HTML | CSS | JS | HTML+CSS+JS (≤ 60) | images | other | total |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        g = r.bytes_by_group
        text = f"**{kb(r.text_bytes)}** {'✔' if r.budget['text'] else '✘'}"
        total = kb(r.total_bytes)
        if "total" in r.budget:
            total = f"**{total}** {'✔' if r.budget['total'] else '✘'} (≤ 200)"
        other = g.get("other", 0) + g.get("media", 0)
        lines.append(
            f"| {r.page} | {r.lang} | {r.requests} | {kb(g.get('html', 0))} | {kb(g.get('css', 0))} | "
            f"{kb(g.get('js', 0))} | {text} | {kb(g.get('img', 0))} | {kb(other)} | {total} |"
        )
    return "\n".join(lines)


def lcp_table(lcp: dict[str, list[dict]]) -> str:
    lines = [
        "| page | runs | LCP median | LCP worst (≤ 4000) | LCP element | FCP median | load median | bytes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, runs in lcp.items():
        values = [r["lcp"] if r["lcp"] is not None else float("inf") for r in runs]
        worst = max(values)
        mark = "✔" if worst <= LCP_BUDGET_MS else "✘"
        elements = ", ".join(sorted({r["element"] or "?" for r in runs}))
        fcp = statistics.median([r["fcp"] or 0 for r in runs])
        load = statistics.median([r["load"] or 0 for r in runs])
        transferred = int(statistics.median([r["bytes"] for r in runs]))
        lines.append(
            f"| {name} | {len(runs)} | {statistics.median(values):.0f} ms | **{worst:.0f} ms** {mark} | "
            f"{elements} | {fcp:.0f} ms | {load:.0f} ms | {kb(transferred)} kB |"
        )
    return "\n".join(lines)


def heaviest(result: PageWeight, count: int = 6) -> str:
    rows = sorted(result.resources, key=lambda r: -r.transferred)[:count]
    return "\n".join(
        f"    {r.transferred:>8} B  {r.type:<10} {r.encoding or '-':<5} {r.url[:110]}" for r in rows
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="measure this running archive instead of a throw-away demo one")
    parser.add_argument("--data", type=Path, help="build the demo archive here once and reuse it")
    parser.add_argument("--runs", type=int, default=5, help="cold slow-3G loads per record page")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--skip-3g", action="store_true", help="only the weights")
    parser.add_argument("--verbose", action="store_true", help="list every resource of every page")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    work = None
    process = None
    try:
        if args.url:
            base = args.url.rstrip("/")
        else:
            if args.data:
                data = args.data.resolve()
            else:
                work = Path(tempfile.mkdtemp(prefix="bench-weight-"))
                data = work / "data"
            if not (data / "archive.sqlite3").exists():
                print("== building a demo archive", flush=True)
                build_archive(data)
            process, base = start_server(data)
        pages = find_pages(base)
        print("== pages: " + ", ".join(f"{k} {v}" for k, v in pages.items()), flush=True)

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            print(f"== page weight (Chromium {browser.version}, 360x740 @{DEVICE_SCALE}x, cold cache)")
            weights = [
                measure_weight(browser, base, name, lang, path)
                for lang in LANGUAGES
                for name, path in pages.items()
            ]
            print(weight_table(weights))
            print("\nFigures in kB (1000 bytes) transferred: compressed bodies plus response headers.")
            encodings = sorted({r.encoding for w in weights for r in w.resources if r.encoding})
            print(f"Content codings seen: {', '.join(encodings) or 'none'}")
            for result in weights:
                broken = not all(result.budget.values())
                if result.problems or broken or args.verbose:
                    print(f"\n{result.page} ({result.lang}) {result.url}")
                for problem in dict.fromkeys(result.problems):
                    print(f"  ! {problem}")
                if broken or args.verbose:
                    print("  heaviest resources:\n" + heaviest(result, 100 if args.verbose else 6))

            lcp: dict[str, list[dict]] = {}
            if not args.skip_3g:
                print(
                    f"\n== slow 3G: {SLOW_3G['latency']} ms RTT, {SLOW_3G['downloadThroughput'] * 8 // 1000} "
                    f"kbit/s, CPU {CPU_SLOWDOWN}x slower; {args.runs} cold loads per page",
                    flush=True,
                )
                for name in [n for n in ("record-image", "record-audio", "dataset-table") if n in pages]:
                    for lang in LANGUAGES:
                        url = f"{base}/{lang}{pages[name]}"
                        lcp[f"{name} ({lang})"] = [measure_lcp(browser, url) for _ in range(args.runs)]
                print(lcp_table(lcp))
            browser.close()
    finally:
        if process is not None:
            process.terminate()
            process.join(10)
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)

    failures = [f"{w.page} ({w.lang}): {k}" for w in weights for k, ok in w.budget.items() if not ok]
    for name, runs in lcp.items():
        if any(r["lcp"] is None or r["lcp"] > LCP_BUDGET_MS for r in runs):
            failures.append(f"{name}: LCP over {LCP_BUDGET_MS} ms")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "base": base,
                    "pages": pages,
                    "weights": [asdict(w) for w in weights],
                    "lcp": lcp,
                    "budgets": {"text": TEXT_BUDGET, "record_total": RECORD_BUDGET, "lcp_ms": LCP_BUDGET_MS},
                    "failures": failures,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    print("\nBudgets: " + ("all met" if not failures else "BROKEN: " + "; ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
