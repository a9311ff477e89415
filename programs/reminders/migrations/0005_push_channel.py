"""Reminders and nudges go to members' devices as push too: a row per (enrolment, kind, local date, device).

The email rows keep their key, now limited to the email channel.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_push_subscriptions'),
        ('programs', '0005_catalogue_versions'),
        ('reminders', '0004_outbox_natural_keys'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='outboxmessage',
            name='one_message_per_enrolment_kind_day',
        ),
        migrations.AddField(
            model_name='outboxmessage',
            name='channel',
            field=models.CharField(choices=[('email', 'Email'), ('push', 'Push')], default='email', max_length=5),
        ),
        migrations.AddField(
            model_name='outboxmessage',
            name='push_subscription',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='outbox_messages', to='accounts.pushsubscription'),
        ),
        migrations.AddConstraint(
            model_name='outboxmessage',
            constraint=models.UniqueConstraint(condition=models.Q(('channel', 'email'), ('enrolment__isnull', False)), fields=('enrolment', 'kind', 'local_date'), name='one_message_per_enrolment_kind_day'),
        ),
        migrations.AddConstraint(
            model_name='outboxmessage',
            constraint=models.UniqueConstraint(condition=models.Q(('channel', 'push')), fields=('enrolment', 'kind', 'local_date', 'push_subscription'), name='one_push_per_enrolment_kind_day_device'),
        ),
        migrations.AddConstraint(
            model_name='outboxmessage',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('channel', 'push'), ('enrolment__isnull', False)), models.Q(('channel', 'email'), ('push_subscription__isnull', True)), _connector='OR'), name='outbox_push_rows_belong_to_an_enrolment'),
        ),
    ]
