from django.apps import AppConfig


class RemindersConfig(AppConfig):
    # Its own app so Django finds reminders/admin.py and Celery finds
    # reminders/tasks.py; the models stay in programs.
    name = "programs.reminders"
    label = "reminders"
    verbose_name = "Reminders"
