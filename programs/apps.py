from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "programs"
    verbose_name = "Programs and stretches"

    def ready(self):
        # Drops the API's cached program details whenever the catalogue changes,
        # in every process (admin, services, seed_demo), not only the API's.
        from .api import cache  # noqa: F401
