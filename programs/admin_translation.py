"""What the trainers' admin shows about German content: which fields still lack a translation.

A field counts as untranslated when its English text has something and its
German one is empty; members then read the English text there (the per-field
fallback, programs/translation.py). Worked out from the row's own columns, so
the changelist column and filter cost no query of their own.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from modeltranslation.translator import translator

GERMAN = "de"
ENGLISH = "en"


def translated_fields(model) -> tuple[str, ...]:
    """In the order the model declares them."""
    names = set(translator.get_options_for_model(model).fields)
    return tuple(f.name for f in model._meta.fields if f.name in names)


def missing_german(obj) -> list[str]:
    """The translatable fields of `obj` that have English text and no German one, by their labels."""
    missing = []
    for name in translated_fields(type(obj)):
        if getattr(obj, f"{name}_{ENGLISH}") and not getattr(obj, f"{name}_{GERMAN}"):
            missing.append(str(type(obj)._meta.get_field(name).verbose_name))
    return missing


def missing_german_q(model) -> Q:
    """Rows with at least one field in English but not yet in German."""
    q = Q()
    for name in translated_fields(model):
        q |= Q(**{f"{name}_{ENGLISH}__gt": ""}) & (
            Q(**{f"{name}_{GERMAN}__isnull": True}) | Q(**{f"{name}_{GERMAN}": ""})
        )
    return q


class GermanTranslationFilter(admin.SimpleListFilter):
    title = _("German translation")
    parameter_name = "german"

    def lookups(self, request, model_admin):
        return [("missing", _("Not yet translated")), ("complete", _("Complete"))]

    def queryset(self, request, queryset):
        missing = missing_german_q(queryset.model)
        if self.value() == "missing":
            return queryset.filter(missing)
        if self.value() == "complete":
            return queryset.exclude(missing)
        return queryset


class GermanColumnMixin:
    """A changelist column: ✓, or the fields still waiting for their German text."""

    class Media:
        css = {"all": ["css/admin.css"]}

    @admin.display(description=_("German"))
    def german(self, obj):
        missing = missing_german(obj)
        if not missing:
            return format_html('<span class="sh-translated">{}</span>', "✓")
        return format_html(
            '<strong class="sh-untranslated">{}</strong> <small>{}</small>',
            gettext("Not yet translated"),
            ", ".join(missing),
        )
