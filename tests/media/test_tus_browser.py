"""A cultural officer sends two files from the "Add media" page over a slow connection that drops; the
uploads go on where they stopped (Debian's Chromium driven by Playwright, tus-js-client in the page)."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
import sqlalchemy as sa

from archive.media.models import MediaFile
from tests.media.test_tus import RecordingProxy, committed_contributor, noisy_jpeg, sha256

pytestmark = pytest.mark.browser

#: 50 KB/s up, as from a commune's mobile signal.
SLOW = {"offline": False, "latency": 150, "downloadThroughput": 200 * 1024, "uploadThroughput": 50 * 1024}

ALL_DONE = """() => {
  const rows = document.querySelectorAll('#tus-uploads li');
  return rows.length === 2 && Array.from(rows).every(
    (row) => row.querySelector('progress').value === 100 && row.querySelector('a') !== null);
}"""


def test_two_files_survive_a_slow_connection_going_offline(app, browser, live_server, tmp_path, artifacts_dir,
                                                           monkeypatch):  # fmt: skip
    from archive.core.extensions import db

    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # the page's own CSRF token does the work
    files = [noisy_jpeg(tmp_path / "xoe-1.jpg", (560, 420)), noisy_jpeg(tmp_path / "xoe-2.jpg", (600, 400))]
    total = sum(path.stat().st_size for path in files)
    with committed_contributor(app) as account:
        # The browser reaches the server through a proxy that counts the bytes it really sends.
        proxy = RecordingProxy(urlparse(live_server).port)
        base = f"http://127.0.0.1:{proxy.port}"
        context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
        page = context.new_page()
        page.goto(f"{base}/login?lang=en")
        page.fill("#email", account.email)
        page.fill("#password", account.password)
        page.click("main form[method=post] [type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
        page.goto(f"{base}/records/{account.record}/media?lang=en")
        page.wait_for_function("() => window.tus && window.tus.isSupported")

        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", SLOW)
        page.set_input_files("#files", [str(path) for path in files])
        page.fill("#caption_en", "Xoe dance at the village festival")
        page.click("form[data-tus-endpoint] button[type=submit]")
        rows = page.locator("#tus-uploads li")
        rows.first.wait_for()
        assert rows.count() == 2

        # Some bytes are out, then the signal is lost for a while.
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('#tus-uploads progress')).some((p) => p.value >= 15)",
            timeout=60_000,
        )
        # Chromium's offline mode refuses new requests but lets one in flight go on: the proxy cuts
        # those, as a lost signal does.
        context.set_offline(True)
        proxy.drop_connections()
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('#tus-uploads .tus-state'))"
            ".some((s) => s.textContent.includes('Connection lost'))",
            timeout=30_000,
        )
        stalled = [page.locator("#tus-uploads progress").nth(i).evaluate("(p) => p.value") for i in (0, 1)]
        assert min(stalled) < 100
        page.screenshot(path=str(artifacts_dir / "tus-upload-offline.png"), full_page=True)
        page.wait_for_timeout(1500)
        context.set_offline(False)
        cdp.send("Network.emulateNetworkConditions", SLOW)

        page.wait_for_function(ALL_DONE, timeout=120_000)
        for i in (0, 1):
            row = rows.nth(i)
            assert row.locator(".tus-percent").inner_text() == "100 %"
            assert "renditions are being made" in row.locator(".tus-state").inner_text()
            assert row.locator("a").inner_text() == "My uploads"
        assert page.locator("#tus-uploads [role=status]").count() == 2
        page.screenshot(path=str(artifacts_dir / "tus-upload-resumed.png"), full_page=True)

        page.goto(f"{base}/my/media?lang=en")
        for path in files:
            assert page.get_by_text(path.name).count() == 1
        context.close()
        proxy.close()

        requests_seen = proxy.requests()
        sent = sum(body for method, _headers, body in requests_seen if method == "PATCH")
        assert total <= sent < 2 * total, (sent, total)  # resumed: no file was sent twice
        assert any(method == "HEAD" for method, _headers, _body in requests_seen)  # asked where to go on
        # Each file fits in one chunk: a PATCH from a later offset went on from bytes the server kept.
        assert any(
            method == "PATCH" and int(headers["upload-offset"]) > 0
            for method, headers, _body in requests_seen
        )

        with app.app_context():
            media = db.session.scalars(
                sa.select(MediaFile).where(MediaFile.created_by_id == account.user_id)
            ).all()
            assert sorted(m.original_filename for m in media) == ["xoe-1.jpg", "xoe-2.jpg"]
            assert {m.sha256 for m in media} == {sha256(path) for path in files}
            assert all(m.record.public_id == account.record for m in media)
            assert all(
                {"lang": "en", "value": "Xoe dance at the village festival"} in m.caption for m in media
            )
            db.session.remove()
