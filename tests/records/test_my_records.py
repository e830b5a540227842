"""'My records' (a contributor's records by state, with curators' comments and media processing), the
curators' review queue and the notifications page."""

from __future__ import annotations

import uuid

import lxml.html
import pytest

from archive.media import services as media_services
from archive.workflow.services import transition
from tests.media import samples

EN = {"Accept-Language": "en"}


def page(response) -> lxml.html.HtmlElement:
    assert response.status_code == 200, response.get_data(as_text=True)
    return lxml.html.fromstring(response.get_data(as_text=True))


def sign_in(client, user) -> None:
    client.post("/logout")
    response = client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    assert response.status_code == 302


def item(doc, record) -> lxml.html.HtmlElement:
    return doc.get_element_by_id(f"record-{record.public_id}")


def group_of(doc, record) -> str:
    return item(doc, record).xpath("ancestor::section[1]//h2/@id")[0]


def unique_jpeg(tmp_path):
    """A small picture no other test stores (the archive refuses duplicates)."""
    color = tuple(uuid.uuid4().bytes[:3])
    return samples.jpeg(tmp_path / f"{uuid.uuid4().hex}.jpg", size=(64, 48), color=color)


@pytest.fixture
def stored_originals(app):
    """Storage keys of originals a test ingested, removed afterwards (the database is rolled back)."""
    keys: list[str] = []
    yield keys
    with app.app_context():
        media_services.discard_originals(keys)


def test_my_records_by_state_with_comments_media_and_actions(
    client, db, make_user, make_record, tmp_path, stored_originals
):
    me, curator, other = make_user("contributor"), make_user("curator"), make_user("contributor")
    draft = make_record(created_by=me, status="draft", title="Bản nháp của tôi")
    submitted = make_record(created_by=me, status="draft", title="Đã gửi duyệt")
    returned = make_record(created_by=me, status="draft", title="Bị trả lại")
    published = make_record(created_by=me, status="published", title="Đã công bố")
    withdrawn = make_record(created_by=me, status="published", title="Đã rút")
    someone_elses = make_record(created_by=other, status="draft", title="Của người khác")
    for record in (submitted, returned):
        transition(record, "submit", me)
    transition(returned, "return", curator, "Thiếu ngày tổ chức; thêm ảnh.")
    transition(withdrawn, "withdraw", curator, "Cộng đồng xin rút.")
    # Two pictures on the draft: one waiting for its renditions, one whose processing failed.
    waiting = media_services.ingest_file(draft, unique_jpeg(tmp_path), "le-hoi.jpg", me)
    failed = media_services.ingest_file(draft, unique_jpeg(tmp_path), "hong.jpg", me)
    stored_originals += [waiting.storage_key, failed.storage_key]
    failed.state, failed.state_reason = "failed", "processing_failed"  # as the derivative job leaves it
    db.session.commit()

    sign_in(client, me)
    doc = page(client.get("/en/my/records", headers=EN))
    assert [h.text_content().split("(")[0].strip() for h in doc.xpath("//section/h2")] == [
        "Drafts",
        "Submitted for review",
        "Returned with comments",
        "Published",
        "Withdrawn",
    ]
    expected = {draft: "draft", submitted: "in_review", returned: "returned", published: "published",
                withdrawn: "withdrawn"}  # fmt: skip
    for record, status in expected.items():
        assert group_of(doc, record) == f"group-{status}"
    assert not doc.xpath(f'//*[@id="record-{someone_elses.public_id}"]')
    # The curator's latest comment, with who returned it.
    comment = item(doc, returned).xpath('.//*[@class="curator-comment"]')[0].text_content()
    assert "Thiếu ngày tổ chức; thêm ảnh." in comment and f"Returned by {curator.display_name}" in comment
    # Processing state of each media file, with the reason of a failure.
    states = item(doc, draft).xpath(".//td[contains(@class, 'state')]")
    assert [s.text_content().strip() for s in states] == [
        "Waiting",
        "Failed: The renditions could not be made; the archive staff have been told.",
    ]
    # Edit only a draft or a returned record; add media to any own record; submit a draft or returned one.
    for record in (draft, returned):
        links = item(doc, record).xpath(".//a/@href")
        base = f"/en/records/{record.public_id}"
        assert f"{base}/edit" in links and f"{base}/media" in links
        assert item(doc, record).xpath(f'.//form[contains(@action, "{base}/workflow/submit")]')
    for record in (submitted, published):
        assert f"/en/records/{record.public_id}/edit" not in item(doc, record).xpath(".//a/@href")
        assert not item(doc, record).xpath(".//form")

    # Submitting from the list comes back to it.
    response = client.post(
        f"/records/{returned.public_id}/workflow/submit", data={"next": "/my/records"}, headers=EN
    )
    assert response.status_code == 303 and response.headers["Location"] == "/my/records"
    doc = page(client.get("/en/my/records", headers=EN))
    assert group_of(doc, returned) == "group-in_review"
    assert "“Bị trả lại” was submitted for review" in doc.text_content()


def test_my_records_is_for_contributors(client, login):
    assert client.get("/vi/my/records").status_code == 302
    login("researcher")
    assert client.get("/vi/my/records").status_code == 403


def test_the_review_queue_oldest_first_with_publish_and_return(client, db, make_user, make_record):
    author, curator = make_user("contributor"), make_user("curator")
    first = make_record(created_by=author, status="draft", title="Gửi trước")
    second = make_record(created_by=author, status="draft", title="Gửi sau")
    not_submitted = make_record(created_by=author, status="draft", title="Chưa gửi")
    transition(first, "submit", author)
    transition(second, "submit", author)
    db.session.commit()

    sign_in(client, author)
    assert client.get("/vi/review").status_code == 403
    sign_in(client, curator)
    doc = page(client.get("/en/review", headers=EN))
    queue = [li.get("id") for li in doc.xpath('//li[@class="review-item"]')]
    assert queue.index(f"review-{first.public_id}") < queue.index(f"review-{second.public_id}")
    assert f"review-{not_submitted.public_id}" not in queue
    entry = doc.get_element_by_id(f"review-{first.public_id}")
    assert entry.xpath(f'.//form[contains(@action, "/records/{first.public_id}/workflow/publish")]//button')
    returning = f'.//form[contains(@action, "/records/{first.public_id}/workflow/return")]//textarea'
    textarea = entry.xpath(returning)[0]
    assert doc.xpath(f'//label[@for="{textarea.get("id")}"]')  # the comment box is labelled
    assert doc.xpath('//nav//a[@href="/en/review"]')

    response = client.post(
        f"/records/{first.public_id}/workflow/publish", data={"next": "/review"}, headers=EN
    )
    assert response.status_code == 303 and response.headers["Location"] == "/review"
    doc = page(client.get("/en/review", headers=EN))
    assert "“Gửi trước” was published." in doc.text_content()
    assert not doc.xpath(f'//*[@id="review-{first.public_id}"]')
    client.post(f"/records/{second.public_id}/workflow/return", data={"comment": "Viết thêm mô tả."})
    assert not page(client.get("/vi/review")).xpath(f'//*[@id="review-{second.public_id}"]')
    # The published record is public now.
    client.post("/logout")
    assert client.get(f"/vi/records/{first.public_id}/{first.slug}").status_code == 200


def test_notifications_are_listed_and_marked_read(client, db, make_user, make_record):
    author, curator, bystander = make_user("contributor"), make_user("curator"), make_user("contributor")
    record = make_record(created_by=author, status="draft", title="Lễ mừng cơm mới")
    transition(record, "submit", author)
    transition(record, "return", curator, "Bổ sung người cung cấp thông tin.")
    db.session.commit()

    sign_in(client, author)
    doc = page(client.get("/en/notifications", headers=EN))
    nav = doc.xpath('//nav[@class="user-nav"]//a[@href="/en/notifications"]')[0].text_content()
    assert nav == "Notifications (1 unread)"
    notices = doc.xpath('//li[contains(@class, "notification")]')
    assert len(notices) == 1 and "unread" in notices[0].get("class")
    text = notices[0].text_content()
    assert "“Lễ mừng cơm mới” was returned to you with comments" in text
    assert "Bổ sung người cung cấp thông tin." in text
    assert notices[0].xpath(f'.//a[starts-with(@href, "/en/records/{record.public_id}")]')

    response = client.post("/notifications", headers=EN)
    assert response.status_code == 303
    doc = page(client.get("/en/notifications", headers=EN))
    nav = doc.xpath('//nav[@class="user-nav"]//a[@href="/en/notifications"]')[0]
    assert nav.text_content() == "Notifications"
    assert "unread" not in doc.xpath('//li[contains(@class, "notification")]')[0].get("class")

    # Nobody else sees them.
    sign_in(client, bystander)
    doc = page(client.get("/en/notifications", headers=EN))
    assert not doc.xpath('//li[contains(@class, "notification")]')
    assert client.get("/vi/notifications").status_code == 200
