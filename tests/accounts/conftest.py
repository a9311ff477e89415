import pytest


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # Log-in and lockout tests hash dozens of passwords; PBKDF2's cost is not what they test.
    # (The resend throttle's cache is emptied between tests by tests/conftest.py.)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
