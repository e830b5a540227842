"""Community groups, community-restricted records and media, seasonal labels and consent withdrawal:
what each person sees on pages and in search, and what is logged."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from archive.audit.models import AuditEvent
from archive.communities import services
from archive.communities.models import Community, CommunityMembership, ConsentRecord, CulturalLabel
from archive.core import access
from archive.core.extensions import db as _db
from archive.workflow.models import Notification
from metadata.lunar import to_lunar
from metadata.seasons import Season


def _word() -> str:
    return "zq" + uuid.uuid4().hex[:8]


@pytest.fixture
def community(db):
    group = Community(
        slug=f"ban-cai-{uuid.uuid4().hex[:6]}",
        name=[{"lang": "vi", "value": "Cộng đồng Tày bản Cải"}, {"lang": "en", "value": "Tày of Bản Cải"}],
        protocol_notice=[
            {"lang": "vi", "value": "Chỉ người trong bản được xem lễ cấp sắc."},
            {"lang": "en", "value": "Only villagers may watch the initiation rite."},
        ],
    )
    db.session.add(group)
    db.session.commit()
    return group


def _member(db, user, group):
    db.session.add(CommunityMembership(community_id=group.id, user_id=user.id))
    db.session.commit()


def _search_total(client, word: str) -> int:
    return client.get(f"/search.json?q={word}").get_json()["total"]


def _season_around(today: dt.date, inside: bool) -> CulturalLabel:
    lunar = to_lunar(today)
    if inside:
        start, end = (lunar.month, 1), (lunar.month, 30)
    else:
        other = lunar.month % 12 + 1 if lunar.month != 12 else 2
        start, end = (other, 1), (other, 2)
        if other == lunar.month:  # never happens, but make the test's premise explicit
            pytest.fail("could not build a season away from today")
    return CulturalLabel(kind="seasonal", season_calendar="lunar", start_month=start[0], start_day=start[1],
                         end_month=end[0], end_day=end[1])  # fmt: skip


def test_season_contains_wraps_round_the_new_year():
    tet_season = Season("lunar", 12, 20, 1, 15)
    # 2026-02-17 is Tết (lunar 1/1 of Bính Ngọ); 2026-01-07 is lunar 11/19; 2026-02-08 is lunar 12/21.
    assert tet_season.contains(dt.date(2026, 2, 17))
    assert tet_season.contains(dt.date(2026, 2, 8))
    assert not tet_season.contains(dt.date(2026, 1, 7))
    gregorian = Season("gregorian", 3, 1, 3, 31)
    assert gregorian.contains(dt.date(2027, 3, 31)) and not gregorian.contains(dt.date(2027, 4, 1))
    with pytest.raises(ValueError):
        Season("lunar", 13, 1, 1, 1)


def test_community_record_members_see_it_others_get_the_protocol_notice(
    app, db, client, make_record, make_user, community
):
    word = _word()
    record = make_record(title=f"Lễ cấp sắc {word}", access_level="community")
    record.community_id = community.id
    db.session.commit()

    # A visitor: the community's notice, not the content; nothing in search. (The URL without the slug:
    # the slug repeats words of the title, which a visitor who has the full link already knows.)
    response = client.get(f"/vi/records/{record.public_id}")
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert "Chỉ người trong bản được xem lễ cấp sắc." in body and word not in body
    assert client.get(f"/records/{record.public_id}/dc.xml").status_code == 403
    assert _search_total(client, word) == 0

    outsider = make_user("researcher")
    client.post("/login", data={"email": outsider.email, "password": "correct horse battery"})
    assert client.get(f"/vi/records/{record.public_id}/{record.slug}").status_code == 403
    assert _search_total(client, word) == 0
    client.post("/logout")

    member = make_user("researcher")
    _member(db, member, community)
    client.post("/login", data={"email": member.email, "password": "correct horse battery"})
    response = client.get(f"/vi/records/{record.public_id}/{record.slug}")
    assert response.status_code == 200 and word in response.get_data(as_text=True)
    assert word in client.get(f"/records/{record.public_id}/dc.xml").get_data(as_text=True)
    assert _search_total(client, word) == 1


def test_public_record_with_one_community_recording_shows_the_notice_in_its_place(
    app, db, client, make_record, make_user, community, tmp_path
):
    from archive.media.services import ingest_file
    from tests.media.samples import jpeg

    record = make_record(title=f"Hội {_word()}")
    path = jpeg(tmp_path / "secret.jpg", size=(64, 48), color=(10, 200, 30))
    media = ingest_file(record, path, "secret.jpg", None, access_level="community")
    media.community_id = community.id
    db.session.commit()

    page = client.get(f"/vi/records/{record.public_id}/{record.slug}").get_data(as_text=True)
    assert "Only villagers" in page or "Chỉ người trong bản" in page
    assert f"/media/{media.public_id}/file" not in page
    assert client.get(f"/media/{media.public_id}/file").status_code == 401
    assert client.get(f"/iiif/3/{media.public_id}/info.json").status_code == 401

    member = make_user("contributor")
    _member(db, member, community)
    client.post("/login", data={"email": member.email, "password": "correct horse battery"})
    response = client.get(f"/media/{media.public_id}/file")
    assert response.status_code == 200
    response.close()
    page = client.get(f"/vi/records/{record.public_id}/{record.slug}").get_data(as_text=True)
    assert f"/media/{media.public_id}/file" in page


def test_seasonal_record_is_hidden_out_of_season_and_shown_in_season(app, db, client, make_record):
    today = access.today_in_vietnam()
    out_word, in_word = _word(), _word()
    out_record = make_record(title=f"Mo Mường {out_word}")
    out_record.labels.append(_season_around(today, inside=False))
    in_record = make_record(title=f"Then Tày {in_word}")
    in_record.labels.append(_season_around(today, inside=True))
    db.session.commit()

    response = client.get(f"/vi/records/{out_record.public_id}")
    assert response.status_code == 403
    assert "lunar month" in response.get_data(as_text=True) or "tháng" in response.get_data(as_text=True)
    assert out_word not in response.get_data(as_text=True)
    assert _search_total(client, out_word) == 0
    assert out_record.id in access.withheld_from_visitors()

    response = client.get(f"/vi/records/{in_record.public_id}/{in_record.slug}")
    assert response.status_code == 200 and in_word in response.get_data(as_text=True)
    assert _search_total(client, in_word) == 1

    # The same label is judged by date: the day after the season, the in-season record is withheld too.
    label = in_record.labels[0]
    season = access.season_of(label)
    later = today
    while season.contains(later):
        later += dt.timedelta(days=1)
    assert access.can_view_record(in_record, today=today)
    assert not access.can_view_record(in_record, today=later)


def test_withdrawing_consent_takes_the_record_out_of_view_at_once_and_is_logged(
    app, db, client, make_record, make_user, community
):
    word = _word()
    owner = make_user("contributor")
    curator = make_user("curator")
    record = make_record(title=f"Lễ {word}", created_by=owner)
    consent = services.add_consent(
        curator, record, given_by="Già làng Hoàng Văn A", uses=["display", "research"],
        given_on=dt.date(2025, 3, 1), community=community,
    )  # fmt: skip
    db.session.commit()
    assert client.get(f"/vi/records/{record.public_id}/{record.slug}").status_code == 200
    assert _search_total(client, word) == 1

    client.post("/login", data={"email": curator.email, "password": "correct horse battery"})
    response = client.post(
        f"/records/{record.public_id}/consent/{consent.id}/withdraw", data={"reason": "Gia đình yêu cầu"}
    )
    assert response.status_code == 303
    client.post("/logout")

    assert client.get(f"/vi/records/{record.public_id}/{record.slug}").status_code == 404
    assert _search_total(client, word) == 0
    assert client.get(f"/records/{record.public_id}/record.jsonld").status_code == 404
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "consent_withdrawn")).all()
    assert any("Gia đình yêu cầu" in e.summary for e in events)
    assert db.session.scalar(
        select(Notification).where(Notification.user_id == owner.id, Notification.kind == "consent_withdrawn")
    )
    # The owner and the staff still see it; withdrawing twice is refused.
    client.post("/login", data={"email": owner.email, "password": "correct horse battery"})
    assert client.get(f"/vi/records/{record.public_id}/{record.slug}").status_code == 200
    response = client.post(f"/records/{record.public_id}/consent/{consent.id}/withdraw", data={"reason": "x"})
    assert response.status_code == 409


def test_lapsed_consent_withholds_and_bad_consent_input_is_refused(app, db, client, make_record, make_user):
    curator = make_user("curator")
    record = make_record(title=f"Lễ {_word()}")
    lapsed = ConsentRecord(record_id=record.id, given_by="Ông B", on_behalf_of="Bản Lác", uses=["display"],
                           given_on=dt.date(2020, 1, 1), valid_until=dt.date(2021, 1, 1))  # fmt: skip
    db.session.add(lapsed)
    db.session.commit()
    assert client.get(f"/vi/records/{record.public_id}/{record.slug}").status_code == 404

    client.post("/login", data={"email": curator.email, "password": "correct horse battery"})
    before = _db.session.scalar(select(_db.func.count()).select_from(ConsentRecord))
    for data, message in (
        ({"given_by": "", "uses": ["display"], "given_on": "2025-01-01", "on_behalf_of": "x"}, "Say who"),
        ({"given_by": "A", "uses": [], "given_on": "2025-01-01", "on_behalf_of": "x"}, "at least one use"),
        ({"given_by": "A", "uses": ["display"], "given_on": "01/02/2025", "on_behalf_of": "x"}, "YYYY-MM-DD"),
        ({"given_by": "A", "uses": ["display"], "given_on": "2025-01-01"}, "on whose behalf"),
        (
            {
                "given_by": "A",
                "uses": ["display"],
                "given_on": "2025-01-02",
                "valid_until": "2025-01-01",
                "on_behalf_of": "x",
            },  # fmt: skip
            "cannot be before",
        ),
    ):
        response = client.post(
            f"/en/records/{record.public_id}/consent", data=data, headers={"Accept-Language": "en"}
        )
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True)
    assert _db.session.scalar(select(_db.func.count()).select_from(ConsentRecord)) == before


def test_only_administrators_manage_communities_and_members_gain_access(
    app, db, client, make_user, make_record
):
    client.post("/login", data={"email": make_user("curator").email, "password": "correct horse battery"})
    assert client.get("/vi/admin/communities").status_code == 403
    client.post("/logout")
    admin = make_user("administrator")
    client.post("/login", data={"email": admin.email, "password": "correct horse battery"})
    response = client.post(
        "/admin/communities",
        data={"name_vi": "Dòng họ Lò bản Lác", "notice_vi": "Chỉ con cháu dòng họ được xem."},
    )
    assert response.status_code == 303
    group = _db.session.scalar(select(Community).where(Community.slug == "dong-ho-lo-ban-lac"))
    assert group is not None and group.notice_values[0].value == "Chỉ con cháu dòng họ được xem."
    assert client.post("/admin/communities", data={"name_vi": ""}).status_code == 400

    researcher = make_user("researcher")
    response = client.post(
        f"/admin/communities/{group.slug}", data={"action": "add", "email": researcher.email}
    )
    assert response.status_code == 303
    assert access.community_ids(researcher.id) == frozenset({group.id})
    assert (
        client.post(
            f"/admin/communities/{group.slug}", data={"action": "add", "email": "nobody@example.vn"}
        ).status_code
        == 404
    )
    assert _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "member_added"))
    viewer = access.search_viewer(researcher)
    assert f"community:{group.id}" in viewer.levels and "researchers" in viewer.levels
