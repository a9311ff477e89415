"""Request ids: one id per request, on every log line and on the response.

Kept free of Django imports at module level because the logging
configuration imports the filter while settings are still loading.
"""

import contextvars
import logging
import re
import uuid

REQUEST_ID_HEADER = "X-Request-ID"
# An id from the proxy in front is kept so one request can be followed across
# the proxy's log and ours; anything else (too long, odd characters that could
# forge log lines) is replaced by our own.
_ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def _incoming_id(value: str | None) -> str | None:
    if value and _ACCEPTED_ID.match(value):
        return value
    return None


def _forget_request_id(**kwargs) -> None:
    request_id_var.set("-")


class RequestIDMiddleware:
    def __init__(self, get_response):
        from django.core.signals import request_finished

        self.get_response = get_response
        # Not reset when this middleware returns: Django logs 4xx/5xx responses
        # after the middleware chain, and those lines need the id most.
        request_finished.connect(_forget_request_id, dispatch_uid="stretchhub.request_id")

    def __call__(self, request):
        request_id = _incoming_id(request.headers.get(REQUEST_ID_HEADER)) or uuid.uuid4().hex
        request.request_id = request_id
        request_id_var.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIDFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True
