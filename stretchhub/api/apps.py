from django.apps import AppConfig


class APIConfig(AppConfig):
    # An app (not only a package) because the Idempotency-Key records are a model.
    name = "stretchhub.api"
    label = "api"
    verbose_name = "API"
