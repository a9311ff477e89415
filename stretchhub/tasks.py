import time

from celery import shared_task
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
