import datetime as dt
from functools import cache
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import User
from .validators import available_timezones

# Areas of the IANA database a person lives in; the rest are legacy aliases
# ("US/Eastern", "GB", "EST5EDT") that the validator still accepts.
_TIMEZONE_REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


@cache
def timezone_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Grouped choices for a <select>: [("Europe", [("Europe/Berlin", "Europe/Berlin"), …]), …] after UTC."""
    groups: dict[str, list[tuple[str, str]]] = {region: [] for region in _TIMEZONE_REGIONS}
    for name in sorted(available_timezones()):
        region, _sep, place = name.partition("/")
        if region in groups and place:
            # The full name, as a closed <select> does not show its group.
            groups[region].append((name, name.replace("_", " ")))
    return [("", [("UTC", _("UTC (Coordinated Universal Time)"))])] + [
        (region, places) for region, places in groups.items() if places
    ]


def user_for_login(identifier: str) -> User | None:
    """The account a login form's "email or username" names, or None.

    One query. An exact username wins over a case-insensitive one, which wins over
    an email address; an identifier that matches several accounts equally matches none.
    """
    identifier = identifier.strip()
    if not identifier:
        return None
    candidates = list(User.objects.filter(Q(username__iexact=identifier) | Q(email__iexact=identifier))[:5])
    for matches in (
        [u for u in candidates if u.username == identifier],
        [u for u in candidates if u.username.casefold() == identifier.casefold()],
        [u for u in candidates if u.email.casefold() == identifier.casefold()],
    ):
        if len(matches) == 1:
            return matches[0]
        if matches:
            return None
    return None


def _iso(value: dt.date | dt.datetime | dt.time | None) -> str | None:
    return value.isoformat() if value is not None else None


def user_data_export(*, user: User) -> dict[str, Any]:
    """Everything we hold about a member, for "download my data". Three queries whatever the history."""
    # Imported here: accounts sits below programs and imports nothing from it
    # at module level (tests/stretchhub/test_boundaries.py). Export, deletion and
    # the reminder settings are the account operations that reach into programs.
    from programs.selectors import member_history_export

    return {
        "format": "stretchhub-member-export",
        "version": 1,
        "profile": {
            "username": user.username,
            "email": user.email,
            "email_verified_at": _iso(user.email_verified_at),
            "display_name": user.display_name,
            "timezone": user.timezone,
            "default_reminder_time": _iso(user.default_reminder_time),
            "email_reminders": user.email_reminders,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
        },
        "enrolments": member_history_export(member=user),
        "push_devices": [
            {"label": device.label, "since": _iso(device.created_at)} for device in user.push_subscriptions.all()
        ],
    }
