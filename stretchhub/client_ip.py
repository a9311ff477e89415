from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, trusting X-Forwarded-For only as far as our own proxies.

    Behind a proxy REMOTE_ADDR is the proxy: a login lockout keyed on it would
    lock everyone out together. Only the last DJANGO_NUM_PROXIES entries were
    written by our proxies; anything before them is the client's to forge.
    Same rule as DRF's throttles (REST_FRAMEWORK["NUM_PROXIES"]).
    """
    num_proxies = settings.NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if num_proxies and forwarded:
        addresses = [address.strip() for address in forwarded.split(",") if address.strip()]
        if addresses:
            return addresses[-min(num_proxies, len(addresses))]
    return request.META.get("REMOTE_ADDR")
