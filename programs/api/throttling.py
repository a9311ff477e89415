"""Rate limits per kind of caller: anonymous (by address), member (by user), partner (by partner).

Rates are read from settings on every request (not frozen at import as DRF's
class attribute is), so tests and the benchmark can change them.
"""

from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.authentication import caller_of


class _LiveRateThrottle(SimpleRateThrottle):
    def __init__(self):
        # The scope, hence the rate, is only known once the request is authenticated.
        pass

    def get_rate(self):
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError:
            raise ImproperlyConfigured(f"No throttle rate set for scope {self.scope!r}.") from None

    def allow_request(self, request, view):
        self.scope = self.scope_for(request)
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def scope_for(self, request) -> str:
        raise NotImplementedError


class CallerRateThrottle(_LiveRateThrottle):
    def scope_for(self, request) -> str:
        caller = caller_of(request)
        return caller[0] if caller else "anon"

    def get_cache_key(self, request, view):
        caller = caller_of(request)
        ident = caller[1] if caller else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class TokenRateThrottle(_LiveRateThrottle):
    """Token creation and revocation, by client address: slows password guessing through the API."""

    def scope_for(self, request) -> str:
        return "token"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
