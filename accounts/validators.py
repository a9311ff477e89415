import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Entries of the tz database that are not places a member lives in.
_NOT_PLACES = {"Factory", "localtime", "posixrules"}


@cache
def available_timezones() -> frozenset[str]:
    return frozenset(
        name
        for name in zoneinfo.available_timezones()
        if name not in _NOT_PLACES and not name.startswith(("posix/", "right/"))
    )


def validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(
            _("“%(value)s” is not a known time zone; use an IANA name such as Europe/Berlin."),
            code="invalid_timezone",
            params={"value": value},
        )
