import datetime as dt

import pytest
from rest_framework.test import APIClient

from accounts.api.services import api_token_create
from accounts.models import PartnerAPIKey
from tests.factories import PartnerFactory, UserFactory, build_program

# A Tuesday in March 2026; Europe's clocks go forward on Sunday 29 March.
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 costs ~0.3 s per factory user here; these tests are about the API, not hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def api():
    return APIClient()


def token_for(user) -> str:
    return api_token_create(user=user)[1]


def key_for(partner, name: str = "Server key") -> str:
    return PartnerAPIKey.objects.create_key(name=name, partner=partner)[1]


def as_member(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


def as_partner(partner) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key_for(partner)}")
    return client


@pytest.fixture
def program(db):
    """Two weeks, sessions on Monday, Wednesday and Friday, two stretches each."""
    return build_program(weeks=2, days=(1, 3, 5), items_per_session=2, title="Lower back relief", slug="back")


@pytest.fixture
def partner_b(db):
    return PartnerFactory(name="Gym B")


@pytest.fixture
def partner_member(partner):
    return UserFactory(username="pm-1", partner=partner, external_id="p-1", email_verified_at=None)


@pytest.fixture
def partner_b_member(partner_b):
    return UserFactory(username="pm-b", partner=partner_b, external_id="p-1", email_verified_at=None)
