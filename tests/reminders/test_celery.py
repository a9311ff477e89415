"""Reminders through a real Celery worker process, a real broker and a real SMTP server.

The broker is whatever the settings say: the filesystem transport on a fresh
machine, Redis in CI's second run. The worker is a subprocess (it must be: the
chaos test kills it with SIGKILL), so it needs a database another process can
open: on PostgreSQL the test database itself, with committed (transactional)
tests; on SQLite a file database made for this module, since the test
database there lives in this process's memory.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from programs.models import Completion, Enrolment
from programs.reminders import outbox
from programs.reminders.kinds import outbox_dispatch
from programs.reminders.models import OutboxMessage
from programs.reminders.services import reminder_schedule_refresh
from programs.reminders.tasks import outbox_dispatch_task, outbox_send_batch_task
from stretchhub.celery import app
from tests.factories import EnrolmentFactory, UserFactory, build_program
from tests.redis_server import redis_server_fixture

from .conftest import EVERY_DAY
from .smtp_sink import start_sink

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
REPO = Path(__file__).resolve().parents[2]
Status = OutboxMessage.Status
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe")

pytestmark = [pytest.mark.celery]
if ON_POSTGRES:
    # Rows must be committed for the worker to see them. No serialized_rollback:
    # restoring saved rows collides with the content types that the flush of
    # another transactional test made again under new ids, and what the data
    # migrations made (the Trainers group, body areas) is made again where a
    # database lost it (programs/roles.py).
    pytestmark.append(pytest.mark.django_db(transaction=True))


@pytest.fixture(scope="module")
def sqlite_file_db(django_db_blocker, tmp_path_factory):
    """On SQLite: point this process at a migrated file database the worker can open too."""
    if ON_POSTGRES:
        yield None
        return
    path = tmp_path_factory.mktemp("celery-db") / "reminders.sqlite3"
    with django_db_blocker.unblock():
        original = connections["default"]
        swapped = original.__class__({**original.settings_dict, "NAME": str(path)}, alias="default")
        connections["default"] = swapped
        try:
            call_command("migrate", verbosity=0, interactive=False)
            yield path
        finally:
            swapped.close()
            connections["default"] = original


@pytest.fixture
def database_url(sqlite_file_db, request) -> str:
    if sqlite_file_db is not None:
        # One file database for the module: start each test from no enrolments.
        Enrolment.objects.all().delete()
        return f"sqlite:///{sqlite_file_db}"
    db = connection.settings_dict
    auth = quote(db["USER"] or "postgres") + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """`celery -A stretchhub worker` in its own process group, on a private queue."""

    def __init__(self, *, queue: str, env: dict, log: Path):
        self.queue, self.env, self.log = queue, env, log
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "stretchhub",
                    "worker",
                    "-Q",
                    self.queue,
                    "--concurrency=2",
                    "--pool=prefork",
                    "--loglevel=INFO",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    f"--hostname=reminders-test-{uuid.uuid4().hex[:6]}@%h",
                ],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool) at once."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])


@pytest.fixture
def sink():
    sink, controller = start_sink()
    sink.port = controller.port
    yield sink
    sink.release.set()
    controller.stop()


@pytest.fixture
def queue():
    name = f"reminders-test-{uuid.uuid4().hex[:10]}"
    yield name
    # Drop whatever is left on the private queue (duplicates the claims refused).
    with app.connection_for_write() as conn:
        try:
            conn.default_channel.queue_purge(name)
        except Exception:  # the queue may never have been declared
            pass


@pytest.fixture
def workers(database_url, sink, queue, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.reminders.worker_settings",
        "DJANGO_DEBUG": "1",
        "REMINDERS_TEST_QUEUE": queue,
        "DATABASE_URL": database_url,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "EMAIL_TIMEOUT": "10",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    started: list[Worker] = []

    def start() -> Worker:
        worker = Worker(queue=queue, env=env, log=tmp_path / "worker.log").start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def enqueue_on(queue: str):
    def enqueue(delivery_ids, token):
        outbox_send_batch_task.apply_async((delivery_ids, token.isoformat()), queue=queue)

    return enqueue


def due_now(count: int) -> list[Enrolment]:
    """`count` members in four zones whose reminder time, in their own zone, was a minute ago."""
    # No author: a trainer needs the "Trainers" group, which an earlier
    # transactional test elsewhere in the suite may have flushed away.
    program = build_program(weeks=1, days=EVERY_DAY, items_per_session=2, author=None)
    due_at = (timezone.now() - dt.timedelta(minutes=1)).replace(microsecond=0)
    enrolments = []
    for n in range(count):
        zone = ZONES[n % len(ZONES)]
        local = due_at.astimezone(ZoneInfo(zone))
        member = UserFactory(timezone=zone, password=None)
        enrolments.append(
            EnrolmentFactory(program=program, member=member, start_date=local.date(), reminder_time=local.time())
        )
    reminder_schedule_refresh(enrolments=enrolments, now=due_at - dt.timedelta(seconds=30))
    assert all(e.next_reminder_at == due_at for e in enrolments)
    return enrolments


def wait_for(condition, *, timeout: float, what: str, worker: Worker | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    detail = f"\n--- worker log ---\n{worker.tail()}" if worker else ""
    raise AssertionError(f"Timed out waiting for {what}{detail}")


def statuses(enrolments) -> dict:
    rows = OutboxMessage.objects.filter(enrolment__in=enrolments)
    return dict(rows.values_list("enrolment_id", "status"))


def test_it_delivers_one_complete_email_per_due_member_through_a_real_worker(workers, sink, queue):
    enrolments = due_now(12)
    worker = workers()
    outbox_dispatch_task.apply_async(queue=queue)

    wait_for(lambda: sink.count >= 12, timeout=60, what="12 messages at the SMTP server", worker=worker)
    wait_for(
        lambda: set(statuses(enrolments).values()) == {Status.SENT},
        timeout=20,
        what="deliveries marked sent",
        worker=worker,
    )
    by_recipient = {item.rcpt_tos[0]: item.message for item in sink.received}
    assert sorted(by_recipient) == sorted(e.member.email for e in enrolments)
    assert len(sink.peers) == 1, "one batch, one SMTP connection"

    site = settings.SITE_URL
    for enrolment in enrolments:
        message: EmailMessage = by_recipient[enrolment.member.email]
        assert message["To"] == enrolment.member.email
        assert message["Subject"].startswith("Time to stretch: Week 1 day ")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert re.fullmatch(rf"<{re.escape(site)}/r/unsubscribe/[^>]+/>", message["List-Unsubscribe"].strip())
        assert message.get_content_type() == "multipart/alternative"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        for part in (text, html):
            assert f"{site}/enrolments/{enrolment.pk}/sessions/" in part
            assert f"{site}/r/done/" in part and f"{site}/r/unsubscribe/" in part

    # The done link in the email works: GET asks, POST ticks the session off.
    message = by_recipient[enrolments[0].member.email]
    done_path = urlsplit(re.search(rf"{re.escape(site)}(/r/done/\S+/)", message.get_body(("plain",)).get_content())[0])
    client = Client()
    assert b"Yes, I did it" in client.get(done_path.path).content
    assert client.post(done_path.path).status_code == 200
    assert Completion.objects.filter(enrolment=enrolments[0]).count() == 1


def test_it_sends_exactly_one_email_per_member_through_duplicate_dispatchers_a_killed_worker_and_451s(
    workers, sink, queue
):
    enrolments = due_now(30)
    emails = sorted(e.member.email for e in enrolments)
    # A quarter of the members first get "451 try again later"; the 8th message
    # is held open so the worker can be killed in the middle of sending it.
    unlucky = set(emails[::4])
    sink.reply = lambda rcpt, attempt: "451 4.3.0 Greylisted, try again later" if rcpt in unlucky else None
    sink.hold_at = 8

    first = workers()
    # Three dispatchers at once: two in the worker's pool, one here.
    outbox_dispatch_task.apply_async(queue=queue)
    outbox_dispatch_task.apply_async(queue=queue)
    outbox_dispatch(enqueue=enqueue_on(queue), batch_size=5)
    assert OutboxMessage.objects.filter(enrolment__in=enrolments).count() == 30

    assert sink.holding.wait(60), f"the worker never reached the 8th message\n{first.tail()}"
    # Kill while the held message is the worker's only SMTP transaction: its
    # other pool process may still be sending, and SIGKILL between a server's
    # 250 and the SENT mark is the one duplicate the design accepts (the claim
    # in programs/reminders/services.py). So wait until nothing else moves.
    previous, quiet_since = None, time.monotonic()
    while time.monotonic() - quiet_since < 1:
        current = (sink.data_commands, sink.count)
        if current != previous:
            previous, quiet_since = current, time.monotonic()
        time.sleep(0.05)
    killed_at = timezone.now()
    first.kill()

    second = workers()

    def idle():
        # Nothing the new worker claimed is still in its hands.
        return not OutboxMessage.objects.filter(
            enrolment__in=enrolments, status=Status.CLAIMED, claimed_at__gt=killed_at
        ).exists()

    wait_for(lambda: Status.RETRYING in statuses(enrolments).values(), timeout=60, what="retries", worker=second)
    # Wait until the second worker has drained the queue: nothing changes for 3 s.
    previous, stable_since = None, time.monotonic()
    while time.monotonic() - stable_since < 3:
        current = (idle(), sink.count, sorted(statuses(enrolments).items()))
        if current != previous:
            previous, stable_since = current, time.monotonic()
        time.sleep(0.3)
    assert idle(), "the second worker should be idle before claims are taken back"

    # The mail server recovers; ten minutes later the dispatcher takes back the
    # claims the killed worker left and re-queues the retries.
    sink.reply = None
    later = killed_at + outbox.sending_lease() + dt.timedelta(seconds=1)
    result = outbox_dispatch(enqueue=enqueue_on(queue), now=later, batch_size=5)
    assert result.requeued > 0

    wait_for(
        lambda: set(statuses(enrolments).values()) == {Status.SENT},
        timeout=60,
        what="every delivery sent",
        worker=second,
    )
    wait_for(lambda: sink.count >= 30, timeout=10, what="30 messages", worker=second)
    time.sleep(1)  # anything doubled would arrive now
    assert sink.recipients() == {email: 1 for email in emails}
    # Some members were greylisted and got their email on a later attempt.
    assert any(sink.attempts[email] >= 2 for email in unlucky)
    assert OutboxMessage.objects.filter(enrolment__in=enrolments, attempts__gte=2).exists()
    assert OutboxMessage.objects.filter(enrolment__in=enrolments).count() == 30


# --- A broker outage ------------------------------------------------------------------------------------
#
# The broker here is a redis-server of this module's own, whatever the suite's
# broker, killed with SIGKILL while a dispatch runs: every message it held is
# lost, as in a crash.

redis_server = pytest.fixture(scope="module")(redis_server_fixture)


def _forget_broker_connections() -> None:
    # The app keeps its connection and producer pools for the broker it first
    # used; dropped, they are made again from the URLs now configured.
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker(redis_server, settings):
    """This process's Celery app and the test workers on the module's redis-server."""
    if not redis_server.ping():
        redis_server.start()
    url = redis_server.url(1)
    # The workers fixture hands the worker this URL.
    settings.CELERY_BROKER_URL = url
    # broker_url itself would lose to a CELERY_BROKER_URL variable; the read
    # and write URLs are what connections use.
    app.conf.update(broker_read_url=url, broker_write_url=url)
    saved_options = app.conf.broker_transport_options
    app.conf.broker_transport_options = {"visibility_timeout": 3600}
    _forget_broker_connections()
    yield redis_server
    app.conf.update(broker_read_url=None, broker_write_url=None, broker_transport_options=saved_options)
    _forget_broker_connections()


def test_reminders_dispatched_while_the_broker_is_down_go_out_once_when_it_returns(
    broker, workers, sink, queue, caplog
):
    enrolments = due_now(6)
    emails = sorted(e.member.email for e in enrolments)
    worker = workers()
    wait_for(lambda: re.search(r"\bready\.", worker.log.read_text()), timeout=60, what="the worker", worker=worker)

    broker.kill()
    # This minute's dispatch, as a worker runs it: the rows are claimed in the
    # database, but no message can reach the broker.
    with caplog.at_level(logging.WARNING):
        outbox_dispatch_task()

    assert OutboxMessage.objects.filter(enrolment__in=enrolments).count() == 6
    assert set(statuses(enrolments).values()) == {Status.CLAIMED}
    assert "Reminders held back: 6 could not be queued" in caplog.text
    assert sink.count == 0

    broker.start()
    # The next minute's dispatch, sent by beat; the worker reconnects and runs it.
    outbox_dispatch_task.apply_async(queue=queue)

    wait_for(
        lambda: set(statuses(enrolments).values()) == {Status.SENT},
        timeout=90,
        what="every delivery sent",
        worker=worker,
    )
    wait_for(lambda: sink.count >= 6, timeout=10, what="6 messages", worker=worker)
    time.sleep(1)  # anything doubled would arrive now
    assert sink.recipients() == {email: 1 for email in emails}
