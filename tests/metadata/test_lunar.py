"""The Vietnamese lunar calendar (UTC+7) and festival recurrences."""

import datetime as dt

import lunardate
import pytest

from metadata.lunar import LunarDateError, LunarRecurrence, leap_month, month_length, to_gregorian, to_lunar


@pytest.mark.parametrize(
    ("year", "vietnam", "china"),
    [(1985, dt.date(1985, 1, 21), dt.date(1985, 2, 20)), (2007, dt.date(2007, 2, 17), dt.date(2007, 2, 18))],
)
def test_tet_differs_from_the_chinese_calendar(year, vietnam, china):
    """In 1985 and 2007 the two calendars put New Year on different days; we follow Vietnam's."""
    assert LunarRecurrence(1, 1).start_in_lunar_year(year) == vietnam
    assert lunardate.LunarDate(year, 1, 1).to_solar_date() == china
    assert to_lunar(vietnam).month == 1 and to_lunar(vietnam).day == 1


@pytest.mark.parametrize(
    ("year", "tet"),
    [
        (2020, dt.date(2020, 1, 25)),
        (2024, dt.date(2024, 2, 10)),
        (2025, dt.date(2025, 1, 29)),
        (2026, dt.date(2026, 2, 17)),
    ],
)
def test_known_tet_dates(year, tet):
    assert to_gregorian(year, 1, 1) == tet


def test_leap_months():
    assert leap_month(2023) == 2
    assert leap_month(2025) == 6
    assert leap_month(2026) is None
    assert to_gregorian(2025, 6, 1, leap=True) == dt.date(2025, 7, 25)
    with pytest.raises(LunarDateError):
        to_gregorian(2026, 6, 1, leap=True)


def test_leap_recurrence_falls_back_to_the_regular_month():
    recurrence = LunarRecurrence(6, 1, leap=True)
    assert recurrence.start_in_lunar_year(2025) == dt.date(2025, 7, 25)  # the leap 6th month
    assert recurrence.start_in_lunar_year(2026) == to_gregorian(2026, 6, 1)


def test_thirtieth_of_a_short_month_is_its_last_day():
    assert month_length(2025, 12) == 29
    assert LunarRecurrence(12, 30).start_in_lunar_year(2025) == dt.date(2026, 2, 16)
    with pytest.raises(LunarDateError):
        to_gregorian(2025, 12, 30)


def test_duration_and_occurrences_in_a_gregorian_year():
    long_tong = LunarRecurrence(1, 8, duration_days=3)
    assert long_tong.dates_in_lunar_year(2026) == (dt.date(2026, 2, 24), dt.date(2026, 2, 26))
    # Ông Táo (23rd of the 12th month) of lunar 2025 falls in Gregorian 2026.
    assert LunarRecurrence(12, 23).occurrences_in_gregorian_year(2026) == [(dt.date(2026, 2, 10),) * 2]
    assert LunarRecurrence(1, 15).next_occurrence(dt.date(2026, 3, 10))[0] == dt.date(2027, 2, 20)


def test_descriptions_in_both_languages():
    assert LunarRecurrence(1, 8).describe("vi") == "mùng 8 tháng Giêng (âm lịch)"
    assert LunarRecurrence(10, 15, duration_days=3).describe("vi") == "rằm tháng Mười (âm lịch), 3 ngày"
    assert LunarRecurrence(4, 1, leap=True).describe("vi") == "mùng 1 tháng Tư nhuận (âm lịch)"
    assert LunarRecurrence(12, 23).describe("en") == "23rd day of the 12th lunar month"


def test_invalid_recurrences_are_refused():
    for args in ((13, 1), (0, 1), (1, 31), (1, 0)):
        with pytest.raises(LunarDateError):
            LunarRecurrence(*args)
    with pytest.raises(LunarDateError):
        LunarRecurrence(1, 1, duration_days=0)
    with pytest.raises(LunarDateError):
        to_lunar(dt.date(1800, 1, 1))


def test_month_only_recurrence_covers_the_whole_month():
    """'Held in the first lunar month, on a day the village chooses': the occurrence is that month."""
    recurrence = LunarRecurrence(1, None)
    first, last = recurrence.dates_in_lunar_year(2026)
    assert first == dt.date(2026, 2, 17)
    assert (last - first).days + 1 == month_length(2026, 1)
    assert to_lunar(last + dt.timedelta(days=1)).month == 2
    assert recurrence.describe("vi") == "tháng Giêng (âm lịch), ngày được chọn mỗi năm"
    assert recurrence.describe("en") == "in the 1st lunar month, on a day chosen each year"
