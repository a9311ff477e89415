"""OpenAPI (drf-spectacular): our auth schemes, the errors each operation can answer, strict request bodies."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from .fields import TEXT_PATTERN
from .idempotency import HEADER, KEY_MAX_LENGTH, WRITE_METHODS, IdempotentMixin


class ErrorSerializer(serializers.Serializer):
    message = serializers.CharField(help_text="What went wrong, in words to show a person.")
    code = serializers.CharField(help_text="A stable code, e.g. not_found, conflict, throttled, invalid.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages by field name; `non_field_errors` for the request as a whole. Empty when none.",
    )


class MemberTokenScheme(OpenApiAuthenticationExtension):
    target_class = "stretchhub.api.authentication.MemberTokenAuthentication"
    name = "memberToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A member token from POST /api/v1/auth/token/, sent as `Token <token>`.",
        }


class PartnerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "stretchhub.api.authentication.PartnerKeyAuthentication"
    name = "partnerKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A partner key made by an administrator, sent as `Api-Key <key>`.",
        }


ERROR_DESCRIPTIONS = {
    "400": "Invalid input: see `errors` by field.",
    "401": "Missing, invalid or revoked credentials.",
    "403": "These credentials may not do this (e.g. a partner key on a member endpoint, a missing CSRF token).",
    "404": "No such object for this caller (another owner's objects are not found either), in the URL or the body.",
    "406": "Only application/json responses can be produced.",
    "409": "Conflicts with the current state, or an Idempotency-Key reused with a different request.",
    "413": "The request body is larger than the server accepts.",
    "415": "Send JSON (Content-Type: application/json).",
    "429": "Too many requests: wait the seconds in Retry-After.",
}


# Every endpoint answers in English or German (docs/i18n.md): program content,
# labels and error messages alike, with the language in Content-Language.
LANGUAGE_PARAMETERS = [
    OpenApiParameter(
        "Accept-Language",
        str,
        OpenApiParameter.HEADER,
        description=(
            "The language of the response: `en` (default) or `de`, as a browser sends it (e.g. `de-DE,de;q=0.9`). "
            "Program content not yet translated falls back to English, field by field. The response says which "
            "language it is in with `Content-Language`."
        ),
    ),
    OpenApiParameter(
        "lang",
        {"type": "string", "enum": ["en", "de"]},
        OpenApiParameter.QUERY,
        description="The language of the response; wins over Accept-Language.",
    ),
]


class StretchHubAutoSchema(AutoSchema):
    def _is_write(self) -> bool:
        return self.method in WRITE_METHODS

    def _is_idempotent(self) -> bool:
        return self._is_write() and isinstance(self.view, IdempotentMixin) and self.view.idempotent

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        parameters += LANGUAGE_PARAMETERS
        if self._is_idempotent():
            parameters.append(
                OpenApiParameter(
                    HEADER,
                    {"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH, "pattern": r"^[ -~]+$"},
                    OpenApiParameter.HEADER,
                    description=(
                        "Any unique string (a UUID). A retry with the same key and body gets the first response "
                        "again (with `Idempotent-Replayed: true`); the same key with another body is a 409. "
                        "Keys are kept 24 hours, per caller."
                    ),
                )
            )
        return parameters

    def _error_codes(self, responses: dict) -> list[str]:
        public = any(isinstance(p, AllowAny) for p in self.view.get_permissions())
        has_body = bool(self._get_request_body())
        codes = ["406", "429"]
        if self.view.get_authenticators():
            codes.append("401")
        if not public:
            codes.append("403")
        if "{" in self.path or (has_body and getattr(self.view, "body_references", False)):
            codes.append("404")
        has_query = any(p["in"] == "query" for p in self._get_parameters())
        if has_body or self._is_idempotent() or has_query:
            codes.append("400")
        if self._is_idempotent():
            codes.append("409")
        if has_body or self._is_idempotent():
            codes.extend(["413", "415"])
        return sorted(code for code in codes if code not in responses)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if not self.path_prefix:
            # A `webhooks` entry (a request we send; drf-spectacular mocks a view with no
            # path prefix for it): the receiver's answers are not our API's errors.
            return responses
        for code in self._error_codes(responses):
            response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
            response["description"] = ERROR_DESCRIPTIONS[code]
            responses[code] = response
        return dict(sorted(responses.items()))


def _strict_request(schema: dict) -> None:
    schema["additionalProperties"] = False
    for prop in schema.get("properties", {}).values():
        if (
            prop.get("type") == "string"
            and not ({"format", "enum", "pattern"} & prop.keys())
            and not prop.get("readOnly")
        ):
            prop["pattern"] = TEXT_PATTERN


def strict_request_bodies(result, generator, request, public):
    """Request bodies refuse unknown fields (StrictInputSerializer), so the schema says additionalProperties: false.

    Free text in bodies and query strings cannot hold NUL (a 400): the schema says so with a pattern.
    """
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and schema.get("type") == "object":
            _strict_request(schema)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if (
                    parameter["in"] == "query"
                    and schema.get("type") == "string"
                    and not ({"format", "enum", "pattern"} & schema.keys())
                ):
                    schema["pattern"] = TEXT_PATTERN
    return result
