"""Rate limits per kind of caller: anonymous (by address), member (by user), partner (by partner).

A fixed-window counter in the shared cache: one atomic INCR per request (one
round trip to Redis, stretchhub.cache.window_count), so every gunicorn worker
and container counts together and the cost stays the same whatever the rate
(DRF's sliding log keeps, reads and rewrites a list of every request in the
window). The price is that a caller can spend a window's budget at its very end
and the next one's at its start. Rates are read from settings on every request
(not frozen at import as DRF's class attribute is), so tests and the benchmark
can change them.
"""

from __future__ import annotations

import time

from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from accounts.authentication import caller_of
from stretchhub.cache import window_count

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "120/min" → (120, 60)."""
    number, _, period = rate.partition("/")
    return int(number), _PERIODS[period[0]]


class _WindowThrottle(BaseThrottle):
    _wait: float | None = None

    def scope_and_ident(self, request) -> tuple[str, object]:
        raise NotImplementedError

    def allow_request(self, request, view):
        scope, ident = self.scope_and_ident(request)
        try:
            rate = api_settings.DEFAULT_THROTTLE_RATES[scope]
        except KeyError:
            raise ImproperlyConfigured(f"No throttle rate set for scope {scope!r}.") from None
        if rate is None:
            return True
        limit, duration = parse_rate(rate)
        now = time.time()
        window = int(now // duration)
        count = window_count(f"api:throttle:{scope}:{ident}:{window}", duration + 1)
        if count <= limit:
            return True
        self._wait = (window + 1) * duration - now
        return False

    def wait(self):
        return self._wait


class CallerRateThrottle(_WindowThrottle):
    def scope_and_ident(self, request):
        caller = caller_of(request)
        return caller if caller else ("anon", self.get_ident(request))


class TokenRateThrottle(_WindowThrottle):
    """Token creation and revocation, by client address: slows password guessing through the API."""

    def scope_and_ident(self, request):
        return "token", self.get_ident(request)
