import os
import uuid

import pytest

from stretchhub.cache import RedisCache, version_renew, versioned, window_count

REDIS_URL = os.environ.get("REDIS_URL")


@pytest.mark.skipif(not REDIS_URL, reason="needs Redis: set REDIS_URL")
def test_it_keeps_one_redis_client_and_still_reads_and_writes():
    backend = RedisCache(REDIS_URL, {"KEY_PREFIX": f"test-cache-{uuid.uuid4().hex}"})
    client = backend._cache.get_client()
    assert backend._cache.get_client(write=True) is client

    backend.set("greeting", {"text": "hello"}, 30)
    assert backend.get("greeting") == {"text": "hello"}
    assert backend.get_many(["greeting", "missing"]) == {"greeting": {"text": "hello"}}
    backend.delete("greeting")
    assert backend.get("greeting", "gone") == "gone"
    assert backend._cache.get_client() is client


@pytest.mark.skipif(not REDIS_URL, reason="needs Redis: set REDIS_URL")
def test_it_counts_a_window_in_redis_and_lets_it_expire():
    backend = RedisCache(REDIS_URL, {"KEY_PREFIX": f"test-cache-{uuid.uuid4().hex}"})

    assert [backend.incr_window("hits", 60) for _ in range(3)] == [1, 2, 3]
    assert backend.get("hits") == 3
    client = backend._cache.get_client()
    key = backend.make_key("hits")
    assert 0 < client.ttl(key) <= 60
    client.expire(key, 5)
    backend.incr_window("hits", 60)
    assert client.ttl(key) <= 5  # the window's expiry is set by its first hit only


def test_it_counts_a_window_in_any_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "w"}}

    key = f"hits-{uuid.uuid4().hex}"
    assert [window_count(key, 60) for _ in range(3)] == [1, 2, 3]


@pytest.fixture
def locmem(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "v"}}


def _counted(calls: list, alias="default", tag=""):
    def make():
        calls.append(1)
        return f"value {len(calls)}"

    return versioned(versions=["version"], key="entry", make=make, timeout=60, tag=tag, alias=alias)


def test_it_keeps_a_versioned_value_until_the_version_is_renewed(locmem, db, django_capture_on_commit_callbacks):
    calls = []
    assert [_counted(calls), _counted(calls)] == ["value 1", "value 1"]
    with django_capture_on_commit_callbacks(execute=True):
        version_renew("version", alias="default")
    assert _counted(calls) == "value 2"
    assert _counted(calls, tag="tomorrow") == "value 3"


def test_it_never_serves_an_entry_once_its_version_is_lost(locmem):
    from django.core.cache import caches

    calls = []
    _counted(calls)
    caches["default"].delete("version")
    assert _counted(calls) == "value 2"
