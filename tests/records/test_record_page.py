"""The public record page for visitors: renditions chosen for the connection, transcripts, deep zoom,
citation, structured data, Open Graph, related records and card thumbnails."""

from __future__ import annotations

import html as html_lib
import json
import re
import uuid

import pytest
import sqlalchemy as sa

from archive.media.models import MediaDerivative, MediaFile
from archive.records.models import HeritageRecord
from metadata.languages import LangString
from tests.media import samples

JSONLD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def _url(record: HeritageRecord, lang: str = "en", query: str = "") -> str:
    return f"/{lang}/records/{record.public_id}/{record.slug}" + (f"?{query}" if query else "")


def _page(client, record, lang="en", query="", headers=None) -> str:
    response = client.get(_url(record, lang, query), headers=headers or {})
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _media(
    db, record, kind: str, renditions=(), access_level="public", width=None, height=None, caption=None
):
    """A ready media row with the named renditions (rows only: the page links to them)."""
    media = MediaFile(
        public_id=f"m{uuid.uuid4().hex[:12]}",
        record=record,
        kind=kind,
        original_filename=f"test.{kind}",
        storage_key=f"test/{uuid.uuid4().hex}",
        sha256=uuid.uuid4().hex * 2,
        size_bytes=1000,
        mime_type={"image": "image/jpeg", "audio": "audio/wav", "video": "video/mp4"}[kind],
        width=width,
        height=height,
        duration_seconds=3.0 if kind != "image" else None,
        caption=[v.to_dict() for v in caption or []],
        access_level=access_level,
        state="ready",
        position=len(record.media),
    )
    for name in renditions:
        media.derivatives.append(
            MediaDerivative(
                name=name,
                storage_key=f"{media.public_id}/{name}",
                mime_type="x/y",
                sha256="0" * 64,
                size_bytes=10,
            )  # fmt: skip
        )
    db.session.add(media)
    db.session.commit()
    return media


@pytest.fixture
def av_record(db, make_record):
    record = make_record(title="Hát then có ghi âm")
    audio = _media(db, record, "audio", ("web", "low", "peaks"))
    video = _media(db, record, "video", ("720", "360", "poster"))
    return record, audio, video


def _first_sources(html: str, media: MediaFile) -> str:
    """The first <source> of a media file's player."""
    match = re.search(rf'<source src="[^"]*/media/{media.public_id}/r/([^"]+)"', html)
    assert match, media.public_id
    return match.group(1)


# --- renditions: hints, switch, cookie ------------------------------------------------------------


def test_high_quality_by_default_and_client_hints_asked_for(client, av_record):
    record, audio, video = av_record
    response = client.get(_url(record))
    html = response.get_data(as_text=True)
    assert _first_sources(html, audio) == "web" and _first_sources(html, video) == "720"
    assert (
        f'/media/{audio.public_id}/r/low" type=\'audio/ogg; codecs="opus"\'' in html
        or "codecs=&#34;opus" in html
    )
    assert '<audio controls preload="none"' in html and '<video controls preload="none"' in html
    assert {h.strip() for h in response.headers["Accept-CH"].split(",")} == {"Save-Data", "ECT", "Downlink"}
    vary = {v.strip().lower() for v in response.headers["Vary"].split(",")}
    assert {"save-data", "ect", "downlink"} <= vary


@pytest.mark.parametrize(
    "headers",
    [{"Save-Data": "on"}, {"ECT": "3g"}, {"ECT": "slow-2g"}, {"Downlink": "0.9"}],
    ids=["save-data", "ect-3g", "ect-slow-2g", "downlink"],
)
def test_save_data_and_slow_connections_get_the_low_rendition_first(client, av_record, headers):
    record, audio, video = av_record
    html = _page(client, record, headers=headers)
    assert _first_sources(html, audio) == "low" and _first_sources(html, video) == "360"
    assert re.search(r'data-quality-choice="low"\s+aria-current="true"', html)


def test_fast_connection_hints_keep_the_higher_quality(client, av_record):
    record, audio, _video = av_record
    html = _page(client, record, headers={"ECT": "4g", "Downlink": "10"})
    assert _first_sources(html, audio) == "web"


def test_the_switch_works_without_javascript_and_is_remembered(client, av_record):
    record, audio, video = av_record
    html = _page(client, record)
    links = dict(re.findall(r'href="([^"]+)"\s+data-quality-choice="(low|high)"', html))
    low_link = next(href for href, value in links.items() if value == "low")
    assert "quality=low" in low_link and low_link.startswith(f"/en/records/{record.public_id}/")
    chosen = client.get(html_lib.unescape(low_link))
    assert chosen.status_code == 200
    assert "quality=low" in chosen.headers["Set-Cookie"]
    assert chosen.headers["Cache-Control"].startswith("private")
    chosen_html = chosen.get_data(as_text=True)
    assert _first_sources(chosen_html, audio) == "low" and _first_sources(chosen_html, video) == "360"
    # Remembered: the next visit without ?quality= plays the low rendition first.
    assert _first_sources(_page(client, record), audio) == "low"
    # An explicit "Higher quality" wins over Save-Data.
    html = _page(client, record, query="quality=high", headers={"Save-Data": "on"})
    assert _first_sources(html, audio) == "web"
    assert _first_sources(_page(client, record, headers={"Save-Data": "on"}), audio) == "web"


def test_an_unknown_quality_is_a_clear_400(client, av_record):
    record, _audio, _video = av_record
    response = client.get(_url(record, query="quality=ultra"))
    assert response.status_code == 400
    assert 'Choose the quality "low" or "high".' in html_lib.unescape(response.get_data(as_text=True))


def test_only_existing_renditions_are_offered(client, db, make_record):
    record = make_record(title="Chỉ có bản nhẹ")
    audio = _media(db, record, "audio", ("low",))
    html = _page(client, record)
    assert len(re.findall(rf'<source src="[^"]*/media/{audio.public_id}/r/', html)) == 1
    assert _first_sources(html, audio) == "low"


# --- transcripts ----------------------------------------------------------------------------------


def test_transcript_from_the_caption_track(client, db, av_record):
    from archive.media.services import attach_captions

    record, audio, _video = av_record
    vtt = samples.VTT + "\n00:01:05.000 --> 00:01:07.000\n<v Bà Lò>Trống &amp; chiêng</v>\n"
    attach_captions(audio, vtt.encode(), "vi", "Tiếng Việt", "captions", None)
    db.session.commit()
    html = _page(client, record)
    assert (
        f'<track kind="captions" srclang="vi" label="Tiếng Việt" '
        f'src="/media/{audio.public_id}/captions/captions-vi.vtt"' in html
    )
    details = re.search(r'<details class="transcript">(.*?)</details>', html, re.S)
    assert details, "no transcript"
    body = details.group(1)
    assert "Show transcript" in body and 'lang="vi"' in body
    assert "Lời hát mở đầu" in body and "Kết thúc" in body
    assert "1:05" in body and "Trống &amp; chiêng" in body and "&lt;v" not in body


def test_no_transcript_without_captions(client, av_record):
    record, _audio, _video = av_record
    assert "Show transcript" not in _page(client, record)


# --- images and deep zoom -------------------------------------------------------------------------


@pytest.fixture
def image_record(db, make_record):
    record = make_record(title="Lễ hội có ảnh", texts={
        "title": [LangString("Lễ hội có ảnh", "vi"), LangString("Festival with a picture", "en")],
        "summary": [LangString("A summary in English.", "en")],
    })  # fmt: skip
    image = _media(db, record, "image", width=2000, height=1000, caption=[LangString("A ritual", "en")])
    return record, image


def test_zoom_button_for_images_and_no_viewer_script_in_the_page(client, image_record):
    record, image = image_record
    html = _page(client, record)
    button = re.search(r'<button type="button" class="zoom" hidden data-zoom-info="([^"]+)"', html)
    assert button and button.group(1) == f"/iiif/3/{image.public_id}/info.json"
    assert "openseadragon" not in " ".join(re.findall(r"<script[^>]*>", html)).lower()
    script = re.search(r'data-osd-script="([^"]+)"', html).group(1)
    assert script.endswith("/openseadragon.min.js") and not script.startswith(("/en/", "/vi/"))
    # Without JavaScript the picture links to a larger IIIF size; srcset offers only sizes it can give.
    assert f'<a class="picture" href="/iiif/3/{image.public_id}/full/!1600,1600/0/default.jpg">' in html
    img = re.search(r"<img src=[^>]+>", html).group(0)
    assert 'width="800" height="400"' in img and 'alt="A ritual"' in img
    assert "!400,400/0/default.jpg 400w" in img and "!1600,1600/0/default.jpg 1600w" in img
    assert "full/max" not in img  # 2000 px: every size fits without upscaling


def test_viewer_files_are_served_from_node_modules_with_a_long_cache(client, image_record):
    record, _image = image_record
    html = _page(client, record)
    script_url = re.search(r'data-osd-script="([^"]+)"', html).group(1)
    response = client.get(script_url)
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert (
        "max-age=31536000" in response.headers["Cache-Control"]
        and "immutable" in response.headers["Cache-Control"]
    )
    assert b"OpenSeadragon" in response.get_data()[:5000]
    response.close()
    icons = re.search(r'data-osd-images="([^"]+)"', html).group(1)
    icon = client.get(icons + "zoomin_rest.png")
    assert (
        icon.status_code == 200
        and icon.mimetype == "image/png"
        and "immutable" in icon.headers["Cache-Control"]
    )
    icon.close()
    assert client.get(icons + "..%2Fopenseadragon.png").status_code == 404
    assert client.get(icons + "nothing_rest.png").status_code == 404
    assert client.get(script_url.replace("/6.", "/0.")).status_code == 404  # only the installed version


# --- structured data, Open Graph, canonical -------------------------------------------------------


def test_jsonld_parses_and_describes_the_record(client, image_record):
    record, image = image_record
    html = _page(client, record)
    doc = json.loads(JSONLD.search(html).group(1))
    assert "schema:Festival" in doc["@type"]
    assert {"@value": "Festival with a picture", "@language": "en"} in doc["schema:name"]
    assert doc["schema:url"] == f"http://archive.test/records/{record.public_id}"
    assert (
        doc["schema:mainEntityOfPage"]["@id"]
        == f"http://archive.test/en/records/{record.public_id}/{record.slug}"
    )
    assert (
        doc["schema:image"]["@id"]
        == f"http://archive.test/iiif/3/{image.public_id}/full/!1200,1200/0/default.jpg"
    )


def test_jsonld_cannot_break_out_of_its_script(client, make_record):
    title = "</script><script>alert(1)</script><!-- & more"
    record = make_record(title=title)
    html = _page(client, record)
    block = JSONLD.search(html).group(1)
    assert "<" not in block and ">" not in block
    assert "alert(1)</script>" not in html.split("</head>")[0]
    doc = json.loads(block)
    assert {"@value": title, "@language": "vi"} in doc["schema:name"]


def test_gregorian_festivals_carry_their_schedule(client, make_record):
    from metadata.model import Timing

    record = make_record(title="Hội ngày 10 tháng 3", timings=[Timing("gregorian", 3, 10, duration_days=2)])
    doc = json.loads(JSONLD.search(_page(client, record)).group(1))
    assert doc["schema:eventSchedule"] == [
        {"@type": "schema:Schedule", "schema:repeatFrequency": "P1Y", "schema:byMonth": 3,
         "schema:byMonthDay": 10, "schema:duration": "P2D"}
    ]  # fmt: skip


def _meta(html: str, prop: str) -> list[str]:
    return [
        html_lib.unescape(v)
        for v in re.findall(rf'<meta property="{re.escape(prop)}" content="([^"]*)">', html)
    ]


def test_open_graph_and_canonical(client, image_record):
    record, image = image_record
    html = _page(client, record)
    canonical = f"http://archive.test/en/records/{record.public_id}/{record.slug}"
    assert f'<link rel="canonical" href="{canonical}">' in html
    assert _meta(html, "og:title") == ["Festival with a picture"]
    assert _meta(html, "og:description") == ["A summary in English."]
    assert _meta(html, "og:type") == ["article"]
    assert _meta(html, "og:url") == [canonical]
    assert _meta(html, "og:image") == [
        f"http://archive.test/iiif/3/{image.public_id}/full/!1200,1200/0/default.jpg"
    ]
    assert _meta(html, "og:locale") == ["en_US"] and _meta(html, "og:locale:alternate") == ["vi_VN"]
    vi = _page(client, record, lang="vi")
    assert _meta(vi, "og:locale") == ["vi_VN"] and _meta(vi, "og:locale:alternate") == ["en_US"]
    assert _meta(vi, "og:title") == ["Lễ hội có ảnh"]
    assert (
        f'<link rel="canonical" href="http://archive.test/vi/records/{record.public_id}/{record.slug}">' in vi
    )


def test_no_og_image_for_a_restricted_picture(client, db, make_record):
    record = make_record(title="Ảnh nội bộ")
    _media(db, record, "image", access_level="private", width=800, height=600)
    html = _page(client, record)
    assert _meta(html, "og:image") == [] and "schema:image" not in html and 'class="zoom"' not in html


# --- citation -------------------------------------------------------------------------------------


def test_citation_in_english_and_vietnamese(client, make_record):
    record = make_record(
        title="Lễ cấp sắc",
        agents=[("Lò Văn Tài", "recorder", "person"), ("Hà Thị Mai", "informant", "person")],
    )
    year = record.published_at.year
    en = html_lib.unescape(_page(client, record, "en"))
    text = re.sub(r"<[^>]+>", "", re.search(r'<p id="citation-text"[^>]*>(.*?)</p>', en, re.S).group(1))
    assert text.startswith(f"Lò Văn Tài ({year}). Lễ cấp sắc. ")
    assert "Hà Thị Mai" not in text  # an informant is not a creator
    assert f"Available at: http://archive.test/records/{record.public_id} (accessed " in text
    assert "<cite>Lễ cấp sắc</cite>" in en and "Cite this record" in en
    vi = html_lib.unescape(_page(client, record, "vi"))
    text_vi = re.sub(r"<[^>]+>", "", re.search(r'<p id="citation-text"[^>]*>(.*?)</p>', vi, re.S).group(1))
    assert text_vi.startswith(f"Lò Văn Tài ({year}). Lễ cấp sắc. ")
    assert re.search(r"\(truy cập ngày \d{1,2} tháng \d{1,2} năm \d{4}\)\.$", text_vi)
    assert 'class="copy-citation" hidden' in en  # the copy button appears only with JavaScript


def test_metadata_exports_citations_and_the_manifest_are_linked(client, make_record):
    record = make_record(title="Bản ghi xuất dữ liệu")
    html = _page(client, record)
    for path in ("dc.xml", "record.jsonld", "record.csv"):
        assert f'href="/records/{record.public_id}/{path}"' in html
    for path in ("citation.bib", "citation.json"):
        assert f'href="/records/{record.public_id}/{path}?lang=' in html
    manifest = f"/iiif/records/{record.public_id}/manifest.json"
    assert f'href="{manifest}"' in html  # the link in the page
    assert f'href="http://archive.test{manifest}"' in html  # and the alternate in the head
    assert client.get(manifest).status_code == 200


# --- related records and their cards --------------------------------------------------------------


def test_related_records_are_ranked_and_exclude_what_the_visitor_may_not_see(client, db, make_record):
    from archive.communities.models import Community

    community = Community(slug=f"c-{uuid.uuid4().hex[:6]}", name=[{"lang": "vi", "value": "Cộng đồng thử"}])
    db.session.add(community)
    db.session.commit()
    tag = uuid.uuid4().hex[:6]
    base = dict(ethnic_groups=["si-la"], places=["pre2025-p02"], category="ritual")
    record = make_record(title=f"Gốc {tag}", **base)
    closest = make_record(title=f"Gần nhất {tag}", **base)
    group_only = make_record(
        title=f"Cùng dân tộc {tag}", ethnic_groups=["si-la"], places=["pre2025-p06"], category="ritual"
    )
    private = make_record(title=f"Riêng tư {tag}", access_level="private", **base)
    researchers = make_record(title=f"Nhà nghiên cứu {tag}", access_level="researchers", **base)
    draft = make_record(title=f"Bản nháp {tag}", status="draft", **base)
    withdrawn = make_record(title=f"Đã rút {tag}", status="withdrawn", **base)
    held = make_record(title=f"Cộng đồng {tag}", access_level="community", **base)
    held.community_id = community.id
    db.session.commit()
    html = _page(client, record)
    related = re.search(r'<section aria-labelledby="related-heading".*?</section>', html, re.S).group(0)
    names = "Gần nhất|Cùng dân tộc|Riêng tư|Nhà nghiên cứu|Bản nháp|Đã rút|Cộng đồng"
    titles = re.findall(rf">((?:{names}) {tag})<", related)
    # Three things shared (group, place, category) before two (group, category); the hidden ones never.
    assert titles == [f"Gần nhất {tag}", f"Cùng dân tộc {tag}"]
    assert closest.public_id in related and group_only.public_id in related
    for hidden in (private, researchers, draft, withdrawn, held):
        assert hidden.public_id not in html and hidden.values("title")[0].value not in html
    assert related.count("<li>") == 6


def test_related_records_for_a_researcher_include_researcher_records(client, db, make_record, login):
    login("researcher")
    tag = uuid.uuid4().hex[:6]
    base = dict(ethnic_groups=["si-la"], places=["pre2025-p02"], category="ritual")
    record = make_record(title=f"Gốc {tag}", **base)
    make_record(title=f"Nhà nghiên cứu {tag}", access_level="researchers", **base)
    make_record(title=f"Riêng tư {tag}", access_level="private", **base)
    html = _page(client, record)
    assert f"Nhà nghiên cứu {tag}" in html and f"Riêng tư {tag}" not in html


def test_cards_show_thumbnails_only_for_visible_ready_images(client, db, make_record):
    tag = uuid.uuid4().hex[:6]
    base = dict(ethnic_groups=["si-la"], places=["pre2025-p02"], category="ritual")
    record = make_record(title=f"Gốc {tag}", **base)
    pictured = make_record(title=f"Có ảnh {tag}", **base)
    image = _media(db, pictured, "image", width=1200, height=600, caption=[LangString("Múa xòe", "vi")])
    small = make_record(title=f"Ảnh nhỏ {tag}", **base)
    tiny = _media(db, small, "image", width=200, height=100)
    hidden = make_record(title=f"Ảnh kín {tag}", **base)
    secret = _media(db, hidden, "image", access_level="private", width=1200, height=600)
    pending = make_record(title=f"Ảnh đang xử lý {tag}", **base)
    waiting = _media(db, pending, "image", width=1200, height=600)
    waiting.state = "processing"
    db.session.commit()
    html = _page(client, record, lang="vi")
    related = re.search(r'<section aria-labelledby="related-heading".*?</section>', html, re.S).group(0)
    thumb = re.search(
        rf'<img class="card-thumb" src="/iiif/3/{image.public_id}/full/!160,160/0/default.jpg"[^>]*>', related
    )
    assert thumb, related
    tag_html = thumb.group(0)
    assert (
        f'srcset="/iiif/3/{image.public_id}/full/!160,160/0/default.jpg 1x, '
        f'/iiif/3/{image.public_id}/full/!320,320/0/default.jpg 2x"' in tag_html
    )
    assert (
        'width="160" height="80"' in tag_html
        and 'loading="lazy"' in tag_html
        and 'decoding="async"' in tag_html
    )
    assert 'alt="Múa xòe"' in tag_html
    # 200 px wide: no 320 px variant (IIIF refuses to upscale); the title is the alt text.
    small_thumb = re.search(
        rf'<img class="card-thumb" src="/iiif/3/{tiny.public_id}/full/!160,160/0/default.jpg"[^>]*>', related
    )
    assert (
        small_thumb
        and "!320,320" not in small_thumb.group(0)
        and f'alt="Ảnh nhỏ {tag}"' in small_thumb.group(0)
    )
    assert secret.public_id not in html and waiting.public_id not in related


def test_cards_load_without_a_query_per_card(client, db, make_record):
    """Six cards with pictures cost no more queries than six cards without: no query per card."""
    tag = uuid.uuid4().hex[:6]

    def queries_for(group: str, with_pictures: bool) -> int:
        base = dict(ethnic_groups=[group], places=["pre2025-p02"], category="ritual")
        record = make_record(title=f"Gốc {group} {tag}", **base)
        for i in range(6):
            card = make_record(title=f"Thẻ {i} {group} {tag}", **base)
            if with_pictures:
                _media(db, card, "image", width=400, height=300)
        _page(client, record)  # warm the caches (vocabularies, memberships)
        counts = []
        engine = db.session.get_bind()

        def count(*_args, **_kwargs):
            counts.append(1)

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            html = _page(client, record)
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        assert html.count('class="card-thumb"') == (6 if with_pictures else 0)
        return len(counts)

    pictured = queries_for("si-la", True)
    plain = queries_for("pu-peo", False)
    assert pictured == plain and pictured < 30, (pictured, plain)


# --- in a browser ---------------------------------------------------------------------------------


WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push({directive: e.violatedDirective, blocked: e.blockedURI});
});
"""


@pytest.mark.browser
def test_zoom_opens_openseadragon_and_escape_closes_it(app, live_server, browser, artifacts_dir):
    from playwright.sync_api import expect

    from archive.communities.models import CulturalLabel
    from archive.core.extensions import db

    with app.app_context():
        row = db.session.execute(
            sa.select(HeritageRecord.public_id, HeritageRecord.slug)
            .join(MediaFile, MediaFile.record_id == HeritageRecord.id)
            .where(
                MediaFile.kind == "image",
                MediaFile.state == "ready",
                MediaFile.access_level == "public",
                HeritageRecord.status == "published",
                HeritageRecord.access_level == "public",
                ~sa.exists().where(CulturalLabel.record_id == HeritageRecord.id),
            )
            .limit(1)
        ).first()
        db.session.remove()
    assert row is not None, "the demo has a public picture"
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    page = context.new_page()
    page.add_init_script(WATCH_VIOLATIONS)
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    refused: list[str] = []
    page.on("response", lambda r: refused.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"{live_server}/en/records/{row.public_id}/{row.slug}")
    assert page.evaluate("typeof window.OpenSeadragon") == "undefined"  # not loaded with the page
    page.evaluate("document.querySelectorAll('img[loading=lazy]').forEach(i => { i.loading = 'eager'; })")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts_dir / "record-page-360.png"), full_page=True)
    zoom = page.get_by_role("button", name="Zoom").first
    zoom.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(page.locator(".zoom-dialog .openseadragon-canvas")).to_be_visible(timeout=20_000)
    page.wait_for_function("() => !!document.querySelector('.zoom-dialog .openseadragon-canvas canvas')",
                           timeout=20_000)  # fmt: skip
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts_dir / "record-zoom.png"))
    page.keyboard.press("Escape")
    expect(page.locator(".zoom-dialog")).to_have_count(0)
    assert page.evaluate("document.activeElement.classList.contains('zoom')")  # focus returns to Zoom
    assert page.evaluate("window.__cspViolations") == []
    assert refused == []  # the viewer, its icons, info.json and the tiles all loaded
    # No script error (Chromium's favicon request, not the page's, may log a 404).
    assert [p for p in problems if not p.startswith("Failed to load resource")] == []
    context.close()
