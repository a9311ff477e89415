import time
from importlib import import_module

from celery import shared_task
from django.conf import settings
from django.core.cache import caches

HEARTBEAT_KEY = "beat:heartbeat"


def heartbeat_cache():
    return caches["heartbeat"]


@shared_task(ignore_result=True)
def beat_heartbeat_task() -> None:
    # Beat queues this every minute and a worker runs it, so a fresh timestamp
    # proves beat, the broker and a worker are all alive. It outlives several
    # missed ticks so /healthz can tell "stale" from "never seen".
    heartbeat_cache().set(HEARTBEAT_KEY, time.time(), timeout=24 * 3600)


@shared_task(ignore_result=True)
def sessions_clear_expired_task() -> None:
    # Sessions live in the database (docs/caching.md): expired rows are removed
    # daily, as `manage.py clearsessions` would.
    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.clear_expired()
