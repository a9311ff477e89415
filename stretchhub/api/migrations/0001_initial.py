"""IdempotencyRecord moves here from accounts, rows and all.

The model first takes over the accounts table as it is (state only), then the
table is renamed to this app's default name; accounts 0003 drops the model
from its own state. Nothing is copied, so no row is lost, and both steps run
backwards.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0002_api_tokens_idempotency"),
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
    ]
