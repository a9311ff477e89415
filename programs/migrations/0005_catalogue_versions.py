from django.db import migrations, models


class Migration(migrations.Migration):
    """Every catalogue row counts its writes, so the program detail's cache key can be made from the data."""

    dependencies = [
        ("programs", "0004_reminderdelivery_moved_to_reminders"),
    ]

    operations = [
        migrations.AddField(
            model_name=model,
            name="version",
            field=models.PositiveIntegerField(default=1, editable=False),
        )
        for model in ("bodyarea", "program", "programsession", "sessionitem", "stretch")
    ]
