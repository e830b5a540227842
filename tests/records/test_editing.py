"""The record form of the contributor workspace: creating and editing records with multilingual values,
vocabulary references, timings, rights and access settings; validation next to each field; nothing
half-saved; optimistic locking; who may edit; a revision on every save; the workflow buttons."""

from __future__ import annotations

import re

import lxml.html
import pytest
import sqlalchemy as sa

from archive.communities.models import Community, CulturalLabel
from archive.records.models import HeritageRecord, RecordText
from archive.vocab.models import Agent, Subject
from archive.workflow.models import RecordRevision, WorkflowEvent
from metadata.languages import LangString

EN = {"Accept-Language": "en"}
VI = {"Accept-Language": "vi"}


def form_data(**fields) -> dict:
    """A minimal valid form (a Vietnamese title), with *fields* added or replaced."""
    data = {"title-0-lang": "vi", "title-0-value": "Lễ hội thử nghiệm", "category": "festival",
            "access_level": "public"}  # fmt: skip
    data.update(fields)
    return data


def full_form(community_id: int) -> dict:
    """Every part of the form filled in, as a cultural officer would."""
    return form_data(
        **{
            "title-0-lang": "vi", "title-0-value": "Lễ hội Lồng Tồng bản Cải",
            "title-1-lang": "en", "title-1-value": "Going-to-the-fields festival of Cải village",
            "title-2-lang": "tyz", "title-2-value": "Lồng tồng bản Cải",
            "alternative-0-lang": "vi", "alternative-0-value": "Hội xuống đồng",
            "summary-0-lang": "vi", "summary-0-value": "Lễ cầu mùa đầu năm của người Tày.",
            "description-0-lang": "en",
            "description-0-value": "Villagers pray for a good harvest.\n\nThen they play.",
            "provenance-0-lang": "vi", "provenance-0-value": "Điền dã năm 2025.",
            "category": "festival",
            "ethnic_groups-0-text": "Tày", "ethnic_groups-0-ref": "tay",
            "ethnic_groups-1-text": "nung",
            "places-0-text": "Chợ Đồn, Bắc Kạn", "places-0-ref": "pre2025-d064",
            "place_system": "pre2025",
            "subjects-0-value": "lễ cầu mùa", "subjects-0-lang": "vi",
            "agents-0-name": "Nông Văn Phúc", "agents-0-role": "ritual_master", "agents-0-kind": "person",
            "agents-1-name": "Phòng Văn hoá huyện", "agents-1-role": "office",
            "agents-1-kind": "organisation",
            "timings-0-calendar": "lunar", "timings-0-month": "1", "timings-0-day": "8",
            "timings-0-duration": "2",
            "timings-0-note-0-lang": "vi", "timings-0-note-0-value": "mùng 8 tháng Giêng",
            "timings-1-calendar": "lunar", "timings-1-month": "7", "timings-1-day_chosen": "1",
            "timings-1-duration": "1",
            "dates-0-kind": "held", "dates-0-start": "2025-02-05", "dates-0-end": "2025-02-06",
            "rights_uri": "http://rightsstatements.org/vocab/InC-EDU/1.0/",
            "rights_holder": "UBND xã Cải",
            "consent_note-0-lang": "vi", "consent_note-0-value": "Trưởng bản đồng ý cho trưng bày.",
            "access_level": "community", "community": str(community_id),
            "labels": ["seasonal", "sacred"],
            "season_calendar": "lunar", "season_start_month": "1", "season_start_day": "1",
            "season_end_month": "1", "season_end_day": "30",
        }
    )  # fmt: skip


@pytest.fixture
def community(db):
    group = Community(slug="ban-cai", name=[{"lang": "vi", "value": "Cộng đồng Tày bản Cải"}])
    db.session.add(group)
    db.session.commit()
    return group


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def record_by_title(db, title: str) -> HeritageRecord | None:
    return db.session.scalar(
        sa.select(HeritageRecord)
        .join(RecordText)
        .where(RecordText.field == "title", RecordText.value == title)
    )


def page(response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.get_data(as_text=True))


def assert_error_at(doc, key: str) -> str:
    """The field *key* has its error next to it, pointed at by aria-describedby and listed in the summary;
    returns the message."""
    message = doc.get_element_by_id(f"{key}-error")
    field = doc.get_element_by_id(key)
    assert f"{key}-error" in (field.get("aria-describedby") or "").split(), key
    if field.tag in ("input", "select", "textarea"):
        assert field.get("aria-invalid") == "true", key
    assert doc.xpath(f'//*[@id="error-summary"]//a[@href="#{key}"]'), key
    return message.text_content().strip()


def revisions(db, record) -> list[RecordRevision]:
    return list(
        db.session.scalars(
            sa.select(RecordRevision)
            .where(RecordRevision.record_id == record.id)
            .order_by(RecordRevision.number)
        )
    )


# --- the empty form ----------------------------------------------------------------------------------


def test_the_new_record_form_works_without_javascript_and_obeys_the_csp(client, login):
    login("contributor")
    response = client.get("/en/records/new", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    doc = page(response)
    # Two spare rows per multilingual field, each with a language select offering minority languages.
    for name in ("title", "alternative", "summary", "description", "provenance"):
        assert doc.get_element_by_id(f"{name}-0-value") is not None
        assert doc.get_element_by_id(f"{name}-1-value") is not None
    options = {o.get("value"): o.text_content() for o in doc.get_element_by_id("title-0-lang").iter("option")}
    for tag in ("vi", "en", "tyz", "hnj", "hmn", "rad", "km", "mtq", "cja"):
        assert tag in options
    assert "Tày" in options["tyz"]
    assert doc.get_element_by_id("title-0-lang").value == "vi"
    assert doc.get_element_by_id("title-1-lang").value == "en"
    # Vocabulary boxes are plain text inputs (the script makes them comboboxes).
    box = doc.get_element_by_id("places-0-text")
    assert box.get("type") == "text" and box.get("data-picker") == "/pickers/places.json"
    assert doc.get_element_by_id("ethnic_groups-0-text").get("data-picker") == "/pickers/ethnic-groups.json"
    # Every cultural label with its name and meaning; the season fields; the licences.
    for kind in ("seasonal", "non_commercial", "sacred", "verified"):
        assert doc.get_element_by_id(f"label-{kind}").get("type") == "checkbox"
    assert "Shown only during its season" in html
    assert doc.get_element_by_id("season_start_month") is not None
    rights = [o.get("value") for o in doc.get_element_by_id("rights_uri").iter("option")]
    assert "https://creativecommons.org/licenses/by-nc-sa/4.0/" in rights
    assert "http://rightsstatements.org/vocab/InC/1.0/" in rights
    # A contributor's record starts as a draft: no status to choose.
    assert not doc.xpath('//*[@id="status"]')
    # Strict CSP: scripts only from files, no inline handlers or styles; the form carries its CSRF token.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\son[a-z]+\s*=", html) and " style=" not in html
    assert re.search(r'<script src="/static/record_form\.js\?v=[0-9a-f]{12}" defer>', html)  # fingerprinted
    assert doc.xpath('//form[@class="record-form"]//input[@name="csrf_token"]')
    # The header links of the workspace.
    assert doc.xpath('//nav//a[@href="/en/my/records"]') and doc.xpath('//nav//a[@href="/en/notifications"]')
    assert not doc.xpath('//nav//a[@href="/en/review"]')


def test_who_may_open_the_new_record_form(client, login):
    assert client.get("/vi/records/new").status_code == 302  # a visitor is sent to sign in
    login("researcher")
    assert client.get("/vi/records/new").status_code == 403
    assert client.post("/records/new", data=form_data()).status_code == 403


# --- creating ----------------------------------------------------------------------------------------


def test_a_contributor_creates_a_draft_with_every_field(client, db, login, community):
    user = login("contributor")
    data = full_form(community.id)
    data["status"] = "published"  # ignored: contributors' records start as drafts
    response = client.post("/records/new", data=data, headers=EN)
    assert response.status_code == 303, response.get_data(as_text=True)
    record = record_by_title(db, "Lễ hội Lồng Tồng bản Cải")
    assert response.headers["Location"].endswith(f"/records/{record.public_id}/edit")
    assert record.status == "draft" and record.created_by_id == user.id and record.published_at is None
    assert [(v.lang, v.value) for v in record.values("title")] == [
        ("vi", "Lễ hội Lồng Tồng bản Cải"),
        ("en", "Going-to-the-fields festival of Cải village"),
        ("tyz", "Lồng tồng bản Cải"),
    ]
    assert record.values("description")[0].value.endswith("Then they play.")
    assert [g.slug for g in record.ethnic_groups] == ["tay", "nung"]
    assert [p.code for p in record.places] == ["pre2025-d064"]
    assert [s.label_values[0].value for s in record.subjects] == ["lễ cầu mùa"]
    assert [(a.agent.name, a.role, a.agent.kind) for a in record.agents] == [
        ("Nông Văn Phúc", "ritual_master", "person"),
        ("Phòng Văn hoá huyện", "office", "organisation"),
    ]
    first, second = record.timings
    assert (first.calendar, first.month, first.day, first.leap, first.duration_days) == (
        "lunar",
        1,
        8,
        False,
        2,
    )
    assert first.note_values == [LangString("mùng 8 tháng Giêng", "vi")]
    assert (second.month, second.day, second.duration_days) == (7, None, 1)
    assert [(d.kind, d.start.isoformat(), d.end.isoformat()) for d in record.dates] == [
        ("held", "2025-02-05", "2025-02-06")
    ]
    assert record.rights.uri == "http://rightsstatements.org/vocab/InC-EDU/1.0/"
    assert record.rights.holder == "UBND xã Cải"
    assert record.rights.consent_values[0].value.startswith("Trưởng bản")
    assert record.access_level == "community" and record.community_id == community.id
    labels = {label.kind: label for label in record.labels}
    assert set(labels) == {"seasonal", "sacred"}
    seasonal = labels["seasonal"]
    assert (seasonal.season_calendar, seasonal.start_month, seasonal.start_day, seasonal.end_month,
            seasonal.end_day) == ("lunar", 1, 1, 1, 30)  # fmt: skip
    # One revision, taken with the labels and the community.
    (revision,) = revisions(db, record)
    assert revision.reason == "created" and revision.actor_id == user.id
    assert revision.snapshot["labels"] == "sacred | seasonal" and revision.snapshot["community"] == "ban-cai"
    # The edit page it lands on says it was saved and shows the values again.
    edit = client.get(response.headers["Location"], headers=EN)
    assert "was saved" in edit.get_data(as_text=True)
    doc = page(edit)
    assert doc.get_element_by_id("title-2-value").value == "Lồng tồng bản Cải"
    assert doc.get_element_by_id("title-2-lang").value == "tyz"
    assert doc.get_element_by_id("places-0-text").value == "Chợ Đồn, Bắc Kạn"
    assert doc.xpath('//input[@name="places-0-ref"]/@value') == ["pre2025-d064"]
    assert (
        doc.get_element_by_id("label-seasonal").checked
        and not doc.get_element_by_id("label-men_only").checked
    )


def test_a_curator_may_publish_a_new_record_at_once(client, db, login):
    login("curator")
    doc = page(client.get("/en/records/new", headers=EN))
    assert [o.get("value") for o in doc.get_element_by_id("status").iter("option")] == [
        "draft",
        "in_review",
        "published",
    ]
    response = client.post(
        "/records/new", data=form_data(status="published", **{"title-0-value": "Hội Xuân"})
    )
    assert response.status_code == 303
    record = record_by_title(db, "Hội Xuân")
    assert record.status == "published" and record.published_at is not None
    assert client.post("/records/new", data=form_data(status="returned")).status_code == 400


def test_references_are_accepted_as_the_csv_import_accepts_them(client, db, login):
    """Without JavaScript a box takes what a CSV cell takes: ids, names, codes, several with ";"."""
    login("contributor")
    data = form_data(
        **{
            "title-0-value": "Tham chiếu kiểu CSV",
            "ethnic_groups-0-text": "Tay; hmong",
            # A picked reference counts no more once the text was changed: the text is looked up.
            "places-0-text": "pre2025-p06",
            "places-0-ref": "pre2025-d064",
            "places-1-text": "Chợ Đồn, Bắc Kạn",  # a name path
        }
    )
    assert client.post("/records/new", data=data).status_code == 303
    record = record_by_title(db, "Tham chiếu kiểu CSV")
    assert [g.slug for g in record.ethnic_groups] == ["tay", "hmong"]
    assert [p.code for p in record.places] == ["pre2025-p06", "pre2025-d064"]


# --- validation --------------------------------------------------------------------------------------


BAD = {
    "title-0-value": "",
    "title-1-lang": "not a tag!",
    "title-1-value": "Tiêu đề sai ngôn ngữ",
    "ethnic_groups-0-text": "Người Sao Hoả",
    "places-0-text": "Nơi không có",
    "agents-0-name": "Bà Lường Thị Đón",
    "agents-0-role": "",
    "timings-0-calendar": "lunar",
    "timings-0-month": "13",
    "timings-0-day": "31",
    "timings-1-calendar": "gregorian",
    "timings-1-month": "2",
    "timings-1-day": "30",
    "timings-1-leap": "1",
    "dates-0-kind": "held",
    "dates-0-start": "2025-02-10",
    "dates-0-end": "2025-02-01",
    "dates-1-kind": "recorded",
    "dates-1-start": "10/02/2025",
    "access_level": "community",
    "labels": ["seasonal"],
    "season_calendar": "lunar",
    "season_start_month": "1",
    "season_start_day": "31",
    "season_end_month": "2",
    "season_end_day": "1",
}
ERROR_KEYS = [
    "title-0-lang",
    "ethnic_groups-0-text",
    "places-0-text",
    "agents-0-role",
    "timings-0-month",
    "timings-0-day",
    "timings-1-day",
    "timings-1-leap",
    "dates-0-end",
    "dates-1-start",
    "community",
    "season",
]


@pytest.mark.parametrize("headers", [EN, VI], ids=["en", "vi"])
def test_every_problem_is_shown_next_to_its_field_and_nothing_is_saved(client, db, login, headers):
    login("contributor")
    records, texts = count(db, HeritageRecord), count(db, RecordText)
    response = client.post("/records/new", data=form_data(**BAD), headers=headers)
    assert response.status_code == 400
    assert (count(db, HeritageRecord), count(db, RecordText)) == (records, texts)
    doc = page(response)
    assert doc.get("lang") == headers["Accept-Language"]
    messages = {key: assert_error_at(doc, key) for key in ERROR_KEYS}
    assert all(messages.values())
    summary = doc.get_element_by_id("error-summary")
    assert summary.get("role") == "alert"
    assert len(summary.xpath(".//a")) == len(ERROR_KEYS)
    # Everything typed is kept.
    assert doc.get_element_by_id("title-0-value").value == "Tiêu đề sai ngôn ngữ"
    assert doc.get_element_by_id("ethnic_groups-0-text").value == "Người Sao Hoả"
    assert doc.get_element_by_id("places-0-text").value == "Nơi không có"
    assert doc.get_element_by_id("agents-0-name").value == "Bà Lường Thị Đón"
    assert doc.get_element_by_id("timings-0-month").value == "13"
    assert doc.get_element_by_id("timings-1-calendar").value == "gregorian"
    assert doc.get_element_by_id("timings-1-leap").checked
    assert doc.get_element_by_id("dates-1-start").value == "10/02/2025"
    assert doc.get_element_by_id("access_level").value == "community"
    assert doc.get_element_by_id("label-seasonal").checked
    assert doc.get_element_by_id("season_start_day").value == "31"
    if headers is EN:
        assert (
            messages["places-0-text"]
            == "No place is called “Nơi không có”; write “Commune, District, Province” or a place code."
        )
        assert messages["ethnic_groups-0-text"] == "No ethnic group is called “Người Sao Hoả”."
        assert messages["community"] == "Choose the community group whose protocol governs this record."
        assert messages["dates-0-end"] == "The last day cannot be before the first."
        assert messages["timings-1-leap"] == "Only lunar months can be leap months."


def test_a_record_needs_a_title(client, db, login):
    login("contributor")
    response = client.post("/records/new", data=form_data(**{"title-0-value": "  "}), headers=EN)
    assert response.status_code == 400
    assert (
        assert_error_at(page(response), "title-0-value")
        == "Give the record a title (at least one, in any language)."
    )


def test_a_bad_reference_in_one_field_saves_nothing(client, db, login, community):
    """Everything else is valid and new (agents, subjects); one place is unknown: no record, no texts, no
    new vocabulary."""
    login("contributor")
    before = [
        count(db, model)
        for model in (HeritageRecord, RecordText, Agent, Subject, CulturalLabel, RecordRevision)
    ]
    data = full_form(community.id)
    data["agents-0-name"] = "Người chưa có trong danh bạ"
    data["subjects-0-value"] = "chủ đề hoàn toàn mới"
    data["places-1-text"] = "Xã Không Tồn Tại, Huyện Ảo"
    response = client.post("/records/new", data=data, headers=EN)
    assert response.status_code == 400
    assert assert_error_at(page(response), "places-1-text").startswith("No place is called")
    after = [
        count(db, model)
        for model in (HeritageRecord, RecordText, Agent, Subject, CulturalLabel, RecordRevision)
    ]
    assert after == before


# --- editing -----------------------------------------------------------------------------------------


def submit_form(doc, **changes) -> dict:
    """The values the browser would send for the record form of *doc*, with *changes* applied."""
    form = doc.xpath('//form[@class="record-form"]')[0]
    values: dict[str, list[str]] = {}
    for name, value in form.form_values():
        values.setdefault(name, []).append(value)
    for name, value in changes.items():
        values[name] = value if isinstance(value, list) else [value]
    return {
        name: v if len(v) > 1 or name in ("labels", "collections") else v[0] for name, v in values.items()
    }


def test_saving_the_edit_form_unchanged_changes_nothing(client, db, login, community):
    """Every stored value comes back in the form: saving it again keeps the description as it was."""
    login("contributor")
    assert client.post("/records/new", data=full_form(community.id)).status_code == 303
    record = record_by_title(db, "Lễ hội Lồng Tồng bản Cải")
    doc = page(client.get(f"/vi/records/{record.public_id}/edit"))
    response = client.post(f"/records/{record.public_id}/edit", data=submit_form(doc))
    assert response.status_code == 303, response.get_data(as_text=True)
    first, second = revisions(db, record)
    assert second.reason == "edited"
    assert second.snapshot == first.snapshot


def test_an_edit_replaces_values_and_labels_and_each_save_is_a_revision(client, db, login, community):
    user = login("contributor")
    assert client.post("/records/new", data=full_form(community.id)).status_code == 303
    record = record_by_title(db, "Lễ hội Lồng Tồng bản Cải")
    seasonal = next(label for label in record.labels if label.kind == "seasonal")
    seasonal.note = [{"lang": "vi", "value": "Chỉ xem trong tháng Giêng"}]  # the community's own words
    db.session.commit()
    url = f"/vi/records/{record.public_id}/edit"
    doc = page(client.get(url))
    changes = {
        "title-1-value": "Lồng Tồng festival",
        "labels": ["seasonal", "non_commercial"],
        "season_end_month": "2",
        "season_end_day": "15",
        "access_level": "public",
        "community": "",
        "places-0-text": "",
    }
    assert client.post(url, data=submit_form(doc, **changes)).status_code == 303
    db.session.expire_all()
    record = db.session.get(HeritageRecord, record.id)
    assert record.values("title")[1] == LangString("Lồng Tồng festival", "en")
    assert record.places == [] and record.access_level == "public" and record.community_id is None
    labels = {label.kind: label for label in record.labels}
    assert set(labels) == {"seasonal", "non_commercial"}
    assert (labels["seasonal"].end_month, labels["seasonal"].end_day) == (2, 15)
    assert labels["seasonal"].note == [{"lang": "vi", "value": "Chỉ xem trong tháng Giêng"}]
    doc = page(client.get(url))
    assert client.post(url, data=submit_form(doc, **{"summary-0-value": "Tóm tắt mới."})).status_code == 303
    numbers = [(r.number, r.reason, r.actor_id) for r in revisions(db, record)]
    assert numbers == [(1, "created", user.id), (2, "edited", user.id), (3, "edited", user.id)]
    assert revisions(db, record)[-1].snapshot["summary@vi"] == "Tóm tắt mới."


def test_a_stale_edit_is_refused_with_409_and_the_form_kept(client, db, login):
    login("contributor")
    assert (
        client.post("/records/new", data=form_data(**{"title-0-value": "Bản ghi hai người sửa"})).status_code
        == 303
    )
    record = record_by_title(db, "Bản ghi hai người sửa")
    url = f"/vi/records/{record.public_id}/edit"
    opened = page(client.get(url))  # two tabs open the same version
    first = client.post(url, data=submit_form(opened, **{"summary-0-value": "Lần sửa thứ nhất"}))
    assert first.status_code == 303
    changed = submit_form(opened, **{"summary-0-value": "Lần sửa thứ hai"})
    second = client.post(url.replace("/vi/", "/en/"), data=changed)
    assert second.status_code == 409
    html = second.get_data(as_text=True)
    assert "Someone else saved this record after you opened the form" in html
    doc = page(second)
    assert doc.get_element_by_id("summary-0-value").value == "Lần sửa thứ hai"  # what was typed is kept
    db.session.expire_all()
    record = db.session.get(HeritageRecord, record.id)
    assert record.values("summary") == [LangString("Lần sửa thứ nhất", "vi")]
    assert len(revisions(db, record)) == 2
    # Saving again from the re-shown form (it carries the current version) goes through.
    assert client.post(url, data=submit_form(doc)).status_code == 303


def test_a_failed_edit_changes_nothing(client, db, login):
    login("contributor")
    assert client.post("/records/new", data=form_data(**{"title-0-value": "Không đổi"})).status_code == 303
    record = record_by_title(db, "Không đổi")
    version = record.version_id
    url = f"/vi/records/{record.public_id}/edit"
    doc = page(client.get(url))
    bad = submit_form(doc, **{"title-0-value": "Đã đổi", "ethnic_groups-0-text": "Không có dân tộc này"})
    assert client.post(url, data=bad).status_code == 400
    db.session.expire_all()
    record = db.session.get(HeritageRecord, record.id)
    assert record.values("title") == [LangString("Không đổi", "vi")] and record.version_id == version
    assert len(revisions(db, record)) == 1


def test_who_may_edit_which_record(client, db, login, make_user, make_record):
    other = make_user("contributor")
    others_published = make_record(created_by=other, status="published", title="Của người khác")
    others_draft = make_record(created_by=other, status="draft")
    me = login("contributor")
    mine_draft = make_record(created_by=me, status="draft")
    mine_returned = make_record(created_by=me, status="returned")
    mine_submitted = make_record(created_by=me, status="in_review")
    mine_published = make_record(created_by=me, status="published")
    assert client.get(f"/vi/records/{mine_draft.public_id}/edit").status_code == 200
    assert client.get(f"/vi/records/{mine_returned.public_id}/edit").status_code == 200
    for record in (others_published, mine_submitted, mine_published):
        assert client.get(f"/vi/records/{record.public_id}/edit").status_code == 403
        doc = page(client.get(f"/vi/records/{mine_draft.public_id}/edit"))
        refused = client.post(f"/records/{record.public_id}/edit", data=submit_form(doc))
        assert refused.status_code == 403
    # Someone else's draft is hidden as it is on the record page; an unknown record is not found.
    assert client.get(f"/vi/records/{others_draft.public_id}/edit").status_code == 404
    assert client.get("/vi/records/doesnotexist/edit").status_code == 404
    db.session.expire_all()
    assert db.session.get(HeritageRecord, others_published.id).values("title") == [
        LangString("Của người khác", "vi")
    ]


def test_a_curator_edits_a_submitted_record(client, db, make_user, make_record, login):
    author = make_user("contributor")
    record = make_record(created_by=author, status="in_review")
    curator = login("curator")
    url = f"/vi/records/{record.public_id}/edit"
    doc = page(client.get(url))
    assert (
        client.post(url, data=submit_form(doc, **{"title-0-value": "Sửa bởi người duyệt"})).status_code == 303
    )
    db.session.expire_all()
    record = db.session.get(HeritageRecord, record.id)
    assert record.status == "in_review" and record.updated_by_id == curator.id
    assert record.created_by_id == author.id


# --- workflow buttons ----------------------------------------------------------------------------------


def test_submit_return_and_publish_through_the_workflow_buttons(client, db, login, make_user):
    contributor = login("contributor")
    assert client.post("/records/new", data=form_data(**{"title-0-value": "Lễ cúng bản"})).status_code == 303
    record = record_by_title(db, "Lễ cúng bản")
    edit = page(client.get(f"/en/records/{record.public_id}/edit", headers=EN))
    submit = edit.xpath(f'//form[contains(@action, "/records/{record.public_id}/workflow/submit")]')[0]
    assert submit.xpath(".//button")[0].text_content() == "Submit for review"
    assert client.post(f"/records/{record.public_id}/workflow/publish").status_code == 403
    response = client.post(
        f"/records/{record.public_id}/workflow/submit", data={"next": "/my/records"}, headers=EN
    )
    assert response.status_code == 303 and response.headers["Location"] == "/my/records"
    assert "was submitted for review" in client.get("/en/my/records", headers=EN).get_data(as_text=True)
    assert client.post(f"/records/{record.public_id}/workflow/submit").status_code == 409  # already submitted
    assert client.post(f"/records/{record.public_id}/workflow/explode").status_code == 400
    client.post("/logout")

    curator = make_user("curator")
    client.post("/login", data={"email": curator.email, "password": "correct horse battery"})
    refused = client.post(f"/records/{record.public_id}/workflow/return", data={"comment": " "}, headers=EN)
    assert refused.status_code == 400
    assert "Say why in a comment" in refused.get_data(as_text=True)
    returned = client.post(
        f"/records/{record.public_id}/workflow/return",
        data={"comment": "Thêm ngày tổ chức.", "next": "https://evil.example/"},
    )
    # Back to the page the button was on, never to another site.
    assert returned.status_code == 303
    assert returned.headers["Location"] in ("/vi/my/records", "/en/my/records")
    db.session.expire_all()
    record = db.session.get(HeritageRecord, record.id)
    assert record.status == "returned"
    event = db.session.scalar(
        sa.select(WorkflowEvent).where(WorkflowEvent.record_id == record.id).order_by(WorkflowEvent.id.desc())
    )
    assert (event.comment, event.actor_id) == ("Thêm ngày tổ chức.", curator.id)
    assert contributor.id == record.created_by_id
