"""Program content in English and German (django-modeltranslation, docs/i18n.md).

Each field below gets a column per language (`name_en`, `name_de`) in the same
table, so a page reads every language it may show in the one query it already
makes. Reading `stretch.name` gives the active language's text, or the English
one while the German field is empty (None: not translated yet).
"""

from modeltranslation.translator import TranslationOptions, register

from .models import BodyArea, Program, ProgramSession, SessionItem, Stretch, StretchImage


class ContentOptions(TranslationOptions):
    # An untranslated field is NULL rather than "", which tells "not translated
    # yet" apart from a field the trainer left blank on purpose in English too.
    empty_values = None


@register(BodyArea)
class BodyAreaOptions(ContentOptions):
    fields = ("name",)


@register(Stretch)
class StretchOptions(ContentOptions):
    fields = ("name", "summary", "steps", "cues", "cautions")


@register(StretchImage)
class StretchImageOptions(ContentOptions):
    fields = ("alt", "caption")


@register(Program)
class ProgramOptions(ContentOptions):
    fields = ("title", "summary", "goal")


@register(ProgramSession)
class ProgramSessionOptions(ContentOptions):
    fields = ("title", "notes")


@register(SessionItem)
class SessionItemOptions(ContentOptions):
    fields = ("notes",)
