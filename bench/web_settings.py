"""Settings for bench/web.py only: production settings plus a urlconf with a bare view to compare against.

With BENCH_CACHES=off every cache alias is Django's DummyCache, so each request
is computed from the database: the "-cold" figures.
"""

import os

from stretchhub.settings import *  # noqa: F403

ROOT_URLCONF = "web_urls"

if os.environ.get("BENCH_CACHES") == "off":
    CACHES = {alias: {"BACKEND": "django.core.cache.backends.dummy.DummyCache"} for alias in CACHES}  # noqa: F405
