"""Security headers on every kind of response, HSTS only over HTTPS, templates without inline code, and a
real browser that meets no Content Security Policy violation while search.js keeps working."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Response

from archive.core.security import security_headers
from archive.media.models import MediaFile
from archive.records.models import HeritageRecord
from tests.conftest import ROOT

STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def _assert_security_headers(response) -> None:
    headers = response.headers
    assert headers["Content-Security-Policy"] == STRICT_CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    permissions = headers["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions
    assert "fullscreen" not in permissions  # the video player's fullscreen button keeps working


def _image(db) -> MediaFile:
    return db.session.scalar(
        sa.select(MediaFile)
        .join(HeritageRecord)
        .where(
            MediaFile.kind == "image",
            MediaFile.state == "ready",
            MediaFile.access_level == "public",
            HeritageRecord.status == "published",
            HeritageRecord.access_level == "public",
        )
        .limit(1)
    )


def test_html_pages_carry_the_security_headers(client):
    for path in ("/vi/", "/vi/records", "/en/login", "/vi/search?q=l%E1%BB%85+h%E1%BB%99i"):
        response = client.get(path)
        assert response.status_code == 200, path
        _assert_security_headers(response)
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP: HSTS would be ignored


def test_json_files_errors_and_static_files_carry_them_too(client, db):
    responses = {
        "search JSON": client.get("/search.json?q=long+tong"),
        "not found": client.get("/vi/no-such-page"),
        "static file": client.get("/static/search.js"),
        "record JSON-LD": client.get(
            "/records/{}/record.jsonld".format(
                db.session.scalar(
                    sa.select(HeritageRecord.public_id).where(HeritageRecord.slug == "long-tong-tay-nung")
                )
            )
        ),
    }
    assert responses["search JSON"].is_json
    assert responses["not found"].status_code == 404
    assert responses["static file"].status_code == 200
    assert responses["record JSON-LD"].status_code == 200
    for response in responses.values():
        _assert_security_headers(response)
        response.close()


def test_iiif_responses_stay_usable_across_origins(client, db):
    media = _image(db)
    assert media is not None, "the demo has a public image"
    info = client.get(f"/iiif/3/{media.public_id}/info.json", headers={"Origin": "https://viewer.example"})
    tile = client.get(f"/iiif/3/{media.public_id}/full/!200,200/0/default.jpg")
    missing = client.get("/iiif/3/no-such-image/info.json")
    assert (info.status_code, tile.status_code, missing.status_code) == (200, 200, 404)
    for response in (info, tile, missing):
        _assert_security_headers(response)
        # The views' own CORS header is kept, and nothing forbids embedding the bytes elsewhere.
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Cross-Origin-Resource-Policy" not in response.headers
        assert "Cross-Origin-Embedder-Policy" not in response.headers
        response.close()
    assert tile.mimetype == "image/jpeg"


def test_hsts_only_over_https_or_when_forced(client, app, monkeypatch):
    assert "Strict-Transport-Security" not in client.get("/vi/").headers
    secure = client.get("/vi/", base_url="https://archive.test")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    _assert_security_headers(secure)
    monkeypatch.setitem(app.config, "FORCE_HSTS", True)  # behind a proxy that terminates TLS
    assert client.get("/vi/").headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_production_forces_hsts():
    from config import Config, ProductionConfig

    assert ProductionConfig.FORCE_HSTS is True
    assert Config.FORCE_HSTS is False


def test_the_policy_is_a_setting(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "CONTENT_SECURITY_POLICY", "default-src 'self' https://tiles.example")
    assert client.get("/vi/").headers["Content-Security-Policy"] == "default-src 'self' https://tiles.example"
    monkeypatch.setitem(app.config, "CONTENT_SECURITY_POLICY", "")
    assert "Content-Security-Policy" not in client.get("/vi/").headers
    monkeypatch.setitem(app.config, "PERMISSIONS_POLICY", "geolocation=(self)")
    assert client.get("/vi/").headers["Permissions-Policy"] == "geolocation=(self)"


def test_headers_a_view_has_set_are_kept(app):
    from archive.core.security import _add_headers

    with app.test_request_context("/"):
        own = {"X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "no-referrer"}
        response = Response("embedded", headers=own)
        _add_headers(response)
        expected = security_headers(secure=False)
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Content-Security-Policy"] == expected["Content-Security-Policy"]


INLINE_CODE = [
    # JSON-LD is data, not code: the policy does not run it.
    (
        re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/ld\+json\")[^>]*>", re.I),
        "inline <script> block",
    ),
    (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I), 'style="" attribute'),
    (re.compile(r"<style\b", re.I), "<style> block"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_templates_and_static_files_hold_no_inline_code():
    """The policy forbids inline code; a template that used it would break in browsers."""
    files = sorted((ROOT / "archive" / "templates").rglob("*.html"))
    assert len(files) >= 10
    problems = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in files
        for pattern, what in INLINE_CODE
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    script = (ROOT / "archive" / "static" / "search.js").read_text(encoding="utf-8")
    for pattern, what in (
        (r"\beval\s*\(|new Function\s*\(", "eval"),
        (r"setAttribute\(\s*[\"']style|setAttribute\(\s*[\"']on|\.innerHTML\s*=", "inline code"),
    ):
        if re.search(pattern, script):
            problems.append(f"archive/static/search.js: {what}")
    assert problems == []


# --- In a real browser ------------------------------------------------------------------------------

WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push({directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample});
});
"""


@pytest.mark.browser
def test_browser_meets_no_policy_violation_and_search_js_works(browser, live_server, app, artifacts_dir):
    from playwright.sync_api import expect

    from archive.core.extensions import db

    with app.app_context():
        record = db.session.scalar(sa.select(HeritageRecord).filter_by(slug="long-tong-tay-nung"))
        record_path = f"/records/{record.public_id}/{record.slug}"
        db.session.remove()

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.add_init_script(WATCH_VIOLATIONS)
    console: list[tuple[str, str]] = []
    page.on("console", lambda message: console.append((message.type, message.text)))

    for path in ("/", "/records", record_path, "/search?q=long+tong", "/login"):
        response = page.goto(live_server + path)
        assert response.status == 200, path
        assert response.headers["content-security-policy"] == STRICT_CSP
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # lazy images load too
        page.wait_for_load_state("networkidle")
        if path == record_path:
            assert page.locator("figure img, figure audio, figure video").count() >= 1
            images = page.locator("figure img")
            for i in range(images.count()):  # IIIF images are requested too: a refusal would be reported
                image = images.nth(i).element_handle()
                image.evaluate("img => { img.loading = 'eager'; }")  # no waiting for a lazy load
                page.wait_for_function("img => img.complete", arg=image, timeout=20_000)
                # Loaded, not broken: the srcset offers no size the IIIF server refuses (upscaling).
                assert image.evaluate("img => img.naturalWidth") > 0, image.evaluate("img => img.currentSrc")
        assert page.evaluate("window.__cspViolations") == [], path
    policy_messages = [
        text for _kind, text in console if re.search("Content Security Policy|Permissions", text)
    ]
    assert policy_messages == []

    # search.js runs under the policy: the header box becomes a combobox with suggestions.
    page.goto(live_server + "/")
    box = page.get_by_role("combobox", name="Search the archive")
    box.press_sequentially("long tong", delay=40)
    expect(page.get_by_role("listbox")).to_be_visible()
    expect(page.get_by_role("option", name=re.compile("Lồng Tồng")).first).to_be_visible()
    assert page.evaluate("window.__cspViolations") == []
    page.screenshot(path=str(artifacts_dir / "csp-autocomplete.png"))

    # The watch works and the policy is enforced: an inline style is refused and reported.
    page.evaluate("() => { const d = document.createElement('p'); d.setAttribute('style', 'color: red');"
                  " document.body.append(d); }")  # fmt: skip
    page.wait_for_function("window.__cspViolations.length > 0")
    assert page.evaluate("window.__cspViolations[0].directive").startswith("style-src")
    context.close()


def test_a_nul_character_in_arguments_is_refused_before_any_query(client):
    """PostgreSQL refuses NUL in text: 400 everywhere instead of 500 (found by schemathesis)."""
    for path in (
        "/search.json?ethnic_group=a%00b",
        "/search.json?ethnic_group=tay&ethnic_group=a%00b",  # the second value of a repeated argument
        "/vi/search?q=%00",
        "/api/v1/search?category=%00",
        "/oai?verb=Identify%00",
    ):
        response = client.get(path, headers={"Accept-Language": "en"})
        assert response.status_code == 400, path
        response.close()
    page = client.get("/en/search?q=%00")
    assert page.status_code == 400 and "not allowed (NUL)" in page.get_data(as_text=True)
    api = client.get("/api/v1/search?q=%00")
    assert api.status_code == 400 and api.is_json
    assert client.post("/login", data={"email": "a\x00b", "password": "x"}).status_code == 400
