"""The signed-in user, kept in the cache that sessions are read through.

Every signed-in page loads its user after its session; from the cache that
costs one round trip and no query. The entry is versioned
(stretchhub.cache.versioned): every save or delete of a user renews the
version, now and once committed, so a password change, a deactivation or a new
time zone counts from the next request. `QuerySet.update()` sends no signal:
the services that update users that way call user_cache_forget, and entries
expire after CACHE_SECONDS in any case. These receivers only drop a cache;
they hold no business rule (those live in the services).

The cache is settings.SESSION_CACHE_ALIAS, which every process shares (Redis,
or a folder without it), so a change made in one process is seen by all.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from stretchhub.cache import version_renew, versioned

from .models import User

CACHE_SECONDS = 10 * 60


def _version_key(user_id) -> str:
    return f"accounts:user-version:{user_id}"


def user_cached(*, user_id) -> User | None:
    """The user with this primary key (as a session stores it), or None if there is none."""
    return versioned(
        versions=[_version_key(user_id)],
        key=f"accounts:user:{user_id}",
        make=lambda: User._default_manager.filter(pk=user_id).first(),
        timeout=CACHE_SECONDS,
        alias=settings.SESSION_CACHE_ALIAS,
    )


def user_cache_forget(*, user_id) -> None:
    version_renew(_version_key(user_id), alias=settings.SESSION_CACHE_ALIAS)


def _user_changed(instance: User, **kwargs) -> None:
    user_cache_forget(user_id=instance.pk)


post_save.connect(_user_changed, sender=User, dispatch_uid="accounts-user-cache-save")
post_delete.connect(_user_changed, sender=User, dispatch_uid="accounts-user-cache-delete")
