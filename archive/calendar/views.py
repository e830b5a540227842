"""The festival calendar page (/calendar) and its iCalendar feed (/calendar.ics)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import urlsplit

from babel.dates import format_skeleton
from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import force_locale, format_date, get_locale
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest, NotFound

from archive.calendar import feed, services
from archive.calendar.services import CalendarError, Occurrence
from archive.core.access import today_in_vietnam
from archive.core.i18n import current_language
from archive.vocab.models import EthnicGroup, Place

bp = Blueprint("calendar", __name__)


@dataclass(frozen=True)
class Filters:
    """The calendar's optional filters, resolved."""

    group: EthnicGroup | None = None
    province: Place | None = None

    def args(self) -> dict[str, str]:
        """The filters as URL arguments."""
        out = {}
        if self.group is not None:
            out["group"] = self.group.slug
        if self.province is not None:
            out["province"] = self.province.code
        return out


def _refuse(message: str, error: type[BadRequest] | type[NotFound] = BadRequest) -> NoReturn:
    exc = error(message)
    exc.translated = True  # type: ignore[attr-defined]  # archive.core.errors shows the message
    raise exc


def _filters() -> Filters:
    """Resolve ?group= and ?province= (empty means "all"); raises CalendarError for unknown values."""
    group_slug = request.args.get("group", "").strip()
    province_code = request.args.get("province", "").strip()
    group = services.find_group(group_slug) if group_slug else None
    province = services.find_province(province_code) if province_code else None
    return Filters(group, province)


def _number_arg(name: str, message: str) -> int | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit():
        _refuse(message)
    return int(value)


def month_label(year: int, month: int) -> str:
    """ "February 2026" / "Tháng 2 năm 2026", capitalised for a heading or a link."""
    text = format_skeleton("yMMMM", dt.date(year, month, 1), locale=get_locale())
    return text[:1].upper() + text[1:]


def _shift(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


@bp.get("/calendar")
def index():
    """The calendar: this month, the next 60 days, then the current or next year by month."""
    today = today_in_vietnam()
    years = services.calendar_years(today)
    try:
        filters = _filters()
    except CalendarError as exc:
        _refuse(exc.message)
    year = _number_arg("year", _("The year must be a number, e.g. %(year)s.", year=years[0]))
    month = _number_arg("month", _("The month must be a number from 1 to 12."))
    if month is not None and not 1 <= month <= 12:
        _refuse(_("The month must be a number from 1 to 12."))
    if year is not None and year not in years:
        _refuse(_("The calendar covers %(first)s and %(second)s.", first=years[0], second=years[1]), NotFound)
    year = year or today.year

    everything = services.festival_occurrences(years)
    groups, provinces = services.filter_choices(everything)
    if filters.group is not None and filters.group not in groups:
        groups.append(filters.group)
    if filters.province is not None and filters.province not in provinces:
        provinces.append(filters.province)
    occurrences = services.filter_occurrences(everything, filters.group, filters.province)
    lang = current_language()

    def link(**changes) -> str:
        args = {**filters.args(), "year": year, "month": month}
        args.update(changes)
        return url_for("calendar.index", **{k: v for k, v in args.items() if v is not None})

    navigation = []
    if month is None:
        months = [(m, services.starting_in_month(occurrences, year, m)) for m in range(1, 13)]
        if year - 1 in years:
            navigation.append(("prev", link(year=year - 1), _("Previous year: %(year)s", year=year - 1)))
        if year + 1 in years:
            navigation.append(("next", link(year=year + 1), _("Next year: %(year)s", year=year + 1)))
    else:
        months = [(month, services.in_month(occurrences, year, month))]
        y, m = _shift(year, month, -1)
        if y in years:
            navigation.append(
                ("prev", link(year=y, month=m), _("Previous month: %(month)s", month=month_label(y, m)))
            )
        y, m = _shift(year, month, 1)
        if y in years:
            navigation.append(
                ("next", link(year=y, month=m), _("Next month: %(month)s", month=month_label(y, m)))
            )

    feed_url = current_app.config["BASE_URL"] + url_for("calendar.feed", lang=lang, **filters.args())
    return render_template(
        "calendar/page.html",
        today=today,
        years=years,
        year=year,
        month=month,
        months=months,
        navigation=navigation,
        this_month=services.in_month(occurrences, today.year, today.month),
        upcoming=services.upcoming(occurrences, today),
        upcoming_days=services.UPCOMING_DAYS,
        total=len(occurrences),
        filters=filters,
        groups=services.sorted_groups(groups, lang),
        provinces=provinces,
        link=link,
        month_label=month_label,
        feed_url=feed_url,
        webcal_url="webcal://" + feed_url.split("://", 1)[1],
        when=when,
        lunar_words=services.lunar_words,
        province_names=services.province_names,
    )


def when(occurrence: Occurrence) -> list[tuple[dt.date, str]]:
    """The first (and last) day of an occurrence, each with its text in the interface language."""
    days = [occurrence.first] if occurrence.first == occurrence.last else [occurrence.first, occurrence.last]
    return [(day, format_date(day, "long")) for day in days]


@bp.get("/calendar.ics", endpoint="feed")
def ics_feed():
    """The same occurrences as an iCalendar (RFC 5545) feed to subscribe to; ?lang=vi|en, filters."""
    lang = request.args.get("lang", "").strip() or current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    with force_locale(lang if lang in languages else current_app.config["BABEL_DEFAULT_LOCALE"]):
        if lang not in languages:
            return _plain_error(
                _(
                    'Unknown language "%(value)s": use one of %(choices)s.',
                    value=lang,
                    choices=", ".join(languages),
                )
            )
        try:
            filters = _filters()
        except CalendarError as exc:
            return _plain_error(exc.message)
        today = today_in_vietnam()
        occurrences = services.filter_occurrences(
            services.festival_occurrences(services.calendar_years(today)), filters.group, filters.province
        )
        body = feed.build_feed(
            occurrences, lang, host=urlsplit(current_app.config["BASE_URL"]).hostname or ""
        )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="festivals.ics"'
    # Public data only; the dates change with the day (seasonal protocols), so keep it for an hour.
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def _plain_error(message: str) -> Response:
    response = Response(message + "\n", status=400, mimetype="text/plain")
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    return response
