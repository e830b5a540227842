"""Seasons in which seasonally restricted material may be shown, in the lunar or Gregorian calendar.

A season runs from a start (month, day) to an end (month, day), both included, and may wrap round the
new year (lunar 12/15 to 1/20). Lunar dates are those of the Vietnamese calendar (UTC+7); a day of a
leap month counts as a day of the month it repeats.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from metadata.lunar import to_lunar

CALENDARS = ("lunar", "gregorian")


@dataclass(frozen=True)
class Season:
    """A yearly window of (month, day) to (month, day) in one calendar."""

    calendar: str
    start_month: int
    start_day: int
    end_month: int
    end_day: int

    def __post_init__(self) -> None:
        if self.calendar not in CALENDARS:
            raise ValueError(f"unknown calendar {self.calendar!r}")
        for month, day in ((self.start_month, self.start_day), (self.end_month, self.end_day)):
            if not (1 <= month <= 12 and 1 <= day <= (30 if self.calendar == "lunar" else 31)):
                raise ValueError(f"bad month/day {month}/{day}")

    def contains(self, day: dt.date) -> bool:
        """Whether the Gregorian *day* falls in the season (converted to the lunar calendar if need be)."""
        if self.calendar == "lunar":
            lunar = to_lunar(day)
            point = (lunar.month, lunar.day)
        else:
            point = (day.month, day.day)
        start = (self.start_month, self.start_day)
        end = (self.end_month, self.end_day)
        if start <= end:
            return start <= point <= end
        return point >= start or point <= end
