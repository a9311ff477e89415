"""Forms of the member pages: enrol, restart, reminder settings and tick-off."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from . import services
from .models import PAIN_MAX, PAIN_MIN

PAIN_RANGE_TEXT = format_lazy(_("{low} (none) to {high} (worst)"), low=PAIN_MIN, high=PAIN_MAX)
PAIN_ERROR = format_lazy(_("Pain is a number from {range}."), range=PAIN_RANGE_TEXT)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%H:%M")


class StartDateForm(forms.Form):
    start_date = forms.DateField(
        label=_("Start date"),
        widget=DateInput(),
        help_text=_("Day 1 of the program. Up to 14 days ago, or up to a year ahead."),
        error_messages={"invalid": _("Enter a date, for example 2026-03-02.")},
    )

    def __init__(self, *args, today: dt.date, **kwargs):
        self.today = today
        super().__init__(*args, **kwargs)
        self.fields["start_date"].initial = today
        self.fields["start_date"].widget.attrs.update(
            min=(today - dt.timedelta(days=services.START_DATE_MAX_DAYS_AGO)).isoformat(),
            max=(today + dt.timedelta(days=services.START_DATE_MAX_DAYS_AHEAD)).isoformat(),
        )

    def clean_start_date(self):
        start_date = self.cleaned_data["start_date"]
        try:
            services.validate_start_date(start_date=start_date, today=self.today)
        except services.EnrolmentError as error:
            raise forms.ValidationError(str(error)) from None
        return start_date


class ReminderForm(forms.Form):
    reminder_time = forms.TimeField(
        label=_("Reminder time"),
        widget=TimeInput(),
        help_text=_("In your time zone, on the days a session is due."),
        error_messages={"invalid": _("Enter a time, for example 07:30.")},
    )
    reminders_enabled = forms.BooleanField(label=_("Email me a reminder on session days"), required=False)


class EnrolForm(StartDateForm, ReminderForm):
    field_order = ["start_date", "reminder_time", "reminders_enabled"]

    def __init__(self, *args, member, today: dt.date, **kwargs):
        super().__init__(*args, today=today, **kwargs)
        self.fields["reminder_time"].initial = member.default_reminder_time
        self.fields["reminders_enabled"].initial = True


def _pain_field(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        help_text=PAIN_RANGE_TEXT,
        required=False,
        min_value=PAIN_MIN,
        max_value=PAIN_MAX,
        error_messages={"min_value": PAIN_ERROR, "max_value": PAIN_ERROR, "invalid": PAIN_ERROR},
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": _("optional")}),
    )


class CompletionForm(forms.Form):
    pain_before = _pain_field(_("Pain before"))
    pain_after = _pain_field(_("Pain after"))
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=services.NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional: how it felt, what to change next time."),
        error_messages={
            "max_length": _("The note is too long: keep it to %(limit_value)d characters (it has %(show_value)d).")
        },
    )
