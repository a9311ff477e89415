"""Request ids: one id per request, on every log line and on the response.

Kept free of Django imports at module level because the logging
configuration imports the filter while settings are still loading.
"""

import contextvars
import logging
import re
import uuid

from django.utils.translation import gettext_lazy as _

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


# --- The API answers errors in its JSON shape, whatever raised them --------------------------------

API_PATH_PREFIX = "/api/"
# Django's own error pages (an uncaught exception, a body over DATA_UPLOAD_MAX_MEMORY_SIZE, ...) are
# HTML; on the API they become {"message", "code", "errors"} like every other API error.
_API_ERRORS = {
    400: ("bad_request", _("The request could not be read.")),
    403: ("permission_denied", _("You may not do this.")),
    404: ("not_found", _("There is no API endpoint at this address.")),
    413: ("too_large", _("The request body is too large.")),
    500: ("server_error", _("Something went wrong on our side. It is logged and we will look into it.")),
}


def is_api_request(request) -> bool:
    return request.path_info.startswith(API_PATH_PREFIX)


def api_error_response(*, status: int, message: str | None = None, code: str | None = None):
    from django.http import JsonResponse

    default_code, default_message = _API_ERRORS.get(status, _API_ERRORS[400 if status < 500 else 500])
    body = {"message": str(message or default_message), "code": code or default_code, "errors": {}}
    return JsonResponse(body, status=status)


class APIErrorsAsJSONMiddleware:
    """Swaps Django's HTML error pages for JSON under /api/; the traceback was logged as usual."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and is_api_request(request)
            and response.get("Content-Type", "").startswith("text/html")
        ):
            return api_error_response(status=response.status_code)
        return response

    def process_exception(self, request, exception):
        from django.core.exceptions import RequestDataTooBig

        # Django answers a body over DATA_UPLOAD_MAX_MEMORY_SIZE with a plain 400; 413 says what to change.
        if isinstance(exception, RequestDataTooBig) and is_api_request(request):
            return api_error_response(status=413)
        return None
