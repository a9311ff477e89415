import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import PushSubscription
from tests.factories import CompletionFactory, EnrolmentFactory, build_program

pytestmark = pytest.mark.django_db

EXPORT = "/accounts/export/"


def _history(member, *, programs: int, completions_each: int):
    for _ in range(programs):
        program = build_program(weeks=2, days=(1, 2, 3, 4, 5, 6, 7), items_per_session=1)
        enrolment = EnrolmentFactory(member=member, program=program, start_date=dt.date(2026, 3, 2))
        for session in list(program.sessions.order_by("week", "day"))[:completions_each]:
            CompletionFactory(enrolment=enrolment, program_session=session, pain_before=4, pain_after=2, note="Easier")


def test_it_downloads_the_members_data_as_one_json_attachment(client, alice):
    program = build_program(weeks=1, days=(1, 3))
    enrolment = EnrolmentFactory(
        member=alice,
        program=program,
        start_date=dt.date(2026, 3, 2),
        status="left",
        pauses=[{"started_on": "2026-03-03", "days": 2}],
        ended_at=dt.datetime(2026, 3, 9, 10, tzinfo=dt.UTC),
    )
    first = program.sessions.get(day=1)
    CompletionFactory(
        enrolment=enrolment,
        program_session=first,
        completed_at=dt.datetime(2026, 3, 2, 18, 30, tzinfo=dt.UTC),
        pain_before=6,
        pain_after=3,
        note="Tight <hamstrings> & all",
    )
    client.force_login(alice)

    response = client.get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="stretchhub-my-data-')
    data = json.loads(response.content)
    assert data["profile"]["username"] == "alice"
    assert data["profile"]["email"] == "alice@example.com"
    assert data["profile"]["timezone"] == "Europe/Berlin"
    assert data["profile"]["default_reminder_time"] == "08:00:00"
    [exported] = data["enrolments"]
    assert exported["program"] == {"title": program.title, "slug": program.slug}
    assert exported["status"] == "left"
    assert exported["start_date"] == "2026-03-02"
    assert exported["pauses"] == [{"started_on": "2026-03-03", "days": 2}]
    assert exported["ended_at"] == "2026-03-09T10:00:00+00:00"
    assert exported["completions"] == [
        {
            "session": {"week": 1, "day": 1, "title": first.title},
            "completed_at": "2026-03-02T18:30:00+00:00",
            "pain_before": 6,
            "pain_after": 3,
            "note": "Tight <hamstrings> & all",
        }
    ]


def test_it_leaves_out_other_members_data(client, alice, bob):
    _history(bob, programs=1, completions_each=3)
    client.force_login(alice)

    data = json.loads(client.get(EXPORT).content)

    assert data["enrolments"] == []
    assert "bob" not in json.dumps(data)


def test_it_costs_the_same_queries_whatever_the_history(client, alice):
    client.force_login(alice)
    _history(alice, programs=1, completions_each=1)
    with CaptureQueriesContext(connection) as small:
        client.get(EXPORT)

    _history(alice, programs=3, completions_each=14)
    with CaptureQueriesContext(connection) as large:
        response = client.get(EXPORT)

    data = json.loads(response.content)
    assert sum(len(e["completions"]) for e in data["enrolments"]) == 1 + 3 * 14
    # The session, the user, enrolments with their programs, completions with their sessions, push devices.
    assert len(large) == len(small) <= 5


def test_it_includes_the_members_push_devices(client, alice):
    PushSubscription.objects.create(
        user=alice, endpoint="https://push.example/1", p256dh="k", auth="a", label="Firefox on Android"
    )
    client.force_login(alice)

    data = json.loads(client.get(EXPORT).content)

    assert [device["label"] for device in data["push_devices"]] == ["Firefox on Android"]
