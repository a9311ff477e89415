from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import User
from stretchhub.api.fields import LocalTimeField, StrictInputSerializer, TextField, TimezoneField

EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9._:@+-]{1,100}$"
WEEKDAY_HELP = "The local weekday the weekly summary goes out: 0 = Monday … 6 = Sunday."
WEEKDAY_ERROR = _("Choose a day of the week: 0 (Monday) to 6 (Sunday).")


class TokenCreateSerializer(StrictInputSerializer):
    username = serializers.CharField(max_length=254, help_text="Username or email address.", trim_whitespace=False)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`. Shown once; keep it secret.")


class MeSerializer(serializers.ModelSerializer):
    default_reminder_time = LocalTimeField()
    weekly_summary_day = serializers.IntegerField(help_text=WEEKDAY_HELP)
    weekly_summary_time = LocalTimeField(help_text="Local time (HH:MM) the weekly summary goes out.")
    email_verified = serializers.SerializerMethodField()
    calendar_url = serializers.SerializerMethodField(
        help_text="Your private iCal feed. Anyone with this URL sees your schedule: rotate it if it leaks."
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "email_verified",
            "display_name",
            "timezone",
            "language",
            "default_reminder_time",
            "email_reminders",
            "nudge_emails",
            "weekly_summary_emails",
            "weekly_summary_day",
            "weekly_summary_time",
            "trainer_digest_emails",
            "calendar_url",
        ]

    def get_email_verified(self, user: User) -> bool:
        return user.email_verified_at is not None

    def get_calendar_url(self, user: User) -> str:
        return calendar_url(user)


def calendar_url(user: User) -> str:
    return settings.SITE_URL + reverse("calendar:feed", kwargs={"token": user.calendar_token})


class MeUpdateSerializer(StrictInputSerializer):
    display_name = TextField(required=False, max_length=80)
    timezone = TimezoneField(required=False, help_text="IANA name, e.g. Europe/Berlin.")
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES, required=False, help_text="The language of your pages and emails."
    )
    default_reminder_time = LocalTimeField(required=False)
    email_reminders = serializers.BooleanField(required=False, help_text="Master switch for reminder emails.")
    nudge_emails = serializers.BooleanField(
        required=False, help_text="A catch-up email the day after a missed session."
    )
    weekly_summary_emails = serializers.BooleanField(required=False, help_text="The weekly summary email.")
    weekly_summary_day = serializers.IntegerField(
        min_value=0,
        max_value=6,
        required=False,
        help_text=WEEKDAY_HELP,
        error_messages={"min_value": WEEKDAY_ERROR, "max_value": WEEKDAY_ERROR},
    )
    weekly_summary_time = LocalTimeField(required=False, help_text="Local time (HH:MM) of the weekly summary.")
    trainer_digest_emails = serializers.BooleanField(
        required=False, help_text="Trainers: the daily digest of members who slipped."
    )


class CalendarTokenSerializer(serializers.Serializer):
    calendar_url = serializers.CharField()


class PartnerMemberSerializer(serializers.ModelSerializer):
    default_reminder_time = LocalTimeField()
    created_at = serializers.DateTimeField(source="date_joined")

    class Meta:
        model = User
        fields = [
            "id",
            "external_id",
            "email",
            "display_name",
            "timezone",
            "default_reminder_time",
            "email_reminders",
            "created_at",
        ]


class PartnerMemberUpdateSerializer(StrictInputSerializer):
    email = serializers.EmailField(required=False, max_length=254)
    display_name = TextField(required=False, max_length=80)
    timezone = TimezoneField(required=False, help_text="IANA name, e.g. Europe/Berlin.")
    default_reminder_time = LocalTimeField(required=False)
    email_reminders = serializers.BooleanField(required=False)


class PartnerMemberCreateSerializer(PartnerMemberUpdateSerializer):
    external_id = serializers.RegexField(
        EXTERNAL_ID_PATTERN, max_length=100, help_text="Your own id for the member, unique among your members."
    )
    email = serializers.EmailField(max_length=254)
