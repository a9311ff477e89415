"""Limit/offset pagination that refuses bad parameters instead of silently ignoring them."""

from rest_framework import exceptions
from rest_framework.pagination import LimitOffsetPagination

MAX_OFFSET = 1_000_000


class StrictLimitOffsetPagination(LimitOffsetPagination):
    default_limit = 20
    max_limit = 100

    def _read(self, request, name: str, *, minimum: int, maximum: int, default: int) -> int:
        raw = request.query_params.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or not minimum <= value <= maximum or not raw.strip().isdigit():
            raise exceptions.ValidationError({name: [f"Give a whole number from {minimum} to {maximum}."]})
        return value

    def get_limit(self, request):
        return self._read(
            request, self.limit_query_param, minimum=1, maximum=self.max_limit, default=self.default_limit
        )

    def get_offset(self, request):
        return self._read(request, self.offset_query_param, minimum=0, maximum=MAX_OFFSET, default=0)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit, "default": self.default_limit},
            self.offset_query_param: {"minimum": 0, "maximum": MAX_OFFSET, "default": 0},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
