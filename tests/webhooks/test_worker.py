"""Deliveries through a real Celery worker process, killed with SIGKILL in the middle of a POST.

The worker and its database are set up as in tests/reminders/test_celery.py
(a file database on SQLite, the test database itself on PostgreSQL).
"""

from __future__ import annotations

import os
import time
import uuid
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction

from stretchhub.celery import app
from tests.factories import PartnerFactory, UserFactory
from tests.reminders.test_celery import ON_POSTGRES, Worker, sqlite_file_db  # noqa: F401 (a fixture)
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEvent
from webhooks.tasks import webhooks_dispatch_task

from .receiver import start_receiver

pytestmark = [pytest.mark.celery]
if ON_POSTGRES:
    pytestmark.append(pytest.mark.django_db(transaction=True))

LEASE_SECONDS = 3


@pytest.fixture
def eager_celery():
    """Not here: the tasks go through the broker to the worker process."""


@pytest.fixture
def database_url(sqlite_file_db) -> str:  # noqa: F811
    if sqlite_file_db is not None:
        WebhookEvent.objects.all().delete()
        return f"sqlite:///{sqlite_file_db}"
    db = connection.settings_dict
    auth = quote(db["USER"] or "postgres") + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def queue():
    """A private queue, also this process's default: what it queues on commit goes to the test's worker."""
    name = f"webhooks-test-{uuid.uuid4().hex[:10]}"
    before = app.conf.task_default_queue
    app.conf.task_default_queue = name
    yield name
    app.conf.task_default_queue = before
    with app.connection_for_write() as conn:
        try:
            conn.default_channel.queue_purge(name)
        except Exception:  # the queue may never have been declared
            pass


@pytest.fixture
def workers(database_url, queue, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.reminders.worker_settings",
        "DJANGO_DEBUG": "1",
        "REMINDERS_TEST_QUEUE": queue,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "WEBHOOKS_TIMEOUT_SECONDS": "2",
        "WEBHOOKS_CLAIM_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    started: list[Worker] = []

    def start() -> Worker:
        worker = Worker(queue=queue, env=env, log=tmp_path / "worker.log").start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_for(condition, *, seconds: float, worker: Worker) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting; worker log:\n{worker.tail()}")
        time.sleep(0.1)


def test_a_delivery_cut_off_by_a_killed_worker_goes_out_after_a_restart(workers, queue):
    receiver = start_receiver()
    receiver.script = ["hang"]  # the first POST never gets its answer: the worker dies first
    receiver.hang_seconds = 1.5
    partner = PartnerFactory()
    member = UserFactory(partner=partner, external_id="k-1")
    endpoint = services.endpoint_create(partner=partner, url=receiver.url, events=[])
    receiver.secrets = [endpoint.secret]
    first = workers()

    with transaction.atomic():
        event = services.event_record(type="member.created", obj=member, member=member)
    wait_for(lambda: len(receiver.received) == 1, seconds=60, worker=first)
    first.kill()

    second = workers()
    # Beat's dispatch, a few seconds on: the dead worker's claim has run out by then.
    time.sleep(LEASE_SECONDS + 0.5)
    webhooks_dispatch_task.apply_async(queue=queue)
    delivered = WebhookDelivery.objects.filter(event=event, status="succeeded")
    wait_for(delivered.exists, seconds=60, worker=second)

    assert [r.webhook_id for r in receiver.received] == [event.webhook_id] * 2
    assert [p["type"] for p in receiver.verified(endpoint.secret)] == ["member.created"] * 2
    # The killed attempt never got to record itself; the one after the restart did.
    assert delivered.get().attempts == 1
    receiver.server.shutdown()
