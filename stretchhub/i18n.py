"""Which language a request is answered in, beyond what Django's LocaleMiddleware decides.

Order (docs/i18n.md): `?lang=` on the URL (the hreflang alternates, API clients),
then a signed-in member's saved language, then LocaleMiddleware's choice (the
footer switcher's cookie, then Accept-Language). The API answers in what its
caller asks for (`?lang=`, then Accept-Language), not in a saved language: a
partner's request speaks for many members.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from .middleware import is_api_request

LANGUAGE_PARAM = "lang"


def supported_language(code: str | None) -> str | None:
    """The language of ours that `code` names ("de", "de-AT", "en-GB"), or None."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code.strip().lower())
    except LookupError:
        return None


def request_language(request) -> str | None:
    """The language a request asks for explicitly, on the URL or (members, not on the API) in their profile."""
    asked = supported_language(request.GET.get(LANGUAGE_PARAM))
    if asked:
        return asked
    if is_api_request(request):
        return None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return supported_language(user.language)
    return None


class LanguageMiddleware:
    """After authentication: ?lang= and the member's saved language win over cookie and Accept-Language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            is_api_request(request)
            and LANGUAGE_PARAM in request.GET
            and not supported_language(request.GET[LANGUAGE_PARAM])
        ):
            return _unknown_language()
        language = request_language(request)
        if language and language != translation.get_language():
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


def _unknown_language():
    from django.http import JsonResponse

    message = gettext("Choose lang=en or lang=de, or leave lang out.")
    return JsonResponse({"message": message, "code": "invalid", "errors": {LANGUAGE_PARAM: [message]}}, status=400)


def user_language(user) -> str:
    """The language to write to this person in (emails): their saved one, else the site's default."""
    return supported_language(getattr(user, "language", "")) or settings.LANGUAGE_CODE
