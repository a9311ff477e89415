"""ReminderDelivery moves here from programs, rows and all.

The model first takes over the programs table as it is (state only); then the
table and its index are renamed to this app's default names. programs 0004
drops the model from its own state. Nothing is copied, so no row is lost, the
foreign key to programs.Enrolment is untouched, and every step runs backwards.
Its content type moves too, so permissions granted on the model stay granted.
"""

import django.db.models.deletion
from django.db import migrations, models


def _move_content_type(apps, from_app: str, to_app: str) -> None:
    # Permissions, group grants and admin history point at the content type:
    # moving it keeps them, instead of leaving them on a stale one.
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label=to_app, model="reminderdelivery").exists():
        ContentType.objects.filter(app_label=from_app, model="reminderdelivery").update(app_label=to_app)


def content_type_forwards(apps, schema_editor):
    _move_content_type(apps, "programs", "reminders")


def content_type_backwards(apps, schema_editor):
    _move_content_type(apps, "reminders", "programs")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("programs", "0003_prescription_check_rejects_neither"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ReminderDelivery",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("local_date", models.DateField()),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("claimed", "Claimed (sending)"),
                                    ("sent", "Sent"),
                                    ("retrying", "Waiting to retry"),
                                    ("failed", "Failed"),
                                    ("skipped", "Skipped"),
                                ],
                                default="claimed",
                                max_length=10,
                            ),
                        ),
                        ("due_at", models.DateTimeField()),
                        ("claimed_at", models.DateTimeField(blank=True, null=True)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("last_error", models.TextField(blank=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "enrolment",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="reminder_deliveries",
                                to="programs.enrolment",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "programs_reminderdelivery",
                        "verbose_name_plural": "reminder deliveries",
                        "ordering": ["-due_at"],
                        "indexes": [models.Index(fields=["status", "claimed_at"], name="programs_re_status_599c39_idx")],
                        "constraints": [
                            models.UniqueConstraint(fields=("enrolment", "local_date"), name="one_reminder_per_enrolment_day")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="reminderdelivery", table=None),
        migrations.RenameIndex(
            model_name="reminderdelivery",
            new_name="reminders_r_status_c1a991_idx",
            old_name="programs_re_status_599c39_idx",
        ),
        migrations.RunPython(content_type_forwards, content_type_backwards),
    ]
