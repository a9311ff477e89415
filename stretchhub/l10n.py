"""Dates, times and numbers as each language writes them, for pages and emails alike.

Django's named formats where one fits (DATE_FORMAT, MONTH_DAY_FORMAT, TIME_FORMAT:
English "2 March 2026", "7:45"; German "2. März 2026", "07:45"); the rest are
format strings in the catalogue, so German can write "Montag, 2. März" where
English writes "Monday 2 March". Names of days and months come from Django's
own translations. Always in the active language: an email is built inside its
recipient's (translation.override).
"""

from __future__ import annotations

import datetime as dt

from django.utils import formats
from django.utils.translation import pgettext


def day_month_year(value: dt.date) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def day_month(value: dt.date) -> str:
    return formats.date_format(value, "MONTH_DAY_FORMAT")


def weekday_date(value: dt.date) -> str:
    # Translators: a date format (letters as in Django's date filter): "Monday 2 March".
    return formats.date_format(value, pgettext("date format", "l j F"))


def weekday_date_year(value: dt.date) -> str:
    # Translators: a date format (letters as in Django's date filter): "Monday 2 March 2026".
    return formats.date_format(value, pgettext("date format", "l j F Y"))


def short_weekday_date(value: dt.date) -> str:
    # Translators: a date format (letters as in Django's date filter): "Mon 2 Mar".
    return formats.date_format(value, pgettext("date format", "D j M"))


def short_date(value: dt.date) -> str:
    # Translators: a date format (letters as in Django's date filter): "2 Mar".
    return formats.date_format(value, pgettext("date format", "j M"))


def short_date_year(value: dt.date) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def time_of_day(value: dt.time | dt.datetime) -> str:
    return formats.time_format(value, "TIME_FORMAT")


def decimal(value: float, places: int = 1) -> str:
    """3.5 in English, 3,5 in German."""
    return formats.number_format(value, places)
