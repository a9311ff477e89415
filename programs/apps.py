from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "programs"
    verbose_name = "Programs and stretches"

    def ready(self):
        # Renews the catalogue generation whenever the catalogue changes, in
        # every process (admin, services, seed_demo), not only the API's.
        from . import catalogue  # noqa: F401
