import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.cache import caches
from django.test import override_settings

from stretchhub.celery import app as celery_app
from stretchhub.tasks import HEARTBEAT_KEY, beat_heartbeat_task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_heartbeat():
    caches["heartbeat"].delete(HEARTBEAT_KEY)
    yield
    caches["heartbeat"].delete(HEARTBEAT_KEY)


@pytest.fixture
def unreachable_broker():
    # Publishing uses the write URL (which a CELERY_BROKER_URL variable would
    # override for broker_url). Nothing listens on port 1: refused at once.
    celery_app.conf.broker_write_url = "redis://127.0.0.1:1/0"
    yield
    celery_app.conf.broker_write_url = None


def test_it_reports_the_database_healthy(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_it_reports_everything_healthy_after_beat_ticked(client):
    beat_heartbeat_task()

    response = client.get("/healthz?full=1")

    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["cache"] == "ok"
    assert body["broker"] == "ok"
    assert body["beat"].startswith("ok")


def test_it_is_unhealthy_before_beat_ever_ticked(client):
    response = client.get("/healthz?full=1")

    assert response.status_code == 503
    assert response.json()["beat"] == "no heartbeat yet"


def test_it_is_unhealthy_when_beat_stopped_ticking(client):
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC), tick=False) as traveller:
        beat_heartbeat_task()
        traveller.shift(dt.timedelta(minutes=2))
        assert client.get("/healthz?full=1").status_code == 200

        traveller.shift(dt.timedelta(minutes=2))
        response = client.get("/healthz?full=1")

    assert response.status_code == 503
    assert response.json()["beat"] == "stale: last tick 240s ago"


def test_it_is_unhealthy_when_the_broker_does_not_answer(client, unreachable_broker):
    beat_heartbeat_task()

    response = client.get("/healthz?full=1")

    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")


def test_it_ignores_the_broker_and_beat_in_the_plain_check(client, unreachable_broker):
    assert client.get("/healthz").status_code == 200


def test_it_schedules_the_heartbeat_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["beat-heartbeat"]

    assert entry["task"] == beat_heartbeat_task.name
    assert entry["schedule"] == 60.0
    assert beat_heartbeat_task.name in celery_app.tasks


@override_settings(SECURE_SSL_REDIRECT=True)
def test_it_answers_probes_over_plain_http_when_https_is_enforced(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 301


@pytest.fixture
def worker_queue(tmp_path):
    """A real Celery worker process on a queue of its own, configured like the test run."""
    queue = f"stretchhub-test-{uuid.uuid4().hex[:10]}"
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "stretchhub", "worker", "-Q", queue, "--pool=solo"]
        + ["--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=WARNING"],
        cwd=Path(__file__).resolve().parents[2],
        env=os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield queue
    worker.terminate()
    try:
        worker.wait(20)
    except subprocess.TimeoutExpired:
        worker.kill()
    log.close()


@pytest.mark.celery
def test_it_is_healthy_once_a_real_worker_ran_the_heartbeat(client, worker_queue):
    # What beat does every minute; the worker knows the task only through
    # CELERY_IMPORTS, since stretchhub is not an installed app.
    beat_heartbeat_task.apply_async(queue=worker_queue)

    deadline = time.monotonic() + 60
    while caches["heartbeat"].get(HEARTBEAT_KEY) is None and time.monotonic() < deadline:
        time.sleep(0.2)

    response = client.get("/healthz?full=1")
    assert response.status_code == 200, response.json()
    assert response.json()["beat"].startswith("ok")


def test_it_clears_expired_sessions_and_keeps_live_ones(db):
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session

    from stretchhub.tasks import sessions_clear_expired_task

    live, old = SessionStore(), SessionStore()
    live.create()
    old.set_expiry(-1)
    old.create()

    sessions_clear_expired_task()

    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
