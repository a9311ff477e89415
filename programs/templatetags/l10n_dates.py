"""Template filters for stretchhub.l10n: {{ day|weekday_date }}, {{ moment|time_of_day }}."""

from django import template

from stretchhub import l10n

register = template.Library()

for _name in (
    "day_month_year",
    "day_month",
    "weekday_date",
    "weekday_date_year",
    "short_weekday_date",
    "short_date",
    "short_date_year",
    "time_of_day",
):
    register.filter(_name, getattr(l10n, _name))
