"""The API's JSON parser: a body it cannot store or answer safely is a 400 (or 413), never a 500.

DRF's JSONParser hands on whatever json.loads returns. Some of that breaks
later: nesting past Python's recursion limit, Infinity from `1e400`, NUL
(PostgreSQL cannot store it) and unpaired surrogates (an error message that
quotes one cannot be encoded as UTF-8). Our request bodies are flat objects,
so a few levels of nesting are plenty.
"""

from __future__ import annotations

import json
import math

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

from stretchhub.input import UNSTORABLE

MAX_DEPTH = 16
# json.loads joins a valid surrogate pair ("\ud83d\ude00") into one character, so any UNSTORABLE left is unpaired.
UNSTORABLE_TEXT = _("Text may not hold NUL characters or unpaired surrogates.")
TOO_DEEP = f"The body is nested too deeply (more than {MAX_DEPTH} levels)."


def _refuse_constant(name: str):
    raise exceptions.ParseError(f"{name} is not a JSON number: send a finite number.")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise exceptions.ParseError(_("A number in the body is too large: send a finite number."))
    return value


def _problem(data, depth: int) -> str | None:
    """What is wrong with a parsed value, walked without recursion (it may be deep)."""
    stack = [(data, depth)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if UNSTORABLE.search(value):
                return UNSTORABLE_TEXT
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                return TOO_DEEP
            items = value.items() if isinstance(value, dict) else ((None, item) for item in value)
            for key, item in items:
                if key is not None:
                    stack.append((key, depth))
                stack.append((item, depth + 1))
    return None


def _check(data) -> None:
    # Text a field's value cannot hold is that field's error, as the serializers word theirs; the
    # field's name is quoted back, so only when the name itself is clean.
    fields = data.items() if isinstance(data, dict) else []
    for name, value in fields:
        if UNSTORABLE.search(name):
            raise exceptions.ParseError(UNSTORABLE_TEXT)
        problem = _problem(value, depth=2)
        if problem == UNSTORABLE_TEXT:
            raise exceptions.ValidationError({name: [problem]})
        if problem:
            raise exceptions.ParseError(problem)
    problem = None if fields else _problem(data, depth=1)
    if problem:
        raise exceptions.ParseError(problem)


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        # DRF hands JSON parsers request.body, so DATA_UPLOAD_MAX_MEMORY_SIZE already bounds its size
        # (a 413: stretchhub.middleware.APIErrorsAsJSONMiddleware).
        raw = stream.read()
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            raise exceptions.ParseError(f"The body is not valid {encoding} text.") from None
        try:
            data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
        except RecursionError:
            raise exceptions.ParseError(TOO_DEEP) from None
        except json.JSONDecodeError as error:
            # The decoder's message names the position only, never the text found there.
            raise exceptions.ParseError(f"JSON parse error - {error}") from None
        except ValueError:
            # Python refuses to read integers of thousands of digits.
            raise exceptions.ParseError(_("JSON parse error - a number in the body is too long.")) from None
        _check(data)
        return data
