"""Visitors' exhibit pages: sections in order, both languages with the fallback note, the access rule
applied to every record and media file inside an exhibit, drafts only for curators."""

import re

import pytest

VI_TEXT = [{"lang": "vi", "value": "Chỉ có tiếng Việt"}]


def _narrative(text_vi, text_en=None, heading=None):
    body = [{"lang": "vi", "value": text_vi}] + ([{"lang": "en", "value": text_en}] if text_en else [])
    return {"kind": "narrative", "body": body, "heading": heading or []}


def test_sections_are_shown_in_order_in_vietnamese_and_english(client, make_exhibit):
    exhibit = make_exhibit(
        sections=[
            _narrative(
                "Thứ nhất **đậm**",
                "First **bold**",
                heading=[{"lang": "vi", "value": "Mở đầu"}, {"lang": "en", "value": "Opening"}],
            ),
            _narrative("Thứ hai", "Second"),
            _narrative("Thứ ba chỉ tiếng Việt"),
        ],
        title=[{"lang": "vi", "value": "Trưng bày mùa xuân"}, {"lang": "en", "value": "Spring exhibit"}],
    )
    vi = client.get(f"/vi/exhibits/{exhibit.slug}")
    assert vi.status_code == 200
    page = vi.get_data(as_text=True)
    assert "Trưng bày mùa xuân" in page and "Mở đầu" in page
    assert page.index("Thứ nhất") < page.index("Thứ hai") < page.index("Thứ ba")
    assert "<strong>đậm</strong>" in page
    assert 'class="fallback"' not in page

    en = client.get(f"/en/exhibits/{exhibit.slug}").get_data(as_text=True)
    assert "Spring exhibit" in en and "Opening" in en
    assert en.index("First") < en.index("Second") < en.index("Thứ ba")
    # The third section has no English text: it falls back to Vietnamese, said so and marked lang="vi".
    assert "Shown in Vietnamese" in en
    assert re.search(r'lang="vi">\s*<p>Thứ ba', en)


def test_the_list_shows_published_exhibits_only(client, make_exhibit):
    published = make_exhibit(title=[{"lang": "vi", "value": "Đã công bố XYZ"}])
    draft = make_exhibit(status="draft", title=[{"lang": "vi", "value": "Bản nháp QWX"}])
    page = client.get("/vi/exhibits").get_data(as_text=True)
    assert "Đã công bố XYZ" in page
    assert "Bản nháp QWX" not in page
    assert f"/exhibits/{published.slug}" in page and draft.slug not in page


def test_drafts_are_404_to_visitors_and_contributors_but_previewed_by_curators(client, make_exhibit, login):
    draft = make_exhibit(status="draft", sections=[_narrative("Nội dung nháp")])
    assert client.get(f"/vi/exhibits/{draft.slug}").status_code == 404
    login("contributor")
    assert client.get(f"/vi/exhibits/{draft.slug}").status_code == 404
    client.post("/logout")
    login("curator")
    preview = client.get(f"/vi/exhibits/{draft.slug}")
    assert preview.status_code == 200
    assert "Nội dung nháp" in preview.get_data(as_text=True)
    assert "no-store" in preview.headers["Cache-Control"]


def test_unknown_exhibit_is_404(client):
    assert client.get("/vi/exhibits/no-such-exhibit").status_code == 404


@pytest.fixture
def restricted_world(db, make_record, demo_media):
    """An exhibit featuring a public, a private and a community record, and showing a private image."""
    from archive.communities.models import Community

    community = Community(slug="exhibit-test-community", name=[{"lang": "vi", "value": "Cộng đồng thử"}])
    db.session.add(community)
    db.session.commit()
    public = make_record(title="Bản ghi công khai PUB")
    private = make_record(title="Bản ghi riêng tư PRV", access_level="private")
    shared = make_record(title="Bản ghi cộng đồng COM", access_level="community")
    shared.community_id = community.id
    hidden_image, open_image = demo_media["image"][0], demo_media["image"][1]
    hidden_image.access_level = "private"
    db.session.commit()
    return public, private, shared, hidden_image, open_image


def test_restricted_records_and_media_are_left_out_for_visitors(
    client, make_exhibit, restricted_world, login
):
    public, private, shared, hidden_image, open_image = restricted_world
    exhibit = make_exhibit(
        sections=[
            {
                "kind": "records",
                "records": [private, public, shared],
                "heading": [{"lang": "vi", "value": "Các bản ghi"}],
            },
            {
                "kind": "image",
                "media": hidden_image,
                "alt": [{"lang": "vi", "value": "Ảnh bị giới hạn ALT"}],
                "heading": [{"lang": "vi", "value": "Tiêu đề ảnh ẩn HID"}],
            },
            {
                "kind": "records",
                "records": [private],
                "heading": [{"lang": "vi", "value": "Chỉ riêng tư HEAD"}],
            },
            {"kind": "image", "media": open_image, "alt": [{"lang": "vi", "value": "Ảnh công khai OPEN"}]},
        ],
    )
    page = client.get(f"/vi/exhibits/{exhibit.slug}").get_data(as_text=True)
    assert "Bản ghi công khai PUB" in page and public.public_id in page
    for secret in ("PRV", "COM", private.public_id, shared.public_id, hidden_image.public_id,
                   "ALT", "HID", "HEAD"):  # fmt: skip
        assert secret not in page, secret
    assert "Ảnh công khai OPEN" in page and open_image.public_id in page

    login("curator")
    page = client.get(f"/vi/exhibits/{exhibit.slug}").get_data(as_text=True)
    for shown in ("PUB", "PRV", "COM", hidden_image.public_id, "ALT", "HID", "HEAD"):
        assert shown in page, shown


def test_image_section_uses_iiif_with_srcset_and_alt(client, make_exhibit, demo_media):
    image = demo_media["image"][0]
    exhibit = make_exhibit(
        sections=[
            {
                "kind": "image",
                "media": image,
                "alt": [{"lang": "vi", "value": "Mô tả ảnh"}],
                "region": "0,0,300,200",
                "caption": [{"lang": "en", "value": "Only English caption"}],
            },
        ]
    )
    page = client.get(f"/vi/exhibits/{exhibit.slug}").get_data(as_text=True)
    img = re.search(r"<img [^>]*alt=\"Mô tả ảnh\"[^>]*>", page).group(0)
    assert f"/iiif/3/{image.public_id}/0,0,300,200/max/0/default.jpg" in img  # 300 px: no upscaling
    assert 'loading="lazy"' in img and "srcset=" in img
    assert "/!800,800/" not in img and "/!400,400/" not in img
    assert "Only English caption" in page
    assert re.search(r'<span lang="en">Only English caption</span> <small class="fallback">', page)


def test_excerpt_uses_media_fragments_and_states_the_range(client, make_exhibit, demo_media):
    audio = next(m for m in demo_media["audio"] if (m.duration_seconds or 0) >= 3)
    exhibit = make_exhibit(
        sections=[{"kind": "excerpt", "media": audio, "start_seconds": 1.0, "end_seconds": 2.5}]
    )
    page = client.get(f"/en/exhibits/{exhibit.slug}").get_data(as_text=True)
    assert '<audio controls preload="none">' in page
    assert re.search(rf'src="[^"]*/media/{audio.public_id}/r/\w+#t=1,2.5"', page)
    assert "from 0:01 to 0:02" in page
