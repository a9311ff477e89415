"""ReminderDelivery now belongs to the reminders app (programs/reminders/migrations/0001_initial.py), which kept its table."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("programs", "0003_prescription_check_rejects_neither"),
        ("reminders", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ReminderDelivery")],
            database_operations=[],
        ),
    ]
