"""Rate limits per kind of caller: anonymous (by address), member (by user), partner (by partner).

Fixed-window counters in the shared cache (stretchhub.ratelimit): every
gunicorn worker and container counts together and the cost stays one cache
round trip whatever the rate (DRF's sliding log keeps, reads and rewrites a
list of every request in the window). Rates are read from settings on every
request (not frozen at import as DRF's class attribute is), so tests and the
benchmark can change them.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from stretchhub.ratelimit import rate_limit_hit

from .authentication import caller_of


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
        self._wait = rate_limit_hit(f"api:throttle:{scope}:{ident}", rate)
        return self._wait is None

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
