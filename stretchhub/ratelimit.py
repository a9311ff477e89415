"""Fixed-window rate limits in the shared cache, for the API's throttles and the account forms.

One atomic counter per key and window (stretchhub.cache.window_count), so
every gunicorn worker and container counts together at one cache round trip
a hit. The price of fixed windows: a caller can spend a window's budget at its
very end and the next one's at its start.
"""

from __future__ import annotations

import time

from .cache import window_count

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "120/min" → (120, 60)."""
    number, _, period = rate.partition("/")
    return int(number), _PERIODS[period[0]]


def rate_limit_hit(key: str, rate: str) -> float | None:
    """Count one hit on `key` against `rate`: None while within it, else the seconds until it allows again."""
    limit, duration = parse_rate(rate)
    now = time.time()
    window = int(now // duration)
    if window_count(f"{key}:{window}", duration + 1) <= limit:
        return None
    return (window + 1) * duration - now
