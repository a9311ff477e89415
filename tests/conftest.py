import uuid

import pytest
from django.test import Client, RequestFactory

from tests.factories import PartnerFactory, TrainerFactory, UserFactory


class AxesAwareClient(Client):
    """django-axes refuses authenticate() without a request; Client.login() gives none, so lend it one."""

    def login(self, **credentials):
        credentials.setdefault("request", RequestFactory().post("/accounts/login/"))
        return super().login(**credentials)


@pytest.fixture
def client():
    return AxesAwareClient()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # Factories and log-ins hash many passwords; PBKDF2's cost is not what tests check.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", display_name="Alice", timezone="Europe/Berlin")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", display_name="Bob", timezone="America/New_York")


@pytest.fixture
def trainer(db):
    return TrainerFactory(username="tina", display_name="Tina Trainer")


@pytest.fixture
def partner(db):
    return PartnerFactory(name="Back Clinic")


@pytest.fixture(autouse=True)
def _own_cache_keys(settings):
    # Each test counts throttles and rate limits under keys of its own, so no
    # count leaks from one test to the next — and no test empties a Redis
    # database that the run was lent (CI's REDIS_URL) rather than made for it.
    # (Beat's heartbeat keeps the run's keys: a worker process must find it.)
    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"], "KEY_PREFIX": uuid.uuid4().hex}}


@pytest.fixture(autouse=True)
def _site_language():
    # Each request activates its own language and leaves it active in the thread: a test that
    # made a German request would otherwise hand German to the next test's factories.
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture(autouse=True)
def _own_media_folder(settings, tmp_path_factory):
    # Stored pictures and videos go to a folder of each test's own, never to var/media/.
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
