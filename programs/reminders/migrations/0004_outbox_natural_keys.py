"""Every outbox row now has its recipient (0003 filled them in): the column becomes required,
and the natural keys of every kind take over from the one reminder per enrolment and day.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Q


class Migration(migrations.Migration):
    dependencies = [
        ("reminders", "0003_outbox_rows_kept"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="outboxmessage",
            name="recipient",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="outbox_messages",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="outboxmessage",
            constraint=models.UniqueConstraint(
                condition=Q(enrolment__isnull=False),
                fields=("enrolment", "kind", "local_date"),
                name="one_message_per_enrolment_kind_day",
            ),
        ),
        migrations.AddConstraint(
            model_name="outboxmessage",
            constraint=models.UniqueConstraint(
                condition=Q(enrolment__isnull=True),
                fields=("recipient", "kind", "local_date"),
                name="one_message_per_person_kind_day",
            ),
        ),
        migrations.AddIndex(
            model_name="outboxmessage",
            index=models.Index(fields=["status", "lease_until"], name="outbox_status_lease_idx"),
        ),
        migrations.AddIndex(
            model_name="outboxmessage",
            index=models.Index(fields=["recipient", "kind", "-local_date"], name="outbox_recipient_kind_idx"),
        ),
    ]
