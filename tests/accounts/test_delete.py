import datetime as dt

import pytest
from axes.models import AccessAttempt, AccessLog
from django.urls import reverse

from accounts.models import User
from accounts.services import user_delete_account
from programs.models import Completion, Enrolment
from programs.reminders.services import reminder_schedule_refresh
from tests.factories import PASSWORD, CompletionFactory, EnrolmentFactory, build_program

pytestmark = pytest.mark.django_db

DELETE = "/accounts/delete/"


@pytest.fixture
def history(alice, bob, time_machine):
    """Alice: one active, one paused and one finished enrolment with notes; Bob: one of his own."""
    time_machine.move_to(dt.datetime(2026, 5, 10, 4, 0, tzinfo=dt.UTC), tick=False)
    program = build_program(weeks=2, days=(1, 2, 3, 4, 5, 6, 7), items_per_session=1)
    other = build_program(weeks=2, days=(1, 3, 5), items_per_session=1)
    old = build_program(weeks=1, days=(1,), items_per_session=1)
    active = EnrolmentFactory(member=alice, program=program, start_date=dt.date(2026, 5, 4))
    paused = EnrolmentFactory(
        member=alice, program=other, start_date=dt.date(2026, 5, 4), status="paused", paused_on=dt.date(2026, 5, 8)
    )
    done = EnrolmentFactory(member=alice, program=old, start_date=dt.date(2026, 4, 1), status="completed")
    bobs = EnrolmentFactory(member=bob, program=program, start_date=dt.date(2026, 5, 4))
    sessions = list(program.sessions.order_by("week", "day"))
    for session in sessions[:3]:
        CompletionFactory(enrolment=active, program_session=session, pain_before=5, pain_after=2, note="Felt good")
        CompletionFactory(enrolment=bobs, program_session=session, pain_after=1, note="Bob's note")
    CompletionFactory(enrolment=paused, program_session=other.sessions.first(), note="Paused one")
    CompletionFactory(enrolment=done, program_session=old.sessions.first(), note="")
    reminder_schedule_refresh(enrolments=[active, paused, bobs])
    return {"active": active, "paused": paused, "done": done, "bobs": bobs}


def test_it_asks_for_the_password(client, alice):
    client.force_login(alice)

    response = client.get(DELETE)

    assert response.status_code == 200
    assert 'type="password"' in response.content.decode()


def test_it_keeps_everything_when_the_password_is_wrong(client, alice, history):
    client.force_login(alice)

    response = client.post(DELETE, {"password": "not-my-password"})

    assert response.status_code == 200
    assert "Nothing was deleted" in response.content.decode()
    assert User.objects.filter(pk=alice.pk).exists()
    assert Enrolment.objects.filter(member=alice).count() == 3
    assert Completion.objects.filter(enrolment__member=alice).exclude(note="").count() == 4
    assert int(client.session["_auth_user_id"]) == alice.pk


def test_it_anonymises_the_members_history_and_logs_them_out(client, alice, history):
    client.force_login(alice)
    completions_before = Completion.objects.count()
    pains_before = sorted(Completion.objects.values_list("pain_before", "pain_after"), key=str)

    response = client.post(DELETE, {"password": PASSWORD})

    assert response["Location"] == reverse("home")
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(pk=alice.pk).exists()
    assert not User.objects.filter(email__iexact="alice@example.com").exists()
    # The history stays, anonymous, so a trainer's adherence figures do not move.
    assert Completion.objects.count() == completions_before
    assert sorted(Completion.objects.values_list("pain_before", "pain_after"), key=str) == pains_before
    anonymous = Enrolment.objects.filter(pk__in=[history[k].pk for k in ("active", "paused", "done")])
    assert all(e.member_id is None for e in anonymous)
    assert not Completion.objects.filter(enrolment__in=anonymous).exclude(note="").exists()


def test_it_ends_current_enrolments_and_stops_their_reminders(client, alice, history):
    assert Enrolment.objects.get(pk=history["active"].pk).next_reminder_at is not None
    client.force_login(alice)

    client.post(DELETE, {"password": PASSWORD})

    active = Enrolment.objects.get(pk=history["active"].pk)
    paused = Enrolment.objects.get(pk=history["paused"].pk)
    done = Enrolment.objects.get(pk=history["done"].pk)
    assert (active.status, paused.status, done.status) == ("left", "left", "completed")
    assert active.ended_at is not None
    # The open pause is closed as a finished one, exactly as leaving the program closes it.
    assert paused.paused_on is None
    assert [p["started_on"] for p in paused.pauses] == ["2026-05-08"]
    for enrolment in (active, paused, done):
        assert enrolment.reminders_enabled is False
        assert enrolment.next_reminder_at is None


def test_it_leaves_another_members_data_untouched(client, alice, bob, history):
    bobs_before = Enrolment.objects.get(pk=history["bobs"].pk)
    client.force_login(alice)

    client.post(DELETE, {"password": PASSWORD})

    bob.refresh_from_db()
    assert bob.email == "bob@example.com"
    bobs = Enrolment.objects.get(pk=history["bobs"].pk)
    assert (bobs.member_id, bobs.status, bobs.reminders_enabled) == (bob.pk, "active", True)
    assert bobs.next_reminder_at == bobs_before.next_reminder_at is not None
    assert list(Completion.objects.filter(enrolment=bobs).values_list("note", flat=True)) == ["Bob's note"] * 3


def test_it_forgets_the_members_login_records(client, alice):
    client.post(reverse("accounts:login"), {"username": "alice", "password": "wrong"})
    client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    assert AccessLog.objects.filter(username="alice").exists()

    user_delete_account(user=alice)

    assert not AccessLog.objects.filter(username="alice").exists()
    assert not AccessAttempt.objects.filter(username="alice").exists()


def test_it_refuses_a_get_or_anonymous_delete(client, alice):
    response = client.post(DELETE, {"password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert User.objects.filter(pk=alice.pk).exists()
