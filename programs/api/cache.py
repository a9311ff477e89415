"""The published program detail, cached as rendered JSON.

A program's detail is the same for every caller and changes only when a
trainer edits the catalogue, so it is built once (four queries, a few
milliseconds of serialising) and then served from the cache.

Invalidation: every save or delete of a program, session, item, stretch or
body area — through the admin, its inlines, drag-and-drop reordering, a
service or seed_demo — sets a new catalogue generation (a random token), and an entry
built under an older generation is rebuilt. Catalogue edits are rare, so
dropping every program's entry at once costs nothing worth the bookkeeping of
finding which programs a stretch belongs to. These receivers only drop a
cache; they hold no business rule (STYLE.md §3). Bulk `QuerySet.update()`
bypasses signals, so the entries also expire after CACHE_SECONDS.
"""

from __future__ import annotations

import uuid

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from rest_framework.renderers import JSONRenderer

from programs import selectors
from programs.models import BodyArea, Program, ProgramSession, SessionItem, Stretch

GENERATION_KEY = "api:v1:catalogue-generation"
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

    generation = cache.get(GENERATION_KEY)
    if generation is None:
        # A cleared or restarted cache starts a new generation, so no copy
        # built before it (here or in another process) can match.
        cache.add(GENERATION_KEY, uuid.uuid4().hex, None)
        generation = cache.get(GENERATION_KEY)
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


def _new_generation() -> None:
    cache.set(GENERATION_KEY, uuid.uuid4().hex, None)


def catalogue_changed(**kwargs) -> None:
    # After the commit: a reader rebuilding before it would otherwise store the
    # old rows under the new generation.
    transaction.on_commit(_new_generation)


for _model in (Program, ProgramSession, SessionItem, Stretch, BodyArea):
    post_save.connect(catalogue_changed, sender=_model, dispatch_uid=f"api-catalogue-save-{_model.__name__}")
    post_delete.connect(catalogue_changed, sender=_model, dispatch_uid=f"api-catalogue-delete-{_model.__name__}")
m2m_changed.connect(catalogue_changed, sender=Stretch.body_areas.through, dispatch_uid="api-catalogue-stretch-areas")
