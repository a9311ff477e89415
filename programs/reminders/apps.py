from django.apps import AppConfig


class RemindersConfig(AppConfig):
    # Its own app so it owns its model (OutboxMessage), templates and admin,
    # and Celery finds reminders/tasks.py.
    name = "programs.reminders"
    label = "reminders"
    verbose_name = "Reminders"
