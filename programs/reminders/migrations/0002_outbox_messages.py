"""The reminder deliveries become the outbox every kind of message goes through.

Rows are kept: each is a reminder, its recipient the enrolment's member. A row
whose member deleted their account has nobody to send to and goes. A claim
still in flight, or a retry waiting, gets a lease that has already run out, so
the next dispatch takes it on.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import F, OuterRef, Q, Subquery


def recipients_from_enrolments(apps, schema_editor):
    OutboxMessage = apps.get_model("reminders", "OutboxMessage")
    Enrolment = apps.get_model("programs", "Enrolment")
    OutboxMessage.objects.filter(enrolment__member__isnull=True).delete()
    member = Enrolment.objects.filter(pk=OuterRef("enrolment_id")).values("member_id")[:1]
    OutboxMessage.objects.update(recipient_id=Subquery(member))
    # In flight or waiting to retry: the next dispatch takes it on.
    OutboxMessage.objects.filter(status__in=["claimed", "retrying"]).update(lease_until=F("claimed_at"))


VERBOSE = {"outboxmessage": "outbox message", "reminderdelivery": "reminder delivery"}


def permissions_follow(apps, schema_editor, old="reminderdelivery", new="outboxmessage"):
    # The migrate command renames the content type with the model; a plain
    # migration executor does not, so it is done here where still needed. The
    # permissions granted on it keep their grants only if their codenames follow too.
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="reminders", model=new).exists():
        ContentType.objects.filter(app_label="reminders", model=old).update(model=new)
    Permission = apps.get_model("auth", "Permission")
    for action in ("add", "change", "delete", "view"):
        Permission.objects.filter(content_type__app_label="reminders", codename=f"{action}_{old}").update(
            codename=f"{action}_{new}", name=f"Can {action} {VERBOSE[new]}"
        )


def permissions_go_back(apps, schema_editor):
    permissions_follow(apps, schema_editor, old="outboxmessage", new="reminderdelivery")


class Migration(migrations.Migration):
    dependencies = [
        ("reminders", "0001_initial"),
        ("programs", "0005_catalogue_versions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
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
        migrations.RunPython(recipients_from_enrolments, migrations.RunPython.noop),
        migrations.RunPython(permissions_follow, permissions_go_back),
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
