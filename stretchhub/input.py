"""Characters no page or endpoint can use are refused at the door, before a view or the ORM sees them.

NUL cannot be stored in PostgreSQL (psycopg raises on it, a 500), an unpaired
surrogate cannot be written back out as UTF-8, and bytes that are not UTF-8
would reach forms and filters as U+FFFD. None of them belongs in a URL, a
query string, a form or a cookie, so:

- in the path: a 404, as no page lives at such an address;
- in the query string or a form body: a 400 (JSON on the API);
- in a cookie: the cookie is ignored, as if it had not been sent (a browser
  would otherwise send it again and again, locking its user out).

JSON bodies on the API are checked by stretchhub.api.parsers.StrictJSONParser.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.views import defaults

from .middleware import api_error_response, is_api_request

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MESSAGE = _(
    "The request holds characters that cannot be used here: NUL, unpaired surrogates or bytes that are not UTF-8."
)


def _raw(value: str) -> bytes:
    # WSGI hands over raw bytes decoded as Latin-1 (PEP 3333); anything else was decoded as UTF-8.
    try:
        return value.encode("iso-8859-1")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass")


def urlencoded_is_unusable(raw: bytes) -> bool:
    """True when a query string or form body decodes to NUL, a surrogate or invalid UTF-8.

    Decoding the whole string at once finds the same as field by field: the
    separators are ASCII, which is never part of a multi-byte UTF-8 sequence.
    """
    decoded = unquote_to_bytes(raw.replace(b"+", b" "))
    if b"\x00" in decoded:
        return True
    try:
        decoded.decode("utf-8")  # strict: encoded surrogates (ED A0 80) are refused too
    except UnicodeDecodeError:
        return True
    return False


def _form_is_unusable(request: HttpRequest) -> bool:
    if request.method != "POST" or is_api_request(request):
        return False  # the API reads only JSON (anything else is a 415)
    if request.content_type == FORM_CONTENT_TYPE:
        return urlencoded_is_unusable(request.body)
    # Multipart values were already decoded (bad bytes became U+FFFD); NUL is still there.
    return any(UNSTORABLE.search(text) for key, values in request.POST.lists() for text in (key, *values))


def _bad_request(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return api_error_response(status=400, message=MESSAGE, code="invalid")
    return defaults.bad_request(request, None)


class RejectUnusableInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if UNSTORABLE.search(request.path_info):
            if is_api_request(request):
                return api_error_response(status=404, message="There is no API endpoint at this address.")
            return defaults.page_not_found(request, None)
        if urlencoded_is_unusable(_raw(request.META.get("QUERY_STRING", ""))) or _form_is_unusable(request):
            return _bad_request(request)
        for name, value in list(request.COOKIES.items()):
            if UNSTORABLE.search(name) or UNSTORABLE.search(value):
                del request.COOKIES[name]
        return self.get_response(request)
