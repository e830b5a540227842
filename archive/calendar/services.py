"""Festival occurrences for the calendar page and feed, computed from the timings of visible records.

Only records that any visitor may see today are used (:func:`archive.records.services.public_records`,
the same rule as the home page's "Upcoming festivals"): the calendar page and the subscribed feed are
the same for everyone, so a private, community, unpublished or seasonal-out-of-season record never
shows, not even as a date. The visible records are read with one query per request; the group and
province filters are applied to the loaded records.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from archive.core.extensions import db
from archive.records.models import FestivalTiming, HeritageRecord
from archive.records.services import public_records
from archive.vocab.models import EthnicGroup, Place
from metadata.languages import pick_value
from metadata.lunar import LunarDateError, LunarDay, to_lunar
from metadata.text import fold

logger = logging.getLogger(__name__)

#: How far ahead the "Upcoming" section looks.
UPCOMING_DAYS = 60


class CalendarError(Exception):
    """A user-caused problem with the calendar's parameters; ``message`` is translated."""

    def __init__(self, code: str, message: str):
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of a festival: its first and last Gregorian days, and the lunar date of the first."""

    record: HeritageRecord
    first: dt.date
    last: dt.date
    lunar: LunarDay
    timing: FestivalTiming
    #: Position of the timing among the record's timings (0-based), part of the feed's UID.
    timing_index: int
    #: 1 for the first occurrence of this timing that starts in its Gregorian year, 2 for a second one
    #: (a lunar date early in the 12th month can fall twice in one Gregorian year, e.g. in 2027).
    nth_in_year: int = 1

    @property
    def day_chosen(self) -> bool:
        """True for a festival held on a day chosen each year: first-last is then the month it is held in."""
        return self.timing.day is None

    @property
    def days(self) -> int:
        """Number of days the festival lasts."""
        return (self.last - self.first).days + 1

    def overlaps(self, start: dt.date, end: dt.date) -> bool:
        """True when the festival is held on at least one day from *start* to *end* (inclusive)."""
        return self.first <= end and self.last >= start

    @property
    def uid_stem(self) -> str:
        """A stable identifier: record public id, Gregorian year and timing index (plus the rank when a
        timing falls twice in one year)."""
        stem = f"{self.record.public_id}-{self.first.year}-{self.timing_index}"
        return stem if self.nth_in_year == 1 else f"{stem}-{self.nth_in_year}"


def calendar_years(today: dt.date) -> tuple[int, int]:
    """The Gregorian years the calendar covers: the current one (in Vietnam) and the next."""
    return today.year, today.year + 1


def _visible_festival_records() -> list[HeritageRecord]:
    """Records any visitor may see today that have at least one timing (one query, eager loads)."""
    stmt = (
        public_records()
        .where(HeritageRecord.timings.any())
        .options(
            selectinload(HeritageRecord.texts),
            selectinload(HeritageRecord.timings),
            selectinload(HeritageRecord.ethnic_groups),
            selectinload(HeritageRecord.places).selectinload(Place.parent),
            selectinload(HeritageRecord.places).selectinload(Place.current_province),
        )
    )
    return list(db.session.scalars(stmt))


def festival_occurrences(years: Iterable[int]) -> list[Occurrence]:
    """Every occurrence that starts in one of *years*, of every visible record, by date then title."""
    years = sorted(set(years))
    out: list[Occurrence] = []
    for record in _visible_festival_records():
        for index, timing in enumerate(record.timings):
            for year in years:
                try:
                    ranges = timing.dates_in_year(year)
                except (LunarDateError, ValueError):
                    # A Gregorian 29 February in a common year, or a date outside the supported range.
                    logger.info("timing %s of record %s has no date in %s", index, record.public_id, year)
                    continue
                for nth, (first, last) in enumerate(sorted(ranges), start=1):
                    out.append(Occurrence(record, first, last, to_lunar(first), timing, index, nth))
    out.sort(key=lambda o: (o.first, o.last, o.record.slug, o.timing_index))
    return out


# --- filters --------------------------------------------------------------------------------------


def find_group(slug: str) -> EthnicGroup:
    """The ethnic group with this slug; raises CalendarError when there is none."""
    group = db.session.scalar(select(EthnicGroup).where(EthnicGroup.slug == slug))
    if group is None:
        raise CalendarError(
            "unknown_group", _('There is no ethnic group "%(value)s" in the archive.', value=slug)
        )
    return group


def find_province(code: str) -> Place:
    """The province (before or after 1 July 2025) with this code; raises CalendarError when there is none."""
    place = db.session.scalar(select(Place).where(Place.code == code, Place.level == "province"))
    if place is None:
        raise CalendarError(
            "unknown_province", _('There is no province with the code "%(value)s".', value=code)
        )
    return place


def province_codes(record: HeritageRecord) -> set[str]:
    """Codes of the provinces a record is catalogued in: each place's own province (in its system) and
    the post-2025 province it lies in today."""
    codes: set[str] = set()
    for place in record.places:
        codes.add(place.province.code)
        if place.current_province is not None:
            codes.add(place.current_province.code)
    return codes


def filter_occurrences(
    occurrences: Iterable[Occurrence], group: EthnicGroup | None = None, province: Place | None = None
) -> list[Occurrence]:
    """The occurrences of records of *group* and catalogued in *province* (either may be None)."""
    out = []
    for occurrence in occurrences:
        record = occurrence.record
        if group is not None and group.id not in {g.id for g in record.ethnic_groups}:
            continue
        if province is not None and province.code not in province_codes(record):
            continue
        out.append(occurrence)
    return out


def filter_choices(occurrences: Iterable[Occurrence]) -> tuple[list[EthnicGroup], list[Place]]:
    """The ethnic groups and the current (post-2025) provinces of the records in the calendar."""
    groups: dict[int, EthnicGroup] = {}
    provinces: dict[int, Place] = {}
    for occurrence in occurrences:
        for group in occurrence.record.ethnic_groups:
            groups.setdefault(group.id, group)
        for place in occurrence.record.places:
            current = place.current_province
            if current is None and place.province.system == "2025":
                current = place.province
            if current is not None:
                provinces.setdefault(current.id, current)
    return list(groups.values()), sorted(provinces.values(), key=lambda p: p.name_key)


# --- selections -----------------------------------------------------------------------------------


def in_month(occurrences: Iterable[Occurrence], year: int, month: int) -> list[Occurrence]:
    """Occurrences held on at least one day of a Gregorian month."""
    start = dt.date(year, month, 1)
    end = (dt.date(year + month // 12, month % 12 + 1, 1)) - dt.timedelta(days=1)
    return [o for o in occurrences if o.overlaps(start, end)]


def starting_in_month(occurrences: Iterable[Occurrence], year: int, month: int) -> list[Occurrence]:
    """Occurrences whose first day is in a Gregorian month (each festival listed once in a year view)."""
    return [o for o in occurrences if (o.first.year, o.first.month) == (year, month)]


def upcoming(
    occurrences: Iterable[Occurrence], today: dt.date, days: int = UPCOMING_DAYS
) -> list[Occurrence]:
    """Occurrences under way today or starting within the next *days* days."""
    return [o for o in occurrences if o.overlaps(today, today + dt.timedelta(days=days))]


# --- words ----------------------------------------------------------------------------------------

#: "the 1st lunar month" ... in the interface language (vi: "tháng Giêng âm lịch").
LUNAR_MONTHS = {
    1: _l("the 1st lunar month"),
    2: _l("the 2nd lunar month"),
    3: _l("the 3rd lunar month"),
    4: _l("the 4th lunar month"),
    5: _l("the 5th lunar month"),
    6: _l("the 6th lunar month"),
    7: _l("the 7th lunar month"),
    8: _l("the 8th lunar month"),
    9: _l("the 9th lunar month"),
    10: _l("the 10th lunar month"),
    11: _l("the 11th lunar month"),
    12: _l("the 12th lunar month"),
}
#: The leap (intercalary) months (vi: "tháng Năm nhuận âm lịch").
LEAP_LUNAR_MONTHS = {
    1: _l("the leap 1st lunar month"),
    2: _l("the leap 2nd lunar month"),
    3: _l("the leap 3rd lunar month"),
    4: _l("the leap 4th lunar month"),
    5: _l("the leap 5th lunar month"),
    6: _l("the leap 6th lunar month"),
    7: _l("the leap 7th lunar month"),
    8: _l("the leap 8th lunar month"),
    9: _l("the leap 9th lunar month"),
    10: _l("the leap 10th lunar month"),
    11: _l("the leap 11th lunar month"),
    12: _l("the leap 12th lunar month"),
}


def ordinal_day(number: int) -> str:
    """A day number as an ordinal in the interface language ("15th"; vi: "15")."""
    if 10 <= number % 100 <= 20:
        return _("%(number)sth", number=number)
    last = number % 10
    if last == 1:
        return _("%(number)sst", number=number)
    if last == 2:
        return _("%(number)snd", number=number)
    if last == 3:
        return _("%(number)srd", number=number)
    return _("%(number)sth", number=number)


def lunar_month_words(month: int, leap: bool = False) -> str:
    """A lunar month in words ("the leap 4th lunar month"; vi: "tháng Tư nhuận âm lịch")."""
    return str((LEAP_LUNAR_MONTHS if leap else LUNAR_MONTHS)[month])


def lunar_day_words(lunar: LunarDay) -> str:
    """A lunar date in words ("15th day of the 1st lunar month"; vi: "ngày 15 tháng Giêng âm lịch")."""
    return _(
        "%(day)s day of %(month)s",
        day=ordinal_day(lunar.day),
        month=lunar_month_words(lunar.month, lunar.leap),
    )


def lunar_words(occurrence: Occurrence) -> str:
    """The lunar date of an occurrence in words; for a festival held on a day chosen each year, its month."""
    timing = occurrence.timing
    if occurrence.day_chosen and timing.calendar == "lunar":
        month = lunar_month_words(occurrence.lunar.month, occurrence.lunar.leap)
        return _("on a day chosen each year in %(month)s", month=month)
    return lunar_day_words(occurrence.lunar)


def title_in(record: HeritageRecord, lang: str) -> str:
    """The record's title in *lang* by the fallback rule (its slug when it has none)."""
    return pick_value(record.values("title"), lang, record.slug)


def group_names(record: HeritageRecord, lang: str) -> list[str]:
    """The names of the record's ethnic groups in *lang*."""
    return [pick_value(g.labels, lang, g.slug) for g in record.ethnic_groups]


def province_names(record: HeritageRecord) -> list[str]:
    """The provinces the record is catalogued in, with today's province for a unit before July 2025."""
    names: list[str] = []
    for place in record.places:
        province = place.province
        current = place.current_province
        if place.is_historical and current is not None and current.name != province.name:
            name = _("%(province)s (today in %(current)s)", province=province.name, current=current.name)
        else:
            name = province.name
        if name not in names:
            names.append(name)
    return names


def sorted_groups(groups: Sequence[EthnicGroup], lang: str) -> list[EthnicGroup]:
    """Ethnic groups in alphabetical order of their name in *lang*."""
    return sorted(groups, key=lambda g: fold(pick_value(g.labels, lang, g.slug)))
