"""A published program's detail as the API sends it: the rendered body, kept under a key made from its data.

The key is the program's stamp (selectors.program_detail_stamp: one query
over the rows the detail shows) plus the release, so any write — through the
admin, a bulk action, a service or `QuerySet.update()` — and any deploy make
a new key, and the entry the old one names is simply never read again and
ages out. Nothing here deletes or renews an entry (docs/caching.md).
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.utils import translation
from rest_framework.renderers import JSONRenderer

from programs import selectors
from stretchhub.release import release

from .serializers import ProgramDetailSerializer

CACHE_SECONDS = 24 * 3600


def program_detail_body(*, slug: str) -> tuple[str, bytes]:
    """(ETag, JSON body) of a published program's detail; raises Program.DoesNotExist for anything else."""
    stamp = selectors.program_detail_stamp(slug=slug)
    # One entry per language: the body holds the program's text in the active one.
    parts = (release(), slug, translation.get_language(), stamp)
    key = "api:program-detail:" + hashlib.blake2s(repr(parts).encode(), digest_size=16).hexdigest()
    entry = cache.get(key)
    if entry is None:
        # Built after the stamp was read: a write committed in between is in the
        # body already, and its own new stamp names a key of its own.
        body = JSONRenderer().render(ProgramDetailSerializer(selectors.program_page(slug=slug)).data)
        entry = (f'"{hashlib.blake2s(body, digest_size=16).hexdigest()}"', body)
        cache.set(key, entry, CACHE_SECONDS)
    return entry
