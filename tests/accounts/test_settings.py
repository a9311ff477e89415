import datetime as dt

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.api.services import api_token_create
from accounts.models import User
from programs.models import Enrolment
from programs.reminders.services import reminder_schedule_refresh
from programs.reminders.weekly_summary import weekly_summary_schedule_refresh
from tests.factories import EnrolmentFactory, build_program

pytestmark = pytest.mark.django_db

SETTINGS = "/accounts/settings/"


def _data(**overrides):
    data = {
        "display_name": "Alice B.",
        "timezone": "Europe/Berlin",
        "default_reminder_time": "07:30",
        "email_reminders": "on",
        "nudge_emails": "on",
        "weekly_summary_emails": "on",
        "weekly_summary_day": "6",
        "weekly_summary_time": "18:00",
    }
    data.update(overrides)
    return data


@pytest.fixture
def alice_enrolled(alice, time_machine):
    time_machine.move_to(dt.datetime(2026, 5, 4, 4, 0, tzinfo=dt.UTC), tick=False)
    program = build_program(weeks=1, days=(1, 2, 3, 4, 5, 6, 7))
    enrolment = EnrolmentFactory(member=alice, program=program, start_date=dt.date(2026, 5, 4))
    reminder_schedule_refresh(enrolments=[enrolment])
    enrolment.refresh_from_db()
    # 08:00 in Berlin (CEST) on day 1.
    assert enrolment.next_reminder_at == dt.datetime(2026, 5, 4, 6, 0, tzinfo=dt.UTC)
    return enrolment


def test_it_shows_the_current_settings_and_the_account_links(client, alice, django_assert_max_num_queries):
    client.force_login(alice)

    # session, member, the member's push devices
    with django_assert_max_num_queries(4):
        response = client.get(SETTINGS)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<option value="Europe/Berlin" selected>Europe/Berlin</option>' in html
    assert 'value="08:00"' in html
    assert reverse("accounts:password_change") in html
    assert reverse("accounts:export") in html
    assert reverse("accounts:delete") in html
    assert reverse("calendar:feed", kwargs={"token": alice.calendar_token}) in html
    assert reverse("calendar:rotate") in html
    assert 'data-suggest-browser-timezone="offer"' in html
    assert "<script>" not in html


def test_it_saves_the_settings(client, alice):
    client.force_login(alice)

    response = client.post(SETTINGS, _data(timezone="America/Chicago", email_reminders=""))

    assert response["Location"] == SETTINGS
    alice.refresh_from_db()
    assert alice.display_name == "Alice B."
    assert alice.timezone == "America/Chicago"
    assert alice.default_reminder_time == dt.time(7, 30)
    assert alice.email_reminders is False


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Mars/Olympus_Mons", "not a known time zone"),
        ("timezone", "", "This field is required."),
        ("default_reminder_time", "25:00", "Enter a valid time."),
        ("display_name", "x" * 81, "at most 80 characters"),
        ("display_name", "   ", "This field is required."),
    ],
)
def test_it_refuses_bad_input_and_changes_nothing(client, alice, field, value, message):
    client.force_login(alice)

    response = client.post(SETTINGS, _data(**{field: value}))

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert f'id="id_{field}_error"' in response.content.decode()
    alice.refresh_from_db()
    assert (alice.display_name, alice.timezone, alice.default_reminder_time) == ("Alice", "Europe/Berlin", dt.time(8))


def test_it_keeps_showing_a_legacy_timezone_the_member_has(client, alice):
    alice.timezone = "US/Eastern"
    alice.save()
    client.force_login(alice)

    html = client.get(SETTINGS).content.decode()

    assert '<option value="US/Eastern" selected>US/Eastern</option>' in html


def test_it_moves_the_next_reminder_when_the_timezone_changes(client, alice_enrolled):
    client.force_login(alice_enrolled.member)

    client.post(SETTINGS, _data(timezone="America/New_York"))

    alice_enrolled.refresh_from_db()
    # 08:00 in New York (EDT) on the same local day.
    assert alice_enrolled.next_reminder_at == dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC)


def test_it_cancels_reminders_when_switched_off_and_brings_them_back(client, alice_enrolled):
    # Catch-up nudges have a switch of their own; off here, so no email at all is left.
    type(alice_enrolled.member).objects.filter(pk=alice_enrolled.member_id).update(nudge_emails=False)
    client.force_login(alice_enrolled.member)

    client.post(SETTINGS, _data(email_reminders="", nudge_emails=""))
    alice_enrolled.refresh_from_db()
    assert alice_enrolled.next_reminder_at is None

    client.post(SETTINGS, _data(email_reminders="on", nudge_emails=""))
    alice_enrolled.refresh_from_db()
    assert alice_enrolled.next_reminder_at == dt.datetime(2026, 5, 4, 6, 0, tzinfo=dt.UTC)


def test_it_leaves_other_members_reminders_alone(client, alice_enrolled, bob):
    bobs = EnrolmentFactory(member=bob, program=alice_enrolled.program, start_date=dt.date(2026, 5, 4))
    reminder_schedule_refresh(enrolments=[bobs])
    bobs.refresh_from_db()
    before = bobs.next_reminder_at
    client.force_login(alice_enrolled.member)

    client.post(SETTINGS, _data(timezone="Asia/Tokyo", email_reminders=""))

    assert Enrolment.objects.get(pk=bobs.pk).next_reminder_at == before is not None


# --- Email preferences: catch-up nudges, the weekly summary, the trainer digest ----------------------


def _summary_fields(user):
    user.refresh_from_db()
    return (
        user.nudge_emails,
        user.weekly_summary_emails,
        user.weekly_summary_day,
        user.weekly_summary_time,
        user.trainer_digest_emails,
    )


def test_it_shows_the_email_preferences(client, alice):
    client.force_login(alice)

    html = client.get(SETTINGS).content.decode()

    assert "Send me a catch-up email the day after I miss a session" in html
    assert '<option value="6" selected>Sunday</option>' in html
    assert 'name="weekly_summary_time" value="18:00"' in html
    assert 'name="weekly_summary_emails"' in html


def test_the_trainer_digest_is_offered_to_trainers_only(client, alice, trainer):
    client.force_login(alice)
    assert 'name="trainer_digest_emails"' not in client.get(SETTINGS).content.decode()

    client.force_login(trainer)
    assert 'name="trainer_digest_emails"' in client.get(SETTINGS).content.decode()


def test_it_saves_the_email_preferences(client, alice):
    client.force_login(alice)

    response = client.post(SETTINGS, _data(nudge_emails="", weekly_summary_day="2", weekly_summary_time="07:15"))

    assert response["Location"] == SETTINGS
    assert _summary_fields(alice) == (False, True, 2, dt.time(7, 15), True)


def test_a_member_cannot_switch_the_trainer_digest_by_posting_it(client, alice):
    User.objects.filter(pk=alice.pk).update(trainer_digest_emails=False)
    client.force_login(alice)

    client.post(SETTINGS, _data(trainer_digest_emails="on"))

    assert _summary_fields(alice)[4] is False


def test_a_trainer_switches_the_digest_off(client, trainer):
    client.force_login(trainer)

    client.post(SETTINGS, _data(trainer_digest_emails=""))

    assert _summary_fields(trainer)[4] is False


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("weekly_summary_day", "7", "Choose a day of the week"),
        ("weekly_summary_day", "Sunday", "Choose a day of the week"),
        ("weekly_summary_time", "18:75", "Enter a valid time."),
    ],
)
def test_it_refuses_a_bad_summary_day_or_time_and_stores_nothing(client, alice, field, value, message):
    client.force_login(alice)

    response = client.post(SETTINGS, _data(**{field: value}, nudge_emails=""))

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert f'id="id_{field}_error"' in response.content.decode()
    assert _summary_fields(alice) == (True, True, 6, dt.time(18), True)


def test_a_form_without_the_summary_day_and_time_keeps_them(client, alice):
    User.objects.filter(pk=alice.pk).update(weekly_summary_day=3, weekly_summary_time=dt.time(9))
    client.force_login(alice)
    data = _data()
    del data["weekly_summary_day"], data["weekly_summary_time"]

    assert client.post(SETTINGS, data).status_code == 302

    assert _summary_fields(alice)[2:4] == (3, dt.time(9))


@pytest.fixture
def alice_summary(alice_enrolled):
    alice = alice_enrolled.member
    weekly_summary_schedule_refresh(users=[alice])
    alice.refresh_from_db()
    # Sunday 10 May, 18:00 in Berlin (CEST).
    assert alice.next_weekly_summary_at == dt.datetime(2026, 5, 10, 16, 0, tzinfo=dt.UTC)
    return alice


def test_the_weekly_summary_moves_with_its_day_and_time(client, alice_summary):
    client.force_login(alice_summary)

    client.post(SETTINGS, _data(weekly_summary_day="2", weekly_summary_time="07:00"))

    alice_summary.refresh_from_db()
    # Wednesday 6 May, 07:00 in Berlin.
    assert alice_summary.next_weekly_summary_at == dt.datetime(2026, 5, 6, 5, 0, tzinfo=dt.UTC)


def test_the_weekly_summary_moves_with_the_timezone(client, alice_summary):
    client.force_login(alice_summary)

    client.post(SETTINGS, _data(timezone="America/New_York"))

    alice_summary.refresh_from_db()
    assert alice_summary.next_weekly_summary_at == dt.datetime(2026, 5, 10, 22, 0, tzinfo=dt.UTC)


def test_the_weekly_summary_stops_when_switched_off_and_comes_back(client, alice_summary):
    client.force_login(alice_summary)

    client.post(SETTINGS, _data(weekly_summary_emails=""))
    alice_summary.refresh_from_db()
    assert alice_summary.next_weekly_summary_at is None

    client.post(SETTINGS, _data(weekly_summary_emails="on"))
    alice_summary.refresh_from_db()
    assert alice_summary.next_weekly_summary_at == dt.datetime(2026, 5, 10, 16, 0, tzinfo=dt.UTC)


def test_switching_nudges_back_on_brings_back_the_enrolments_next_email(client, alice_enrolled):
    client.force_login(alice_enrolled.member)
    client.post(SETTINGS, _data(email_reminders="", nudge_emails=""))
    alice_enrolled.refresh_from_db()
    assert alice_enrolled.next_reminder_at is None

    client.post(SETTINGS, _data(email_reminders="", nudge_emails="on"))

    alice_enrolled.refresh_from_db()
    assert alice_enrolled.next_reminder_at is not None


def test_saving_leaves_other_members_summaries_alone(client, alice_summary, bob):
    EnrolmentFactory(member=bob, program=build_program(weeks=1, days=(1,)), start_date=dt.date(2026, 5, 4))
    weekly_summary_schedule_refresh(users=[bob])
    before = User.objects.get(pk=bob.pk).next_weekly_summary_at
    client.force_login(alice_summary)

    client.post(SETTINGS, _data(weekly_summary_day="0", weekly_summary_emails="", timezone="Asia/Tokyo"))

    bob.refresh_from_db()
    assert bob.next_weekly_summary_at == before is not None
    assert (bob.weekly_summary_day, bob.weekly_summary_emails) == (6, True)


# --- The same preferences through the member API -------------------------------------------------------

ME = "/api/v1/me/"


def _api(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user)[1]}")
    return api


def test_the_api_shows_the_email_preferences(alice):
    body = _api(alice).get(ME).json()

    assert {k: body[k] for k in ("nudge_emails", "weekly_summary_emails", "weekly_summary_day")} == {
        "nudge_emails": True,
        "weekly_summary_emails": True,
        "weekly_summary_day": 6,
    }
    assert body["weekly_summary_time"] == "18:00"


def test_the_api_changes_only_what_it_is_sent(alice_summary):
    response = _api(alice_summary).patch(ME, {"weekly_summary_day": 2, "weekly_summary_time": "07:00"}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["weekly_summary_day"], response.json()["weekly_summary_time"]) == (2, "07:00")
    assert _summary_fields(alice_summary) == (True, True, 2, dt.time(7), True)
    assert alice_summary.next_weekly_summary_at == dt.datetime(2026, 5, 6, 5, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"weekly_summary_day": 9}, "weekly_summary_day"),
        ({"weekly_summary_day": -1}, "weekly_summary_day"),
        ({"weekly_summary_day": "Sunday"}, "weekly_summary_day"),
        ({"weekly_summary_time": "25:00"}, "weekly_summary_time"),
        ({"nudge_emails": "maybe"}, "nudge_emails"),
    ],
)
def test_the_api_refuses_bad_preferences_with_a_clear_400_and_stores_nothing(alice, body, field):
    response = _api(alice).patch(ME, {**body, "display_name": "Changed"}, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    alice.refresh_from_db()
    assert alice.display_name == "Alice"
    assert _summary_fields(alice) == (True, True, 6, dt.time(18), True)


def test_the_api_changes_the_callers_own_preferences_only(alice, bob):
    _api(bob).patch(ME, {"weekly_summary_emails": False, "weekly_summary_day": 1}, format="json")

    assert _summary_fields(alice)[1:3] == (True, 6)
    assert _summary_fields(bob)[1:3] == (False, 1)


def test_the_api_says_which_days_it_takes(alice):
    response = _api(alice).patch(ME, {"weekly_summary_day": 7}, format="json")

    assert response.json()["errors"]["weekly_summary_day"] == ["Choose a day of the week: 0 (Monday) to 6 (Sunday)."]


def test_the_admin_user_form_shows_the_email_preferences(client, alice, admin_user):
    client.force_login(admin_user)

    html = client.get(reverse("admin:accounts_user_change", args=[alice.pk])).content.decode()

    for name in ("nudge_emails", "weekly_summary_emails", "weekly_summary_day", "weekly_summary_time"):
        assert f'name="{name}"' in html
    assert 'name="trainer_digest_emails"' in html
    assert 'name="next_weekly_summary_at"' not in html  # shown, never edited: the services keep it
