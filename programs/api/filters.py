"""Catalogue filters, search and ordering for the API; a bad value is a 400, never silently ignored."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions
from rest_framework.filters import OrderingFilter

from programs import selectors
from programs.filters import ProgramCatalogueFilter
from programs.models import BodyArea, SessionItem, Stretch


class StretchFilter(django_filters.FilterSet):
    # A slug filter rather than a choice: an unknown body area finds nothing (200), like a search would.
    body_area = django_filters.CharFilter(field_name="body_areas__slug", help_text="Body area slug.")
    equipment = django_filters.ChoiceFilter(choices=Stretch.Equipment.choices)
    position = django_filters.ChoiceFilter(choices=Stretch.Position.choices)
    difficulty = django_filters.TypedChoiceFilter(choices=Stretch.Difficulty.choices, coerce=int)

    class Meta:
        model = Stretch
        fields = ["body_area", "equipment", "position", "difficulty"]


class ProgramFilter(ProgramCatalogueFilter):
    """The web catalogue's filters (body area, level, length), plus equipment and the hardest stretch."""

    body_area = django_filters.CharFilter(
        method="filter_body_area", help_text="Programs working this body area (slug)."
    )
    equipment = django_filters.ChoiceFilter(
        choices=Stretch.Equipment.choices, method="filter_equipment", help_text="Programs that use this equipment."
    )
    max_difficulty = django_filters.TypedChoiceFilter(
        choices=Stretch.Difficulty.choices,
        coerce=int,
        method="filter_max_difficulty",
        help_text="Programs with no stretch harder than this (1 gentle, 2 moderate, 3 challenging).",
    )

    class Meta(ProgramCatalogueFilter.Meta):
        fields = [*ProgramCatalogueFilter.Meta.fields, "equipment", "max_difficulty"]

    def filter_body_area(self, queryset, name, value: str):
        body_area = BodyArea.objects.filter(slug=value).first()
        if body_area is None:
            return queryset.none()
        return selectors.programs_touching_body_area(queryset, body_area=body_area)

    def filter_equipment(self, queryset, name, value: str):
        uses = SessionItem.objects.filter(session__program=OuterRef("pk"), stretch__equipment=value)
        return queryset.filter(Exists(uses))

    def filter_max_difficulty(self, queryset, name, value: int):
        harder = SessionItem.objects.filter(session__program=OuterRef("pk"), stretch__difficulty__gt=value)
        return queryset.filter(~Exists(harder))


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter skips an empty `?level=`; the API says it is not one of the choices instead."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            empty = {
                name: [_("Choose one of the listed values, or leave the parameter out.")]
                for name, field in filterset.filters.items()
                if isinstance(field, django_filters.ChoiceFilter) and "" in request.query_params.getlist(name)
            }
            if empty:
                raise exceptions.ValidationError(empty)
        return filterset


class StrictOrderingFilter(OrderingFilter):
    """One ordering field from the view's list (optionally with "-"); anything else is a 400."""

    def get_ordering(self, request, queryset, view):
        param = request.query_params.get(self.ordering_param)
        if param is None:
            return self.get_default_ordering(view)
        allowed = self.allowed_values(view)
        if param not in allowed:
            raise exceptions.ValidationError({self.ordering_param: [f"Order by one of: {', '.join(allowed)}."]})
        # The primary key breaks ties, so pages never overlap or skip rows.
        return [param, "pk"]

    def allowed_values(self, view) -> list[str]:
        fields = list(view.ordering_fields)
        return [value for field in fields for value in (field, f"-{field}")]

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Sort by this field; a leading '-' reverses it.",
                "schema": {"type": "string", "enum": self.allowed_values(view)},
            }
        ]
