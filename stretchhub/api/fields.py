"""Serializer pieces shared by the API: strict input, and text the schema describes exactly."""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.validators import available_timezones

# Text in a request may hold anything but NUL, which PostgreSQL cannot store
# (DRF refuses it with a 400); stretchhub.api.schema adds this pattern to every
# free-text request field so the schema says so.
TEXT_PATTERN = r"^[^\u0000]*$"
MAX_ID = 2**63 - 1
# Ids in URLs have at most 18 digits (below 2**63, what the databases store); longer is a 404.
ID_REGEX = r"[0-9]{1,18}"
MAX_URL_ID = 10**18 - 1
LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"


def _json_type_error(field: serializers.Field, value) -> str | None:
    """DRF coerces (0 → False, 5 → "5", "5" → 5); the API takes JSON types as the schema states them."""
    if value is None:
        return None  # allow_null decides
    if isinstance(field, serializers.BooleanField) and not isinstance(value, bool):
        return _("Must be true or false.")
    if isinstance(field, serializers.IntegerField) and (isinstance(value, bool) or not isinstance(value, int)):
        return _("Must be a whole number.")
    string_fields = (serializers.CharField, serializers.ChoiceField, serializers.DateField, serializers.TimeField)
    if isinstance(field, string_fields) and not isinstance(value, str):
        return _("Must be a string.")
    return None


# Input serializers refuse unknown (or read-only) fields instead of ignoring them:
# a typo or an attempt to set `status` is a 400, never silently dropped.
class StrictInputSerializer(serializers.Serializer):
    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, Mapping):
            unknown = {name: [_("Unknown or read-only field.")] for name in data if name not in self.fields}
            for name, value in data.items():
                error = name in self.fields and _json_type_error(self.fields[name], value)
                if error:
                    unknown[name] = [error]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **unknown}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class EmptySerializer(StrictInputSerializer):
    """No body (or an empty object)."""


class TextField(serializers.CharField):
    """Member-typed text: blank allowed, surrounding spaces trimmed."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)


@extend_schema_field({"type": "string", "pattern": LOCAL_TIME_PATTERN, "example": "08:00"})
class LocalTimeField(serializers.TimeField):
    """A wall-clock time in the member's timezone, "HH:MM" (seconds allowed on input, no offset)."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)

    def to_internal_value(self, value):
        if not isinstance(value, str) or not re.match(LOCAL_TIME_PATTERN, value):
            self.fail("invalid", format="HH:MM")
        return super().to_internal_value(value)


class TimezoneField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=sorted(available_timezones()), **kwargs)
        self.error_messages["invalid_choice"] = (
            "“{input}” is not a known time zone; use an IANA name such as Europe/Berlin."
        )
