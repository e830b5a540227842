"""Festival timing in the Vietnamese lunar calendar.

The Vietnamese lunar calendar is computed for the meridian of UTC+7; the Chinese one for UTC+8.
New moons that fall between 23:00 and 24:00 UTC+7 therefore start a month one day earlier in
Vietnam, which moved Tết in 1985 (21 Jan in Vietnam, 20 Feb in China) and 2007 (17 Feb vs 18 Feb).
Conversion uses Hồ Ngọc Đức's astronomical algorithm as packaged by ``lunar-vn``, with time zone 7.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lunar_vn import convert_lunar_to_solar, convert_solar_to_lunar

VIETNAM_TIME_ZONE = 7.0
SUPPORTED_YEARS = (1900, 2099)

_MONTH_NAMES_VI = {
    1: "Giêng",
    2: "Hai",
    3: "Ba",
    4: "Tư",
    5: "Năm",
    6: "Sáu",
    7: "Bảy",
    8: "Tám",
    9: "Chín",
    10: "Mười",
    11: "Một",
    12: "Chạp",
}


class LunarDateError(ValueError):
    """A lunar month/day that is not valid, or a year outside the supported range."""


@dataclass(frozen=True)
class LunarDay:
    """One day of the Vietnamese lunar calendar."""

    year: int
    month: int
    day: int
    leap: bool = False


def to_lunar(date: dt.date) -> LunarDay:
    """Convert a Gregorian date to the Vietnamese lunar calendar (UTC+7)."""
    _check_year(date.year)
    result = convert_solar_to_lunar(date.day, date.month, date.year, VIETNAM_TIME_ZONE)
    return LunarDay(result.year, result.month, result.day, bool(result.leap))


def month_start(year: int, month: int, leap: bool = False) -> dt.date | None:
    """Gregorian date of the first day of a lunar month, or None if that (leap) month does not exist."""
    _check_year(year)
    try:
        start = convert_lunar_to_solar(1, month, year, 1 if leap else 0, VIETNAM_TIME_ZONE)
    except ValueError:
        # lunar-vn refuses a leap flag for a month that is not the year's leap month.
        return None
    back = to_lunar(start)
    if (back.year, back.month, back.day, back.leap) != (year, month, 1, leap):
        return None
    return start


def month_length(year: int, month: int, leap: bool = False) -> int:
    """Number of days (29 or 30) in a lunar month."""
    start = month_start(year, month, leap)
    if start is None:
        raise LunarDateError(f"lunar month {month}{' (leap)' if leap else ''} does not exist in {year}")
    return 30 if to_lunar(start + dt.timedelta(days=29)).day == 30 else 29


def leap_month(year: int) -> int | None:
    """The leap month of a lunar year, or None in a common year."""
    for month in range(1, 13):
        if month_start(year, month, True) is not None:
            return month
    return None


def to_gregorian(year: int, month: int, day: int, leap: bool = False) -> dt.date:
    """Convert an exact lunar date to Gregorian; raises LunarDateError if it does not exist."""
    if not 1 <= month <= 12 or not 1 <= day <= 30:
        raise LunarDateError(f"invalid lunar date {day}/{month}")
    start = month_start(year, month, leap)
    if start is None:
        raise LunarDateError(f"lunar month {month} of {year} has no leap month")
    if day > month_length(year, month, leap):
        raise LunarDateError(f"lunar month {month} of {year} has only 29 days")
    return start + dt.timedelta(days=day - 1)


@dataclass(frozen=True)
class LunarRecurrence:
    """A yearly festival date in the lunar calendar, e.g. the 8th day of the first month, 3 days.

    ``day`` may be None for festivals held in a known lunar month on a day chosen each year (by the
    ritual master or the village): the occurrence is then the whole month.

    Rules for years where the date does not exist as written, as practised in Vietnam:
    a leap-month festival is held in the regular month when the year has no such leap month, and
    the 30th of a 29-day month is held on its last day (29th).
    """

    month: int
    day: int | None
    leap: bool = False
    duration_days: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise LunarDateError(f"lunar month must be 1-12, got {self.month}")
        if self.day is not None and not 1 <= self.day <= 30:
            raise LunarDateError(f"lunar day must be 1-30, got {self.day}")
        if not 1 <= self.duration_days <= 60:
            raise LunarDateError(f"duration must be 1-60 days, got {self.duration_days}")

    def start_in_lunar_year(self, year: int) -> dt.date:
        """Gregorian start date of the festival in lunar year *year*."""
        leap = self.leap and month_start(year, self.month, True) is not None
        day = min(self.day or 1, month_length(year, self.month, leap))
        return to_gregorian(year, self.month, day, leap)

    def dates_in_lunar_year(self, year: int) -> tuple[dt.date, dt.date]:
        """(first day, last day) of the festival in lunar year *year* (the whole month if no day is set)."""
        start = self.start_in_lunar_year(year)
        if self.day is None:
            leap = self.leap and month_start(year, self.month, True) is not None
            return start, start + dt.timedelta(days=month_length(year, self.month, leap) - 1)
        return start, start + dt.timedelta(days=self.duration_days - 1)

    def occurrences_in_gregorian_year(self, year: int) -> list[tuple[dt.date, dt.date]]:
        """Every (first, last) day range that starts in Gregorian *year* (a lunar year straddles two)."""
        out = []
        for lunar_year in (year - 1, year):
            if SUPPORTED_YEARS[0] <= lunar_year <= SUPPORTED_YEARS[1]:
                first, last = self.dates_in_lunar_year(lunar_year)
                if first.year == year:
                    out.append((first, last))
        return out

    def next_occurrence(self, after: dt.date) -> tuple[dt.date, dt.date]:
        """The first occurrence whose last day is on or after *after*."""
        for lunar_year in (after.year - 1, after.year, after.year + 1):
            first, last = self.dates_in_lunar_year(lunar_year)
            if last >= after:
                return first, last
        raise LunarDateError("no occurrence found")  # pragma: no cover - a year always has one

    def describe(self, lang: str) -> str:
        """Readable form: 'mùng 8 tháng Giêng' (vi), '8th day of the 1st lunar month' (en)."""
        month_vi = f"tháng {_MONTH_NAMES_VI[self.month]}" + (" nhuận" if self.leap else "")
        leap_en = "leap " if self.leap else ""
        if self.day is None:
            if lang.split("-")[0] == "vi":
                return f"{month_vi} (âm lịch), ngày được chọn mỗi năm"
            return f"in the {leap_en}{_ordinal(self.month)} lunar month, on a day chosen each year"
        if lang.split("-")[0] == "vi":
            if self.day <= 10:
                day = f"mùng {self.day}"
            elif self.day == 15:
                day = "rằm"
            else:
                day = f"ngày {self.day}"
            text = f"{day} {month_vi} (âm lịch)"
            if self.duration_days > 1:
                text += f", {self.duration_days} ngày"
            return text
        text = f"{_ordinal(self.day)} day of the {leap_en}{_ordinal(self.month)} lunar month"
        if self.duration_days > 1:
            text += f", {self.duration_days} days"
        return text


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def lunar_month_name(month: int, lang: str) -> str:
    """The traditional name of a lunar month: 'tháng Giêng', 'tháng Chạp' (vi); '1st lunar month' (en)."""
    if lang == "vi":
        return f"tháng {_MONTH_NAMES_VI[month]}"
    return f"{_ordinal(month)} lunar month"


def _check_year(year: int) -> None:
    if not SUPPORTED_YEARS[0] <= year <= SUPPORTED_YEARS[1]:
        raise LunarDateError(f"year {year} is outside {SUPPORTED_YEARS[0]}-{SUPPORTED_YEARS[1]}")
