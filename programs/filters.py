import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from . import selectors
from .models import BodyArea, Program

LENGTH_CHOICES = [
    ("1-2", _("1–2 weeks")),
    ("3-4", _("3–4 weeks")),
    ("5-8", _("5–8 weeks")),
    ("9-", _("9 weeks or more")),
]


class ProgramCatalogueFilter(django_filters.FilterSet):
    """The catalogue's GET form: body area, level and length in weeks.

    Expects a queryset from `selectors.programs_published()` (annotated with `weeks`).
    """

    body_area = django_filters.ModelChoiceFilter(
        label=_("Body area"),
        queryset=BodyArea.objects.all(),
        to_field_name="slug",
        empty_label=_("Any body area"),
        method="filter_body_area",
    )
    level = django_filters.ChoiceFilter(label=_("Level"), choices=Program.Level.choices, empty_label=_("Any level"))
    length = django_filters.ChoiceFilter(
        label=_("Length"), choices=LENGTH_CHOICES, empty_label=_("Any length"), method="filter_length"
    )

    class Meta:
        model = Program
        fields = ["body_area", "level", "length"]
        form = forms.Form

    def filter_body_area(self, queryset, name, value):
        return selectors.programs_touching_body_area(queryset, body_area=value)

    def filter_length(self, queryset, name, value):
        low, _sep, high = value.partition("-")
        queryset = queryset.filter(weeks__gte=int(low))
        return queryset.filter(weeks__lte=int(high)) if high else queryset
