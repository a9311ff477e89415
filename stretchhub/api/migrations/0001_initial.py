"""IdempotencyRecord moves here from accounts, rows and all.

The model first takes over the accounts table as it is (state only), then the
table is renamed to this app's default name; accounts 0003 drops the model
from its own state. Nothing is copied, so no row is lost, and every step runs
backwards.
Its content type moves too, so permissions granted on the model stay granted.
"""

from django.db import migrations, models


def _move_content_type(apps, from_app: str, to_app: str) -> None:
    # Permissions, group grants and admin history point at the content type:
    # moving it keeps them, instead of leaving them on a stale one.
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label=to_app, model="idempotencyrecord").exists():
        ContentType.objects.filter(app_label=from_app, model="idempotencyrecord").update(app_label=to_app)


def content_type_forwards(apps, schema_editor):
    _move_content_type(apps, "accounts", "api")


def content_type_backwards(apps, schema_editor):
    _move_content_type(apps, "api", "accounts")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0002_api_tokens_idempotency"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="IdempotencyRecord",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("caller_kind", models.CharField(choices=[("member", "Member"), ("partner", "Partner")], max_length=10)),
                        ("caller_id", models.PositiveBigIntegerField()),
                        ("key", models.CharField(max_length=255)),
                        ("fingerprint", models.CharField(max_length=64)),
                        ("status_code", models.PositiveSmallIntegerField()),
                        ("response_body", models.JSONField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                    ],
                    options={
                        "db_table": "accounts_idempotencyrecord",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("caller_kind", "caller_id", "key"), name="unique_idempotency_key_per_caller"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="idempotencyrecord", table=None),
        migrations.RunPython(content_type_forwards, content_type_backwards),
    ]
