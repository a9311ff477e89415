"""Fixed-window counters (stretchhub/ratelimit.py), in whichever cache the run has: Redis in CI's second run.

Failing open with Redis down is tested with a real dead Redis in test_redis_outage.py.
"""

import pytest
from django.core.cache import caches

from stretchhub.ratelimit import rate_limit_hit


def test_it_allows_hits_within_the_rate_and_then_says_how_long_to_wait():
    assert [rate_limit_hit("test:alice", "3/min") for _ in range(3)] == [None, None, None]

    wait = rate_limit_hit("test:alice", "3/min")

    assert wait is not None and 0 < wait <= 60


def test_it_counts_each_key_on_its_own():
    rate_limit_hit("test:alice", "1/min")

    assert rate_limit_hit("test:bob", "1/min") is None
    assert rate_limit_hit("test:alice", "1/min") is not None


def test_it_lets_a_window_expire(time_machine):
    time_machine.move_to("2026-03-10 12:00:00", tick=False)
    rate_limit_hit("test:alice", "1/s")
    assert rate_limit_hit("test:alice", "1/s") is not None

    time_machine.move_to("2026-03-10 12:00:01", tick=False)

    assert rate_limit_hit("test:alice", "1/s") is None


def test_its_counters_expire_in_the_cache_after_their_window():
    backend = caches["default"]
    if not backend.__class__.__module__.startswith("django_redis"):
        pytest.skip("needs Redis: set REDIS_URL")
    from django_redis import get_redis_connection

    rate_limit_hit("test:alice", "5/min")

    names = get_redis_connection("default").keys(backend.make_key("test:alice:*"))
    assert len(names) == 1
    assert 0 < get_redis_connection("default").ttl(names[0]) <= 61
