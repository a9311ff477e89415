"""The reminder deliveries become the outbox every kind of message goes through: the new columns.

0003 fills them in for the rows kept, 0004 makes the recipient required and
puts the natural keys of every kind in place. Three migrations, because on
PostgreSQL a table whose rows were updated in a transaction cannot take an
index or constraint in it while their deferred foreign-key checks are pending.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reminders", "0001_initial"),
        ("programs", "0005_catalogue_versions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameModel(old_name="ReminderDelivery", new_name="OutboxMessage"),
        migrations.AlterModelOptions(
            name="outboxmessage", options={"ordering": ["-due_at"], "verbose_name": "outbox message"}
        ),
        migrations.RemoveConstraint(model_name="outboxmessage", name="one_reminder_per_enrolment_day"),
        migrations.RemoveIndex(model_name="outboxmessage", name="reminders_r_status_c1a991_idx"),
        migrations.AddField(
            model_name="outboxmessage",
            name="kind",
            field=models.CharField(
                choices=[
                    ("reminder", "Reminder"),
                    ("nudge", "Catch-up nudge"),
                    ("weekly_summary", "Weekly summary"),
                    ("trainer_digest", "Trainer digest"),
                ],
                default="reminder",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="recipient",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="outbox_messages",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="outboxmessage", name="lease_until", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AddField(
            model_name="outboxmessage", name="payload", field=models.JSONField(blank=True, default=dict)
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="enrolment",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="outbox_messages",
                to="programs.enrolment",
            ),
        ),
    ]
