"""The published program detail, cached as rendered JSON.

A program's detail is the same for every caller and changes only when a
trainer edits the catalogue, so it is built once (four queries, a few
milliseconds of serialising) and then served from the cache.

An entry is stamped with the catalogue generation (programs.catalogue) it
was built under and rebuilt under a newer one; entries also expire after
CACHE_SECONDS.
"""

from __future__ import annotations

from django.core.cache import cache
from rest_framework.renderers import JSONRenderer

from programs import selectors
from programs.catalogue import catalogue_generation

CACHE_SECONDS = 60 * 60


def _detail_key(slug: str) -> str:
    return f"api:v1:program-detail:{slug}"


# This process's copies of rendered details, each with the generation it was
# built under: a hit costs one small cache read (the generation) instead of
# fetching and unpickling the whole body. Bounded by the published programs.
_local_bodies: dict[str, tuple[str, bytes]] = {}


def program_detail_json(*, slug: str) -> bytes:
    """The rendered detail of a published program; raises Program.DoesNotExist for anything else."""
    from .serializers import ProgramDetailSerializer

    generation = catalogue_generation()
    local = _local_bodies.get(slug)
    if local is not None and local[0] == generation:
        return local[1]
    key = _detail_key(slug)
    entry = cache.get(key)
    if entry is None or entry[0] != generation:
        page = selectors.program_page(slug=slug)
        entry = (generation, JSONRenderer().render(ProgramDetailSerializer(page).data))
        cache.set(key, entry, CACHE_SECONDS)
    _local_bodies[slug] = entry
    return entry[1]
