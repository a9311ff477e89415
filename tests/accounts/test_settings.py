import datetime as dt

import pytest
from django.urls import reverse

from programs.models import Enrolment
from programs.reminders.services import reminder_schedule_refresh
from tests.factories import EnrolmentFactory, build_program

pytestmark = pytest.mark.django_db

SETTINGS = "/accounts/settings/"


def _data(**overrides):
    data = {
        "display_name": "Alice B.",
        "timezone": "Europe/Berlin",
        "default_reminder_time": "07:30",
        "email_reminders": "on",
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

    with django_assert_max_num_queries(3):
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

    client.post(SETTINGS, _data(email_reminders=""))
    alice_enrolled.refresh_from_db()
    assert alice_enrolled.next_reminder_at is None

    client.post(SETTINGS, _data(email_reminders="on"))
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
