import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache():
    # The resend throttle lives in the cache, which outlives a test's transaction.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # Log-in and lockout tests hash dozens of passwords; PBKDF2's cost is not what they test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
