"""The issue's "done" scenario end to end in a real browser: a cultural officer catalogues a festival and
uploads a photo over a slow connection that drops in the middle, the upload goes on where it stopped, the
officer submits the record, a curator publishes it, and a visitor sees it with its photo."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlparse

import pytest

from tests.media.test_tus import RecordingProxy, noisy_jpeg
from tests.records.test_editing_browser import committed_people, flash

pytestmark = pytest.mark.browser

#: 40 KB/s up, as from a commune's mobile signal.
SLOW = {"offline": False, "latency": 200, "downloadThroughput": 150 * 1024, "uploadThroughput": 40 * 1024}
PASSWORD = "correct horse battery"


def _sign_in(context, base: str, email: str):
    page = context.new_page()
    page.goto(f"{base}/login?lang=en")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main form [type=submit]").click()
    return page


def test_catalogue_and_upload_over_a_dropping_connection_then_published_after_review(
    app, browser, live_server, tmp_path, artifacts_dir, monkeypatch
):
    from playwright.sync_api import expect

    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # the pages' own CSRF tokens do the work
    photo = noisy_jpeg(tmp_path / "long-tong-nem-con.jpg", (720, 540))
    size = photo.stat().st_size
    title = f"Lễ hội Lồng Tồng bản Cải {uuid.uuid4().hex[:6]}"
    with committed_people(app) as accounts:
        # The officer's phone reaches the archive through a proxy that counts the bytes really sent and
        # can cut the connections, as a lost signal does.
        proxy = RecordingProxy(urlparse(live_server).port)
        base = f"http://127.0.0.1:{proxy.port}"
        officer_context = browser.new_context(locale="en-US", viewport={"width": 360, "height": 740})
        officer = _sign_in(officer_context, base, accounts["contributor"][0])
        cdp = officer_context.new_cdp_session(officer)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", SLOW)

        officer.goto(f"{base}/records/new?lang=en")
        officer.locator("#title .repeat-row").nth(0).locator("input").fill(title)
        with officer.expect_navigation(timeout=60_000):
            officer.get_by_role("button", name="Save the record").click()
        expect(flash(officer)).to_contain_text("was saved")
        public_id = re.search(r"/records/([a-z0-9]+)/edit", officer.url).group(1)

        officer.goto(f"{base}/records/{public_id}/media?lang=en")
        officer.wait_for_function("() => window.tus && window.tus.isSupported")
        officer.set_input_files("#files", [str(photo)])
        officer.fill("#caption_vi", "Ném còn qua vòng trên ngọn cây nêu")
        officer.click("form[data-tus-endpoint] button[type=submit]")
        officer.wait_for_function(
            "() => { const p = document.querySelector('#tus-uploads progress'); return p && p.value >= 20; }",
            timeout=60_000,
        )
        # The signal goes: new requests fail and the one in flight is cut.
        officer_context.set_offline(True)
        proxy.drop_connections()
        expect(officer.locator("#tus-uploads .tus-state").first).to_contain_text(
            "Connection lost", timeout=30_000
        )
        stalled = officer.locator("#tus-uploads progress").first.evaluate("(p) => p.value")
        assert stalled < 100
        officer.screenshot(path=str(artifacts_dir / "journey-upload-offline.png"), full_page=True)
        officer.wait_for_timeout(1500)
        officer_context.set_offline(False)
        cdp.send("Network.emulateNetworkConditions", SLOW)
        officer.wait_for_function(
            "() => { const p = document.querySelector('#tus-uploads progress');"
            " return p && p.value === 100 && document.querySelector('#tus-uploads li a') !== null; }",
            timeout=180_000,
        )
        expect(officer.locator("#tus-uploads .tus-state").first).to_contain_text("renditions are being made")
        sent = sum(body for method, _headers, body in proxy.requests() if method == "PATCH")
        assert size <= sent < 2 * size, (sent, size)  # it went on where it stopped: not sent twice
        assert any(m == "PATCH" and int(h["upload-offset"]) > 0 for m, h, _b in proxy.requests())

        # The officer submits the record for review.
        officer.goto(f"{base}/records/{public_id}/edit?lang=en")
        with officer.expect_navigation(timeout=60_000):
            officer.get_by_role("button", name="Submit for review").click()
        expect(flash(officer)).to_contain_text("was submitted for review")

        # A visitor cannot see it yet.
        visitor_context = browser.new_context(locale="vi-VN", viewport={"width": 360, "height": 740})
        visitor = visitor_context.new_page()
        assert visitor.goto(f"{live_server}/records/{public_id}").status == 404

        # The curator publishes it from the review queue.
        curator_context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        curator = _sign_in(curator_context, live_server, accounts["curator"][0])
        curator.goto(f"{live_server}/review?lang=en")
        with curator.expect_navigation():
            curator.locator(f"#review-{public_id}").get_by_role(
                "button", name=re.compile("^Publish ")
            ).click()
        expect(flash(curator)).to_contain_text("was published")

        # The visitor now reads it, with the photo served through IIIF.
        response = visitor.goto(f"{live_server}/records/{public_id}")
        assert response.status == 200
        expect(visitor.get_by_role("heading", level=1)).to_have_text(title)
        image = visitor.locator("section.media figure img").first
        expect(image).to_have_attribute("alt", "Ném còn qua vòng trên ngọn cây nêu")
        image.scroll_into_view_if_needed()
        visitor.wait_for_function(
            "() => { const i = document.querySelector('section.media figure img');"
            " return i && i.complete && i.naturalWidth > 0; }",
            timeout=30_000,
        )
        visitor.screenshot(path=str(artifacts_dir / "journey-published.png"), full_page=True)
        for context in (visitor_context, curator_context, officer_context):
            context.close()
        proxy.close()
