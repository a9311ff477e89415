"""Give members who already follow a program their first weekly summary instant.

From now on enrolling and leaving keep User.next_weekly_summary_at right; the
members enrolled before it existed get it here. Minimal logic on the historical
models: the next chosen weekday and time in the member's zone, from now, with
the DST handling of programs.reminders.due.reminder_instant (a pure function).
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import migrations
from django.utils import timezone


def fill_next_weekly_summary(apps, schema_editor):
    from programs.reminders.due import reminder_instant

    User = apps.get_model("accounts", "User")
    Enrolment = apps.get_model("programs", "Enrolment")
    now = timezone.now()
    enrolled = Enrolment.objects.filter(status__in=("active", "paused"), member__isnull=False).values("member_id")
    members = User.objects.filter(
        pk__in=enrolled, is_active=True, weekly_summary_emails=True, next_weekly_summary_at__isnull=True
    ).exclude(email="")
    changed = []
    for user in members.only("id", "timezone", "weekly_summary_day", "weekly_summary_time").iterator():
        try:
            tz = ZoneInfo(user.timezone)
        except (ValueError, KeyError):
            tz = ZoneInfo("UTC")
        today = now.astimezone(tz).date()
        monday = today - dt.timedelta(days=today.weekday())
        while True:
            day = monday + dt.timedelta(days=user.weekly_summary_day)
            instant = reminder_instant(local_date=day, reminder_time=user.weekly_summary_time, tz=tz)
            if instant >= now:
                break
            monday += dt.timedelta(days=7)
        user.next_weekly_summary_at = instant
        changed.append(user)
    User.objects.bulk_update(changed, ["next_weekly_summary_at"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_message_preferences"),
        ("programs", "0005_catalogue_versions"),
    ]

    operations = [migrations.RunPython(fill_next_weekly_summary, migrations.RunPython.noop)]
