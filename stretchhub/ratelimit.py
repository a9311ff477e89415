"""Fixed-window rate limits in the shared cache, for the API's throttles and the account forms.

One counter per key and window, so every gunicorn worker and container counts
together. The price of fixed windows: a caller can spend a window's budget at
its very end and the next one's at its start.

The counters live only in the cache. When it is down the limits fail open —
every hit is allowed and a warning is logged — because refusing every caller
would turn a cache outage into a site outage, while a few unthrottled minutes
cost nothing that the database does not guard anyway (the login lockout keeps
its counts in the database).
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache, caches
from django_redis import get_redis_connection
from django_redis.cache import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "120/min" → (120, 60)."""
    number, _, period = rate.partition("/")
    return int(number), _PERIODS[period[0]]


def _window_count(key: str, timeout: int) -> int | None:
    """Add one to the counter `key` (created for `timeout` seconds); None when the cache cannot count."""
    if isinstance(caches["default"], RedisCache):
        return _redis_window_count(key, timeout)
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:
        # The key expired between add and incr: this hit opens a new window.
        return 1 if cache.add(key, 1, timeout) else None


def _redis_window_count(key: str, timeout: int) -> int | None:
    # One round trip on every API request: INCR creates a missing key at 1 and
    # EXPIRE NX sets the expiry only on that first hit, so no hit between them
    # is lost and no counter outlives its window.
    name = cache.make_key(key)
    pipeline = get_redis_connection("default").pipeline(transaction=False)
    pipeline.incr(name)
    pipeline.expire(name, timeout, nx=True)
    try:
        count, _ = pipeline.execute()
    except RedisError:
        logger.exception("The cache could not count %s", key)
        return None
    return count


def rate_limit_hit(key: str, rate: str) -> float | None:
    """Count one hit on `key` against `rate`: None while within it, else the seconds until it allows again."""
    limit, duration = parse_rate(rate)
    now = time.time()
    window = int(now // duration)
    count = _window_count(f"{key}:{window}", duration + 1)
    if count is None:
        logger.warning("Rate limit %s not counted: the cache is unavailable; allowing the request.", key)
        return None
    if count <= limit:
        return None
    return (window + 1) * duration - now
