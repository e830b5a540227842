"""The festival calendar as an iCalendar (RFC 5545) feed, written with the ``icalendar`` package (which
folds lines at 75 octets and escapes text values)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from flask import current_app, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from icalendar import Calendar, Event

from archive.calendar import services
from archive.calendar.services import Occurrence
from metadata.languages import pick_value

PRODID = "-//Heritage Archive//Festival calendar//EN"
TIME_ZONE = "Asia/Ho_Chi_Minh"


def build_feed(
    occurrences: Iterable[Occurrence], lang: str, host: str, now: dt.datetime | None = None
) -> bytes:
    """The VCALENDAR of *occurrences*, with texts in *lang* (call it under ``force_locale(lang)``)."""
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _("Festivals of Vietnam's ethnic minorities"))
    description = _("Festival dates from the Heritage Archive; lunar dates are computed for UTC+7.")
    calendar.add("x-wr-caldesc", description)
    calendar.add("x-wr-timezone", TIME_ZONE)
    # Ask subscribing applications to refresh twice a day.
    calendar.add("x-published-ttl", "PT12H")
    for occurrence in occurrences:
        calendar.add_component(_event(occurrence, lang, host, now))
    return calendar.to_ical()


def _event(occurrence: Occurrence, lang: str, host: str, now: dt.datetime) -> Event:
    record = occurrence.record
    base = current_app.config["BASE_URL"]
    url = base + url_for("records.detail", public_id=record.public_id, slug=record.slug, _lang=lang)
    groups = services.group_names(record, lang)
    provinces = services.province_names(record)
    event = Event()
    event.add("uid", f"{occurrence.uid_stem}@{host}")
    event.add("dtstamp", now)
    event.add("dtstart", occurrence.first)
    # All-day events end on the day after their last day (DTEND is exclusive).
    event.add("dtend", occurrence.last + dt.timedelta(days=1))
    event.add("summary", services.title_in(record, lang))
    event.add("description", _description(occurrence, lang, groups, provinces, url))
    event.add("url", url)
    if provinces:
        event.add("location", ", ".join(provinces))
    if groups:
        event.add("categories", groups)
    if record.updated_at is not None:
        event.add("last-modified", record.updated_at.astimezone(dt.UTC).replace(microsecond=0))
    event.add("transp", "TRANSPARENT")
    return event


def _description(occurrence: Occurrence, lang: str, groups: list[str], provinces: list[str], url: str) -> str:
    lines = [_("Lunar calendar: %(date)s", date=services.lunar_words(occurrence))]
    if occurrence.day_chosen:
        lines.append(
            _(
                "Held on one day between %(first)s and %(last)s.",
                first=_day(occurrence.first),
                last=_day(occurrence.last),
            )
        )
    elif occurrence.days > 1:
        lines.append(ngettext("Lasts %(num)s day.", "Lasts %(num)s days.", occurrence.days))
    if groups:
        lines.append(
            ngettext(
                "Ethnic group: %(names)s", "Ethnic groups: %(names)s", len(groups), names=", ".join(groups)
            )
        )
    if provinces:
        lines.append(
            ngettext(
                "Province: %(names)s", "Provinces: %(names)s", len(provinces), names="; ".join(provinces)
            )
        )
    summary = pick_value(occurrence.record.values("summary"), lang)
    if summary:
        lines += ["", summary]
    lines += ["", url]
    return "\n".join(lines)


def _day(day: dt.date) -> str:
    return format_date(day, "long")
