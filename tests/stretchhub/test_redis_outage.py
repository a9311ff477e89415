"""Redis down is not an outage: with the cache's redis-server killed, members still read, log in and tick.

The cache here is a real redis-server of this module's own, configured exactly
as production configures django-redis (read from a production process), and
killed with SIGKILL in each test. The database is the source of truth: pages,
log-ins and ticks need nothing else, and the rate limits fail open with a
warning (stretchhub/ratelimit.py). Reminders through a broker outage are in
tests/reminders/test_broker_outage.py.
"""

from __future__ import annotations

import logging
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.api.services import api_token_create
from accounts.models import User
from programs import services
from programs.models import Completion
from tests.factories import PASSWORD, TrainerFactory, build_program
from tests.redis_server import redis_server_fixture, skip_without_redis_server

from .production import production_settings

skip_without_redis_server()

pytestmark = pytest.mark.django_db

redis_server = pytest.fixture(scope="module")(redis_server_fixture)
NOT_COUNTED = "not counted: the cache is unavailable; allowing the request."


@pytest.fixture(scope="module")
def production_caches(redis_server) -> dict:
    return production_settings("CACHES", REDIS_URL=redis_server.url(0))["CACHES"]


@pytest.fixture
def redis(redis_server, production_caches, settings):
    """Both cache aliases on the module's redis-server, as production has them; running at the start."""
    if not redis_server.ping():
        redis_server.start()
    prefix = uuid.uuid4().hex  # counts of one test never reach the next
    settings.CACHES = {alias: {**config, "KEY_PREFIX": prefix} for alias, config in production_caches.items()}
    assert settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache"
    assert settings.CACHES["default"]["OPTIONS"]["IGNORE_EXCEPTIONS"] is True
    cache.set("probe", 1)
    assert cache.get("probe") == 1, "the cache should work before Redis is killed"
    return redis_server


@pytest.fixture
def redis_down(redis):
    redis.kill()
    return redis


@pytest.fixture
def throttle_rates(settings):
    """Set API throttle rates; DRF's api_settings follows the settings fixture."""

    def set_rates(**rates: str) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
        }

    return set_rates


@pytest.fixture
def program(db):
    return build_program(weeks=1, days=(1, 2, 3, 4, 5, 6, 7), items_per_session=2, title="Loose back")


@pytest.fixture
def enrolment(alice, program):
    today = timezone.localdate(timezone=ZoneInfo(alice.timezone))
    return services.enrolment_create(member=alice, program=program, start_date=today)


@pytest.fixture
def first_session(program):
    return program.sessions.order_by("week", "day").first()


@pytest.fixture
def member_client(alice):
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def member_api(alice):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=alice)[1]}")
    return api


def not_counted(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.WARNING and NOT_COUNTED in r.getMessage()]


# --- Pages and API reads --------------------------------------------------------------------------------

MEMBER_PAGES = {
    "home": lambda e, s: reverse("home"),
    "catalogue": lambda e, s: reverse("programs:catalogue"),
    "program": lambda e, s: reverse("programs:detail", kwargs={"slug": e.program.slug}),
    "dashboard": lambda e, s: reverse("programs:dashboard"),
    "progress": lambda e, s: reverse("programs:enrolment", kwargs={"pk": e.pk}),
    "session": lambda e, s: reverse("programs:session", kwargs={"pk": e.pk, "session_pk": s.pk}),
    "settings": lambda e, s: reverse("accounts:settings"),
}


@pytest.mark.parametrize("page", MEMBER_PAGES)
def test_every_member_page_answers_while_redis_is_down(redis_down, member_client, enrolment, first_session, page):
    response = member_client.get(MEMBER_PAGES[page](enrolment, first_session))

    assert response.status_code == 200


MEMBER_READS = {
    "programs": lambda e: "/api/v1/programs/",
    "program": lambda e: f"/api/v1/programs/{e.program.slug}/",
    "me": lambda e: "/api/v1/me/",
    "enrolments": lambda e: "/api/v1/enrolments/",
    "progress": lambda e: f"/api/v1/enrolments/{e.pk}/progress/",
}


@pytest.mark.parametrize("endpoint", MEMBER_READS)
def test_every_api_read_answers_a_member_while_redis_is_down(redis_down, member_api, enrolment, endpoint):
    response = member_api.get(MEMBER_READS[endpoint](enrolment))

    assert response.status_code == 200, response.content


@pytest.mark.parametrize("path", ["/api/v1/programs/", "/api/v1/programs/{slug}/"])
def test_the_public_api_answers_anonymously_while_redis_is_down(redis_down, program, path):
    response = APIClient().get(path.format(slug=program.slug))

    assert response.status_code == 200, response.content


def test_the_api_throttle_still_runs_and_lets_callers_through_with_a_warning(
    redis_down, program, throttle_rates, caplog
):
    throttle_rates(anon="1/min")
    api = APIClient()

    codes = [api.get("/api/v1/programs/").status_code for _ in range(3)]

    assert codes == [200, 200, 200]
    warnings = not_counted(caplog)
    assert len(warnings) == 3
    assert all("api:throttle:anon:" in r.getMessage() for r in warnings)


# --- Log-ins and account forms --------------------------------------------------------------------------


def test_the_web_login_works_while_redis_is_down(redis_down, alice):
    client = Client()

    response = client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("programs:dashboard")
    assert int(client.session["_auth_user_id"]) == alice.pk
    assert client.get(reverse("programs:dashboard")).status_code == 200


def test_the_admin_login_works_while_redis_is_down(redis_down):
    trainer = TrainerFactory(username="tina")
    client = Client()

    response = client.post("/admin/login/?next=/admin/", {"username": "tina", "password": PASSWORD, "next": "/admin/"})

    assert response.status_code == 302, response.content
    assert response["Location"] == "/admin/"
    assert int(client.session["_auth_user_id"]) == trainer.pk
    assert client.get("/admin/").status_code == 200


def test_an_api_token_is_issued_while_redis_is_down(redis_down, alice, caplog):
    api = APIClient()

    response = api.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")

    assert response.status_code == 201, response.content
    api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert api.get("/api/v1/me/").json()["username"] == "alice"
    assert any("api:throttle:token:" in r.getMessage() for r in not_counted(caplog))


def test_signup_works_while_redis_is_down(redis_down, caplog):
    client = Client()
    data = {
        "email": "carol@example.com",
        "display_name": "Carol",
        "password1": "a-long-stretchy-secret",
        "password2": "a-long-stretchy-secret",
        "timezone": "Europe/Paris",
    }

    response = client.post(reverse("accounts:signup"), data)

    assert response.status_code == 302, response.content
    assert response["Location"] == reverse("accounts:verify_sent")
    assert User.objects.filter(email="carol@example.com").exists()
    assert any("accounts:signup:" in r.getMessage() for r in not_counted(caplog))


def test_a_password_reset_is_sent_while_redis_is_down(redis_down, alice, caplog):
    response = Client().post(reverse("accounts:password_reset"), {"email": "alice@example.com"})

    assert response.status_code == 302, response.content
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert not_counted(caplog)


# --- Ticks ---------------------------------------------------------------------------------------------


def test_a_tick_on_the_web_is_stored_while_redis_is_down(redis_down, member_client, enrolment, first_session):
    url = reverse("programs:session_tick", kwargs={"pk": enrolment.pk, "session_pk": first_session.pk})

    response = member_client.post(url, {"pain_after": "2"})

    assert response.status_code == 302
    completion = Completion.objects.get(enrolment=enrolment)
    assert (completion.program_session, completion.pain_after) == (first_session, 2)


def test_a_tick_through_the_api_is_stored_while_redis_is_down(redis_down, member_api, enrolment, first_session):
    response = member_api.post(
        f"/api/v1/enrolments/{enrolment.pk}/completions/",
        {"session": first_session.pk, "pain_after": 1},
        format="json",
    )

    assert response.status_code == 201, response.content
    completion = Completion.objects.get(enrolment=enrolment)
    assert (completion.program_session, completion.pain_after) == (first_session, 1)


def test_an_undo_through_the_api_is_stored_while_redis_is_down(redis_down, member_api, enrolment, first_session):
    services.completion_record(
        enrolment=enrolment, program_session=first_session, pain_before=None, pain_after=None, note=""
    )

    response = member_api.delete(f"/api/v1/enrolments/{enrolment.pk}/completions/{first_session.pk}/")

    assert response.status_code == 204
    assert not Completion.objects.filter(enrolment=enrolment).exists()


def test_the_counters_count_again_once_redis_is_back(redis, program, throttle_rates, caplog):
    throttle_rates(anon="2/min")
    api = APIClient()
    redis.kill()
    assert [api.get("/api/v1/programs/").status_code for _ in range(3)] == [200, 200, 200]

    redis.start()
    caplog.clear()

    assert [api.get("/api/v1/programs/").status_code for _ in range(3)] == [200, 200, 429]
    assert not not_counted(caplog)
    cache.set("probe", 2)
    assert cache.get("probe") == 2


# --- Errors and health ----------------------------------------------------------------------------------


def test_an_unexpected_api_error_is_json_while_redis_is_down(redis_down, program, monkeypatch):
    from programs.api import views

    def broken(*args, **kwargs):
        raise RuntimeError("an unexpected bug")

    monkeypatch.setattr(views.ProgramViewSet, "list", broken)
    client = Client(raise_request_exception=False)

    response = client.get("/api/v1/programs/")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"message", "code", "errors"}


def test_the_plain_health_check_passes_while_redis_is_down(redis_down, client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok"}


def test_the_full_health_check_reports_the_cache_and_beat_failing_while_redis_is_down(redis_down, client):
    response = client.get("/healthz?full=1")

    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["cache"].startswith("error")
    assert not body["beat"].startswith("ok")


def test_the_full_health_check_reports_the_cache_working_while_redis_is_up(redis, client):
    assert client.get("/healthz?full=1").json()["cache"] == "ok"
