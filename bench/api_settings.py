"""Settings for bench/api.py only: production settings plus a urlconf with a bare view to compare against."""

from stretchhub.settings import *  # noqa: F403

ROOT_URLCONF = "api_urls"
