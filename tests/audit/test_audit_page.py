"""/admin/audit: administrators only, newest first, paginated, filtered by object, actor and action."""

from __future__ import annotations

import re

from archive.audit import acting_as


def _event_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'id="event-(\d+)"', html)]


def test_only_administrators_see_the_log(client, login):
    anonymous = client.get("/vi/admin/audit")
    assert anonymous.status_code in (302, 401)
    assert 'id="event-' not in anonymous.get_data(as_text=True)
    if anonymous.status_code == 302:
        assert "/login" in anonymous.headers["Location"]
    login("curator")
    refused = client.get("/vi/admin/audit")
    assert refused.status_code == 403 and 'id="event-' not in refused.get_data(as_text=True)
    assert 'href="/vi/admin/audit"' not in client.get("/vi/").get_data(as_text=True)
    login("administrator")
    allowed = client.get("/en/admin/audit")
    assert allowed.status_code == 200 and 'id="event-' in allowed.get_data(as_text=True)
    assert 'href="/vi/admin/audit"' in client.get("/vi/").get_data(as_text=True)  # in the menu


def test_newest_first_and_paginated(client, login, app):
    login("administrator")
    per_page = app.config["PAGE_SIZE"]
    first = _event_ids(client.get("/vi/admin/audit").get_data(as_text=True))
    second_page = client.get("/vi/admin/audit?page=2")
    assert second_page.status_code == 200  # the demo alone made far more events than one page
    second = _event_ids(second_page.get_data(as_text=True))
    assert len(first) == per_page and second
    assert first == sorted(first, reverse=True) and max(second) < min(first)
    assert client.get("/vi/admin/audit?page=abc").status_code == 400
    assert client.get("/vi/admin/audit?page=100000").status_code == 404


def test_filters_and_the_table_of_changes(client, db, login, make_user, make_record):
    login("administrator")
    curator = make_user("curator")
    with acting_as(curator):
        edited = make_record(title="Bản ghi của người biên tập")
        edited.status = "withdrawn"
        db.session.commit()
    with acting_as("cli"):
        other = make_record(title="Bản ghi nhập từ dòng lệnh")

    page = client.get(f"/en/admin/audit?type=heritage_record&object={edited.id}").get_data(as_text=True)
    assert edited.public_id in page and other.public_id not in page
    assert len(_event_ids(page)) == 2  # created, then changed
    assert f"by {curator.email}" in page
    row = re.search(r"<code>status</code></th>\s*<td>(.*?)</td>\s*<td>(.*?)</td>", page, re.S)
    assert row and row.groups() == ("published", "withdrawn")

    by_cli = client.get("/vi/admin/audit?type=heritage_record&actor=cli").get_data(as_text=True)
    assert other.public_id in by_cli and edited.public_id not in by_cli
    by_email = client.get(f"/vi/admin/audit?type=heritage_record&actor={curator.email.upper()}")
    assert edited.public_id in by_email.get_data(as_text=True)
    by_number = client.get(f"/vi/admin/audit?actor={curator.id}&action=update").get_data(as_text=True)
    assert len(_event_ids(by_number)) == 1 and edited.public_id in by_number

    nothing = client.get("/en/admin/audit?object=no-such-object").get_data(as_text=True)
    assert _event_ids(nothing) == [] and "No entry matches these filters." in nothing
