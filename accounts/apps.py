from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and partners"

    def ready(self):
        # Drops the cached signed-in user whenever a user is saved or deleted,
        # in every process (admin, services, Celery), not only the web's.
        from . import cache  # noqa: F401
