import datetime as dt
import threading

import pytest
from django.db import connection, connections

from programs.models import Completion, Enrolment
from stretchhub.api.idempotency import idempotency_records_prune
from stretchhub.api.models import IdempotencyRecord
from tests.api.conftest import as_member, as_partner, token_for
from tests.factories import EnrolmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_api(alice, now):
    return as_member(alice)


def _enrol(client, key, body=None, **extra):
    return client.post(
        "/api/v1/enrolments/", body or {"program": "back"}, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra
    )


def test_it_replays_the_first_response_for_the_same_key_and_body(alice_api, program):
    first = _enrol(alice_api, "k-1")
    again = _enrol(alice_api, "k-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Enrolment.objects.count() == 1


def test_it_ignores_key_order_and_spacing_in_the_body(alice_api, program):
    first = alice_api.generic(
        "POST",
        "/api/v1/enrolments/",
        '{"program": "back", "reminder_time": "07:00"}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    again = alice_api.generic(
        "POST",
        "/api/v1/enrolments/",
        '{"reminder_time":"07:00","program":"back"}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )

    assert again.json() == first.json()
    assert Enrolment.objects.count() == 1


def test_it_answers_the_same_key_with_another_body_with_a_409(alice_api, program):
    _enrol(alice_api, "k-3")

    response = _enrol(alice_api, "k-3", {"program": "back", "reminder_time": "09:00"})

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_conflict"
    assert Enrolment.objects.get().reminder_time == dt.time(8, 0)


def test_it_answers_the_same_key_on_another_endpoint_with_a_409(alice_api, program):
    enrolment_id = _enrol(alice_api, "k-4").json()["id"]

    response = alice_api.post(f"/api/v1/enrolments/{enrolment_id}/pause/", HTTP_IDEMPOTENCY_KEY="k-4")

    assert response.status_code == 409
    assert Enrolment.objects.get().status == "active"


def test_it_replays_errors_too(alice_api, program):
    first = _enrol(alice_api, "k-5", {"program": "nope"})
    again = _enrol(alice_api, "k-5", {"program": "nope"})

    assert first.status_code == again.status_code == 404
    assert again["Idempotent-Replayed"] == "true"


def test_it_replays_a_tick_without_ticking_again(alice_api, alice, program):
    enrolment = EnrolmentFactory(member=alice, program=program, start_date=dt.date(2026, 3, 2))
    url = f"/api/v1/enrolments/{enrolment.pk}/completions/"
    session = program.sessions.get(week=1, day=1)
    body = {"session": session.pk, "pain_before": 4}

    first = alice_api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="tick-1")
    Completion.objects.all().delete()  # even if the state changed since, a retry gets the first answer
    again = alice_api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="tick-1")

    assert first.status_code == again.status_code == 201
    assert not Completion.objects.exists()


def test_it_replays_a_no_content_response(alice_api, alice, program):
    enrolment = EnrolmentFactory(member=alice, program=program, start_date=dt.date(2026, 3, 2))
    session = program.sessions.get(week=1, day=1)
    Completion.objects.create(enrolment=enrolment, program_session=session)
    url = f"/api/v1/enrolments/{enrolment.pk}/completions/{session.pk}/"

    assert alice_api.delete(url, HTTP_IDEMPOTENCY_KEY="undo").status_code == 204
    again = alice_api.delete(url, HTTP_IDEMPOTENCY_KEY="undo")

    assert again.status_code == 204
    assert again["Idempotent-Replayed"] == "true"


def test_it_keeps_keys_per_caller(alice, bob, partner, partner_b, program, now):
    first = _enrol(as_member(alice), "shared")
    second = _enrol(as_member(bob), "shared")

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert IdempotencyRecord.objects.filter(key="shared").count() == 2


def test_it_shares_keys_between_the_keys_of_one_partner(partner, program, now):
    member = UserFactory(partner=partner, external_id="x")
    url = f"/api/v1/partner/members/{member.pk}/enrolments/"
    one, two = as_partner(partner), as_partner(partner)

    first = one.post(url, {"program": "back"}, format="json", HTTP_IDEMPOTENCY_KEY="p")
    again = two.post(url, {"program": "back"}, format="json", HTTP_IDEMPOTENCY_KEY="p")

    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_it_refuses_a_malformed_key(alice_api, program, key):
    response = _enrol(alice_api, key)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert not Enrolment.objects.exists()


def test_it_forgets_keys_after_a_day(alice_api, program, time_machine, now):
    first = _enrol(alice_api, "old")
    Enrolment.objects.all().delete()
    time_machine.move_to(now + dt.timedelta(hours=25), tick=False)

    again = _enrol(alice_api, "old")

    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]
    assert not again.has_header("Idempotent-Replayed")


def test_it_prunes_records_older_than_a_day(alice_api, program, now):
    _enrol(alice_api, "a")

    assert idempotency_records_prune(now=now + dt.timedelta(hours=23)) == 0
    assert idempotency_records_prune(now=now + dt.timedelta(hours=25)) == 1


def test_it_stores_nothing_for_reads_or_unkeyed_writes(alice_api, program):
    alice_api.get("/api/v1/enrolments/", HTTP_IDEMPOTENCY_KEY="read")
    alice_api.post("/api/v1/enrolments/", {"program": "back"}, format="json")

    assert not IdempotencyRecord.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: SQLite serialises writers anyway")
@pytest.mark.django_db(transaction=True)
def test_it_makes_two_simultaneous_retries_one(alice, program):
    token = token_for(alice)
    barrier = threading.Barrier(2)
    responses = []

    def send():
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        barrier.wait()
        try:
            responses.append(_enrol(client, "race"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.status_code for r in responses) == [201, 201]
    assert responses[0].json()["id"] == responses[1].json()["id"]
    assert Enrolment.objects.count() == 1
    assert [r.has_header("Idempotent-Replayed") for r in responses].count(True) == 1
