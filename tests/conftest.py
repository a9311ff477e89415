import pytest

from tests.factories import PartnerFactory, TrainerFactory, UserFactory


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
