"""Every API error is JSON: {"message": …, "code": …, "errors": {field: [messages]}}."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler

NON_FIELD_ERRORS = "non_field_errors"


class Conflict(exceptions.APIException):
    """The request is well formed but the current state refuses it (already enrolled, not due yet, …)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state.")
    default_code = "conflict"

    def __init__(self, message: str | None = None, *, field: str | None = None, code: str | None = None):
        super().__init__({field: [message]} if field else message, code)
        self.message = message


class NotFoundInBody(exceptions.NotFound):
    """A reference in the body names nothing the caller may use: same answer as for a missing object."""

    def __init__(self, field: str, message: str):
        super().__init__({field: [message]})
        self.message = message


def _messages(detail) -> list[str]:
    if isinstance(detail, dict):
        return [m for value in detail.values() for m in _messages(value)]
    if isinstance(detail, list):
        return [m for value in detail for m in _messages(value)]
    return [str(detail)]


def _first_code(detail) -> str | None:
    if isinstance(detail, dict):
        detail = list(detail.values())
    if isinstance(detail, list):
        return next((code for code in map(_first_code, detail) if code), None)
    return getattr(detail, "code", None)


def _body(exc: exceptions.APIException) -> dict:
    detail = exc.detail
    # Field codes ("required", "max_length") stay per field; the request as a whole is "invalid".
    code = "invalid" if isinstance(exc, exceptions.ValidationError) else _first_code(detail) or exc.default_code
    if isinstance(detail, dict):
        errors = {field: _messages(value) for field, value in detail.items()}
        if not isinstance(exc, exceptions.ValidationError):
            message = str(getattr(exc, "message", None) or exc.default_detail)
        elif list(errors) == [NON_FIELD_ERRORS]:
            message = errors[NON_FIELD_ERRORS][0]
        else:
            fields = ", ".join(f for f in errors if f != NON_FIELD_ERRORS)
            message = gettext("Check these fields: %(fields)s.") % {"fields": fields}
    elif isinstance(detail, list):
        messages = _messages(detail)
        errors = {NON_FIELD_ERRORS: messages} if messages else {}
        message = messages[0] if messages else str(exc.default_detail)
    else:
        errors = {}
        message = str(detail)
    return {"message": message, "code": code, "errors": errors}


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    response.data = _body(exc)
    return response


@csrf_exempt  # nothing happens here, and a POST must get this JSON 404, not the CSRF failure page
def api_not_found(request, *args, **kwargs):
    """Unknown URLs under /api/ answer in the API's JSON shape, not the site's HTML 404 page."""
    return JsonResponse(
        {"message": gettext("There is no API endpoint at this address."), "code": "not_found", "errors": {}},
        status=status.HTTP_404_NOT_FOUND,
    )
