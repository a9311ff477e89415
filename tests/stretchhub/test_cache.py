import os
import uuid

import pytest

from stretchhub.cache import RedisCache

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
