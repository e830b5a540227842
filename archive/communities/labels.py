"""What the traditional-knowledge style labels and consent uses are called, in the reader's language."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from metadata.seasons import Season

LABEL_NAMES = {
    "seasonal": _l("Seasonal"),
    "non_commercial": _l("Not for commercial use"),
    "men_only": _l("Men only"),
    "women_only": _l("Women only"),
    "sacred": _l("Sacred"),
    "community_voice": _l("Community voice"),
    "attribution": _l("Attribution"),
    "verified": _l("Verified by the community"),
}

LABEL_MEANINGS = {
    "seasonal": _l("Shown only during its season; outside it, only the community may see it."),
    "non_commercial": _l("The community does not allow this material to be used for commercial purposes."),
    "men_only": _l("By custom this knowledge is for men; please respect the community's wish."),
    "women_only": _l("By custom this knowledge is for women; please respect the community's wish."),
    "sacred": _l("Sacred material: treat it with respect and do not reuse it out of context."),
    "community_voice": _l("The community asks to be consulted before this material is reused."),
    "attribution": _l("Name the community and the knowledge holders whenever this material is used."),
    "verified": _l("The community has checked this description and agrees with it."),
}

CONSENT_USES = {
    "display": _l("Display in the archive"),
    "research": _l("Research"),
    "education": _l("Education"),
    "broadcast": _l("Broadcast and publication"),
    "commercial": _l("Commercial use"),
}


def describe_season(season: Season) -> str:
    """The season in words, e.g. "from day 10 to day 20 of the 1st lunar month"."""
    if season.calendar == "lunar":
        return _(
            "from day %(start_day)s of lunar month %(start_month)s"
            " to day %(end_day)s of lunar month %(end_month)s",
            start_day=season.start_day,
            start_month=season.start_month,
            end_day=season.end_day,
            end_month=season.end_month,
        )
    return _(
        "from %(start_day)s/%(start_month)s to %(end_day)s/%(end_month)s",
        start_day=season.start_day,
        start_month=season.start_month,
        end_day=season.end_day,
        end_month=season.end_month,
    )
