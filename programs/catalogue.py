"""The catalogue generation: one token in the shared cache, renewed by every catalogue change.

What is cached from the catalogue (the API's program details, members' cached
pages) is stamped with the generation it was built under, and rebuilt under a
newer one. Every save or delete of a program, session, item, stretch or body
area — through the admin, its inlines, drag-and-drop reordering, a service or
seed_demo — renews it once committed. Catalogue edits are rare, so dropping
every entry at once costs nothing worth the bookkeeping of finding which
programs a stretch belongs to. These receivers only drop caches; they hold no
business rule (those live in the services). Bulk `QuerySet.update()` bypasses signals, so
the entries also expire.
"""

from __future__ import annotations

import uuid

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from stretchhub.cache import version_current

from .models import BodyArea, Program, ProgramSession, SessionItem, Stretch

GENERATION_KEY = "programs:catalogue-generation"


def catalogue_generation() -> str:
    return version_current(GENERATION_KEY, alias="default")


def _new_generation() -> None:
    cache.set(GENERATION_KEY, uuid.uuid4().hex, None)


def catalogue_changed(**kwargs) -> None:
    # After the commit: a reader rebuilding before it would otherwise store the
    # old rows under the new generation.
    transaction.on_commit(_new_generation)


for _model in (Program, ProgramSession, SessionItem, Stretch, BodyArea):
    post_save.connect(catalogue_changed, sender=_model, dispatch_uid=f"catalogue-save-{_model.__name__}")
    post_delete.connect(catalogue_changed, sender=_model, dispatch_uid=f"catalogue-delete-{_model.__name__}")
m2m_changed.connect(catalogue_changed, sender=Stretch.body_areas.through, dispatch_uid="catalogue-stretch-areas")
