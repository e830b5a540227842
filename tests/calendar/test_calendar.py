"""The festival calendar: occurrences from lunar and Gregorian timings, the page, its filters, the
iCalendar feed, and the access rule (hidden records never appear)."""

from __future__ import annotations

import datetime as dt
import uuid

import icalendar
import pytest
from lxml import html as lxml_html
from sqlalchemy import event

from archive.calendar import services
from archive.core.access import today_in_vietnam
from metadata.languages import LangString
from metadata.lunar import LunarDay
from metadata.model import Timing

TET = Timing("lunar", 1, 1)


@pytest.fixture
def festival(make_record):
    """Factory: a published, public festival of the Tày in Bắc Kạn (before 2025) with one timing."""

    def factory(timing: Timing, **overrides):
        token = uuid.uuid4().hex[:6]
        vi, en = f"Lễ hội lịch {token}", f"Calendar festival {token}"
        overrides.setdefault("texts", {"title": [LangString(vi, "vi"), LangString(en, "en")]})
        record = make_record(timings=[timing], **overrides)
        record.test_titles = (vi, en)
        return record

    return factory


def _mine(occurrences, record):
    return [o for o in occurrences if o.record.id == record.id]


def _section_text(page: str, section_id: str) -> str:
    tree = lxml_html.fromstring(page)
    heading = tree.get_element_by_id(section_id)
    return " ".join(heading.getparent().text_content().split())


def _today_festival(festival):
    """A Gregorian festival on today's date in Vietnam (the 28th at most, so that every year has it)."""
    today = today_in_vietnam()
    day = min(today.day, 28)
    return festival(Timing("gregorian", today.month, day)), dt.date(today.year, today.month, day)


# --- occurrences ----------------------------------------------------------------------------------


def test_lunar_new_year_falls_on_the_known_gregorian_dates(app, festival):
    record = festival(TET)
    mine = _mine(services.festival_occurrences((2026, 2027)), record)
    assert [(o.first, o.last) for o in mine] == [
        (dt.date(2026, 2, 17), dt.date(2026, 2, 17)),
        (dt.date(2027, 2, 6), dt.date(2027, 2, 6)),
    ]
    assert mine[0].lunar == LunarDay(2026, 1, 1, False)
    assert mine[1].lunar == LunarDay(2027, 1, 1, False)


def test_multi_day_lunar_festival_spans_its_days(app, festival):
    record = festival(Timing("lunar", 1, 8, duration_days=3))
    mine = _mine(services.festival_occurrences((2026, 2027)), record)
    assert [(o.first, o.last, o.days) for o in mine] == [
        (dt.date(2026, 2, 24), dt.date(2026, 2, 26), 3),
        (dt.date(2027, 2, 13), dt.date(2027, 2, 15), 3),
    ]


def test_gregorian_festival_keeps_its_date_and_gets_its_lunar_date(app, festival):
    record = festival(Timing("gregorian", 9, 2, duration_days=2))
    mine = _mine(services.festival_occurrences((2026, 2027)), record)
    assert [(o.first, o.last) for o in mine] == [
        (dt.date(2026, 9, 2), dt.date(2026, 9, 3)),
        (dt.date(2027, 9, 2), dt.date(2027, 9, 3)),
    ]
    # Vu Lan (15th day of the 7th lunar month) falls on 27 August 2026, so 2 September is the 21st.
    assert (mine[0].lunar.month, mine[0].lunar.day, mine[0].lunar.leap) == (7, 21, False)


def test_a_lunar_date_can_fall_twice_in_one_gregorian_year(app, festival):
    record = festival(Timing("lunar", 12, 1))
    mine = _mine(services.festival_occurrences((2027,)), record)
    assert [o.first for o in mine] == [dt.date(2027, 1, 8), dt.date(2027, 12, 28)]
    assert [o.uid_stem for o in mine] == [f"{record.public_id}-2027-0", f"{record.public_id}-2027-0-2"]


def test_lunar_dates_in_words_in_english(app):
    from flask_babel import refresh

    with app.test_request_context("/calendar", headers={"Accept-Language": "en"}):
        refresh()
        assert services.lunar_day_words(LunarDay(2026, 1, 15)) == "15th day of the 1st lunar month"
        assert services.lunar_day_words(LunarDay(2026, 3, 22)) == "22nd day of the 3rd lunar month"
        assert services.lunar_day_words(LunarDay(2028, 5, 11, True)) == "11th day of the leap 5th lunar month"


def test_the_visible_records_are_read_with_one_query_per_request(app, client, festival):
    festival(TET)
    statements: list[str] = []

    def remember(conn, cursor, statement, *args):
        statements.append(statement)

    from archive.core.extensions import db

    engine = db.engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        for url in ("/en/calendar?group=tay", "/calendar.ics"):
            statements.clear()
            assert client.get(url).status_code == 200
            main = [
                s for s in statements if s.startswith("SELECT heritage_record.id") and "festival_timing" in s
            ]
            assert len(main) == 1, url
    finally:
        event.remove(engine, "before_cursor_execute", remember)


# --- the page -------------------------------------------------------------------------------------


def test_page_in_english_shows_this_month_upcoming_and_the_year(client, festival):
    record, day = _today_festival(festival)
    _vi, en = record.test_titles
    page = client.get("/en/calendar").get_data(as_text=True)
    for section in ("this-month", "upcoming", "period"):
        assert en in _section_text(page, section), section
    assert f'<time datetime="{day.isoformat()}">' in page
    assert day.strftime("%B") in _section_text(page, "this-month")
    assert "Lunar calendar: " in page and "lunar month" in page
    assert "Vietnam's time zone (UTC+7)" in page
    assert f"/en/records/{record.public_id}/{record.slug}" in page
    assert "Bắc Kạn" in _section_text(page, "this-month")


def test_page_in_vietnamese_shows_vietnamese_dates_and_titles(client, festival):
    record, day = _today_festival(festival)
    vi, en = record.test_titles
    response = client.get("/vi/calendar")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="vi">' in page
    this_month = _section_text(page, "this-month")
    assert vi in this_month and en not in this_month
    assert f"{day.day} tháng {day.month}, {day.year}" in this_month
    assert f"/vi/records/{record.public_id}/{record.slug}" in page


def test_year_view_lists_a_lunar_festival_under_its_month(client, festival):
    record = festival(TET)
    _vi, en = record.test_titles
    year = today_in_vietnam().year + 1
    first = services.festival_occurrences((year,))
    first = _mine(first, record)[0].first
    page = client.get(f"/en/calendar?year={year}").get_data(as_text=True)
    month = _section_text(page, f"month-{first.month}")
    assert en in month and "1st day of the 1st lunar month" in month
    assert f'<time datetime="{first.isoformat()}">' in page
    other = 3 if first.month != 3 else 4
    assert en not in _section_text(page, f"month-{other}")


def test_month_focus_and_navigation(client, festival):
    record = festival(TET)
    _vi, en = record.test_titles
    year = today_in_vietnam().year + 1
    first = _mine(services.festival_occurrences((year,)), record)[0].first
    page = client.get(f"/en/calendar?year={year}&month={first.month}").get_data(as_text=True)
    assert en in _section_text(page, "period")
    assert "this-month" not in page  # the focused month replaces the overview sections
    tree = lxml_html.fromstring(page)
    prev_links = [a.get("href") for a in tree.xpath('//nav[@class="calendar-nav"]//a[@rel="prev"]')]
    assert f"/en/calendar?year={year}&month={first.month - 1}" in prev_links
    # The last month of the next year has no "next" link: the calendar ends there.
    end = client.get(f"/en/calendar?year={year}&month=12").get_data(as_text=True)
    assert 'rel="next"' not in end and 'rel="prev"' in end


def test_empty_month_says_so(client, festival):
    year = today_in_vietnam().year + 1
    page = client.get(f"/en/calendar?year={year}&month=2&group=ngai").get_data(as_text=True)
    assert "No festival in the archive is held in this month." in page


# --- filters --------------------------------------------------------------------------------------


def test_filter_by_ethnic_group(client, festival):
    tay, _day = _today_festival(festival)
    hmong = festival(Timing("gregorian", _day.month, _day.day), ethnic_groups=["hmong"])
    page = client.get("/en/calendar?group=tay").get_data(as_text=True)
    assert tay.test_titles[1] in page and hmong.test_titles[1] not in page
    assert "Showing the festivals of the Tay." in page
    page = client.get("/en/calendar?group=hmong").get_data(as_text=True)
    assert hmong.test_titles[1] in page and tay.test_titles[1] not in page
    everything = client.get("/en/calendar?group=").get_data(as_text=True)
    assert tay.test_titles[1] in everything and hmong.test_titles[1] in everything


def test_filter_by_province_old_or_new_code(app, client, festival):
    from archive.vocab.services import find_place

    record, day = _today_festival(festival)  # catalogued in Bắc Kạn (pre2025-p06), today in Thái Nguyên
    elsewhere = festival(Timing("gregorian", day.month, day.day), places=["pre2025-p01"])
    current = find_place("pre2025-p06").current_province
    for code in ("pre2025-p06", current.code):
        page = client.get(f"/en/calendar?province={code}").get_data(as_text=True)
        assert record.test_titles[1] in page, code
        assert elsewhere.test_titles[1] not in page, code
    # The select lists today's provinces.
    assert f'<option value="{current.code}"' in client.get("/en/calendar").get_data(as_text=True)


@pytest.mark.parametrize(
    "query, status, message",
    [
        ("group=not-a-group", 400, "There is no ethnic group"),
        ("province=nowhere", 400, "There is no province with the code"),
        ("province=pre2025-d058", 400, "There is no province with the code"),  # a district, not a province
        ("year=abc", 400, "The year must be a number"),
        ("year=-1", 400, "The year must be a number"),
        ("year=1999", 404, "The calendar covers"),
        ("month=13", 400, "The month must be a number from 1 to 12."),
        ("month=0", 400, "The month must be a number from 1 to 12."),
        ("month=May", 400, "The month must be a number from 1 to 12."),
    ],
)
def test_bad_parameters_are_refused_with_a_message(client, query, status, message):
    response = client.get(f"/en/calendar?{query}")
    assert response.status_code == status
    assert message in response.get_data(as_text=True)


def test_both_years_are_served(client):
    year = today_in_vietnam().year
    assert client.get(f"/en/calendar?year={year}").status_code == 200
    assert client.get(f"/en/calendar?year={year + 1}&month=1").status_code == 200
    assert client.get(f"/en/calendar?year={year + 2}").status_code == 404


def test_page_links_to_the_feed(client):
    page = client.get("/en/calendar?group=tay").get_data(as_text=True)
    assert "Subscribe: copy this link into your calendar app" in page
    assert 'value="http://archive.test/calendar.ics?lang=en&amp;group=tay"' in page
    assert 'href="webcal://archive.test/calendar.ics?lang=en&amp;group=tay"' in page


# --- the iCalendar feed ---------------------------------------------------------------------------


def _events(response) -> list:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.data)
    assert calendar.name == "VCALENDAR"
    return calendar, list(calendar.walk("VEVENT"))


def test_feed_is_valid_icalendar_with_the_events(client, festival):
    record = festival(Timing("lunar", 1, 8, duration_days=3))
    _vi, en = record.test_titles
    calendar, events = _events(client.get("/calendar.ics?lang=en"))
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-TIMEZONE"]) == "Asia/Ho_Chi_Minh"
    assert calendar["PRODID"] and calendar["X-WR-CALNAME"]
    mine = [e for e in events if str(e["UID"]).startswith(record.public_id + "-")]
    years = services.calendar_years(today_in_vietnam())
    expected = _mine(services.festival_occurrences(years), record)
    assert [str(e["UID"]) for e in mine] == [
        f"{record.public_id}-{o.first.year}-0@archive.test" for o in expected
    ]
    for event_, occurrence in zip(mine, expected, strict=True):
        assert event_.decoded("DTSTART") == occurrence.first
        assert event_["DTSTART"].params.get("VALUE") == "DATE"
        assert event_.decoded("DTEND") == occurrence.first + dt.timedelta(days=3)  # exclusive end
        assert str(event_["SUMMARY"]) == en
        assert str(event_["URL"]) == f"http://archive.test/en/records/{record.public_id}/{record.slug}"
        assert "8th day of the 1st lunar month" in str(event_["DESCRIPTION"])
        assert "Bắc Kạn" in str(event_["LOCATION"])
        assert [str(c) for c in event_["CATEGORIES"].cats] == ["Tay"]
        assert event_.decoded("DTSTAMP").tzinfo is not None
    # Every UID in the feed is unique.
    uids = [str(e["UID"]) for e in events]
    assert len(uids) == len(set(uids))


def test_feed_in_vietnamese_and_its_filters(client, festival):
    record = festival(TET)
    vi, _en = record.test_titles
    _calendar, events = _events(client.get("/calendar.ics"))
    mine = [e for e in events if str(e["UID"]).startswith(record.public_id + "-")]
    assert mine and all(str(e["SUMMARY"]) == vi for e in mine)
    assert all(str(e["URL"]).startswith("http://archive.test/vi/records/") for e in mine)
    assert [str(c) for c in mine[0]["CATEGORIES"].cats] == ["Tày"]
    _calendar, events = _events(client.get("/calendar.ics?group=hmong"))
    assert not [e for e in events if str(e["UID"]).startswith(record.public_id + "-")]
    _calendar, events = _events(client.get("/calendar.ics?group=tay&province=pre2025-p06"))
    assert [e for e in events if str(e["UID"]).startswith(record.public_id + "-")]


@pytest.mark.parametrize("query", ["lang=fr", "group=nobody", "province=nowhere"])
def test_feed_refuses_bad_parameters(client, query):
    response = client.get(f"/calendar.ics?{query}")
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.get_data(as_text=True).strip()


def test_feed_lines_are_folded_at_75_octets(client, festival):
    long_title = "Lễ hội " + "Lồng Tồng " * 20
    festival(TET, texts={"title": [LangString(long_title, "vi")]})
    body = client.get("/calendar.ics").data
    assert b"\r\n" in body
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))


# --- access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"access_level": "private"},
        {"access_level": "community"},
        {"access_level": "researchers"},
        {"status": "draft"},
        {"status": "in_review"},
    ],
    ids=["private", "community", "researchers", "draft", "in_review"],
)
def test_hidden_records_never_appear(client, festival, overrides):
    today = today_in_vietnam()
    hidden = festival(Timing("gregorian", today.month, min(today.day, 28)), **overrides)
    vi, en = hidden.test_titles
    for url in ("/en/calendar", "/vi/calendar", f"/en/calendar?year={today.year + 1}"):
        page = client.get(url).get_data(as_text=True)
        assert en not in page and vi not in page and hidden.public_id not in page, url
    for url in ("/calendar.ics", "/calendar.ics?lang=en", "/calendar.ics?group=tay"):
        body = client.get(url).get_data(as_text=True)
        assert en not in body and vi not in body and hidden.public_id not in body, url
