import datetime as dt

import pytest

from stretchhub.celery import app
from tests.factories import UserFactory, build_program

from .receiver import start_receiver

# A Tuesday; the test program has sessions on Monday, Wednesday and Friday.
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    settings.WEBHOOKS_TIMEOUT_SECONDS = 1


@pytest.fixture(autouse=True)
def eager_celery():
    """Tasks queued on commit run at once, in this process: the delivery path without a broker.

    (test_worker.py, which has a real worker, turns this off.)
    """
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def receiver():
    receiver = start_receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def program(db):
    return build_program(weeks=2, days=(1, 3, 5), items_per_session=1, title="Lower back relief", slug="back")


@pytest.fixture
def partner_member(partner):
    return UserFactory(username="pm-1", partner=partner, external_id="p-1", timezone="Europe/Berlin")
