"""Settings for bench/web.py only: production settings plus a urlconf with a bare view to compare against."""

from stretchhub.settings import *  # noqa: F403

ROOT_URLCONF = "web_urls"
