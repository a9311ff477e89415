"""The rows kept in the outbox: each is a reminder, its recipient the enrolment's member.

A row whose member deleted their account has nobody to send to and goes. A
claim still in flight, or a retry waiting, gets a lease that has already run
out, so the next dispatch takes it on. Permissions granted on the old model
follow it.
"""

from django.db import migrations
from django.db.models import F, OuterRef, Subquery

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
        ("reminders", "0002_outbox_messages"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(recipients_from_enrolments, migrations.RunPython.noop),
        migrations.RunPython(permissions_follow, permissions_go_back),
    ]
