"""Cache helpers: Django's Redis backend keeping one redis-py client per
connection pool, a fixed-window counter and versioned entries, each costing one
round trip.

Django's RedisCacheClient.get_client() builds a new redis.Redis object on every
cache call. The connections are pooled either way, but each new client copies
redis-py's table of ~170 response callbacks: on a page served from the cache
(the dashboard read two keys then) that was a tenth of the time in Python. A
redis.Redis client is safe to share between threads (it takes a connection
from the pool per command), so one per pool is kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from django.db import transaction


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def incr_window(self, key: str, timeout: int) -> int:
        """Add one to a counter that expires `timeout` seconds after its first hit; one round trip.

        INCR creates a missing key at 1 and EXPIRE NX (Redis 7) sets the expiry
        only on that first hit, both in one pipeline, so no hit between them can
        be lost or leave a counter that never expires.
        """
        key = self.make_and_validate_key(key)
        pipeline = self._cache.get_client(key, write=True).pipeline(transaction=False)
        pipeline.incr(key)
        pipeline.expire(key, timeout, nx=True)
        count, _ = pipeline.execute()
        return count


def window_count(key: str, timeout: int, alias: str = "default") -> int:
    """Count a hit on a counter living `timeout` seconds from its first hit, in any cache backend."""
    backend = caches[alias]
    if isinstance(backend, RedisCache):
        return backend.incr_window(key, timeout)
    try:
        return backend.incr(key)
    except ValueError:
        # First hit of the window; if another thread just created the key, count on it.
        return 1 if backend.add(key, 1, timeout) else backend.incr(key)


T = TypeVar("T")


def versioned(
    *, versions: Sequence[str], key: str, make: Callable[[], T], timeout: int, tag: str = "", alias: str
) -> T:
    """`make()`'s value, kept under `key` while the version keys (and `tag`) stay the same.

    One round trip on a hit: the versions and the entry are read together, and
    the entry counts only if it was stored under those versions and tag. The
    versions are read before `make()` runs, so a value made from rows that a
    writer changed meanwhile is stored under an old version and never served.
    Writers call version_renew.
    """
    backend = caches[alias]
    found = backend.get_many([*versions, key])
    stamp = (tuple(_started(backend, v, found.get(v)) for v in versions), tag)
    entry = found.get(key)
    if entry is not None and entry[0] == stamp:
        return entry[1]
    value = make()
    backend.set(key, (stamp, value), timeout)
    return value


def version_current(version_key: str, *, alias: str) -> str:
    """The version under `version_key`, started if there is none yet."""
    backend = caches[alias]
    return _started(backend, version_key, backend.get(version_key))


def _started(backend, version_key: str, version: str | None) -> str:
    if version is None:
        # Never set, or lost with the cache: start a version no stored entry can have.
        backend.add(version_key, uuid.uuid4().hex, None)
        version = backend.get(version_key)
    return version


def version_renew(version_key: str, *, alias: str) -> None:
    """Outdate every entry stored under `version_key`: now, and again once the transaction commits.

    Now, so no reader keeps serving the old value; after the commit, because a
    reader in between still saw the old rows and stored them under the version
    set now.
    """
    backend = caches[alias]
    backend.set(version_key, uuid.uuid4().hex, None)
    transaction.on_commit(lambda: backend.set(version_key, uuid.uuid4().hex, None))
