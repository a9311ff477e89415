import datetime as dt
import zoneinfo

import pytest
from icalendar import Calendar

from programs import services
from tests.factories import EnrolmentFactory, build_program

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


@pytest.fixture
def daily(db):
    """One week, a session every day but Sunday."""
    return build_program(weeks=1, days=(1, 2, 3, 4, 5, 6), items_per_session=2, title="Daily ease", slug="daily")


def _events(client, user) -> list:
    response = client.get(f"/calendar/{user.calendar_token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return sorted(Calendar.from_ical(response.content).walk("VEVENT"), key=lambda e: e.decoded("dtstart"))


def test_it_puts_each_session_at_the_reminder_time_across_a_dst_change(client, alice, daily, time_machine):
    # Europe/Berlin moves from UTC+1 to UTC+2 on Sunday 29 March 2026.
    time_machine.move_to(dt.datetime(2026, 3, 26, 12, tzinfo=dt.UTC), tick=False)
    enrolment = EnrolmentFactory(
        member=alice, program=daily, start_date=dt.date(2026, 3, 27), reminder_time=dt.time(7, 30)
    )

    events = _events(client, alice)

    starts = [e.decoded("dtstart") for e in events]
    assert [s.date() for s in starts] == [
        dt.date(2026, 3, 27),
        dt.date(2026, 3, 28),
        dt.date(2026, 3, 29),
        dt.date(2026, 3, 30),
        dt.date(2026, 3, 31),
        dt.date(2026, 4, 1),
    ]
    assert {(s.hour, s.minute) for s in starts} == {(7, 30)}
    assert all(str(s.tzinfo) == "Europe/Berlin" for s in starts)
    assert events[0]["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert [s.astimezone(dt.UTC).hour for s in starts] == [6, 6, 5, 5, 5, 5]
    first = events[0]
    link = f"http://127.0.0.1:8000/enrolments/{enrolment.pk}/sessions/{daily.sessions.get(day=1).pk}/"
    assert str(first["URL"]) == link
    assert link in str(first["DESCRIPTION"])
    assert str(first["SUMMARY"]) == "Daily ease: Week 1 day 1"
    assert first.decoded("dtend") - first.decoded("dtstart") == dt.timedelta(minutes=10)
    timezones = Calendar.from_ical(client.get(f"/calendar/{alice.calendar_token}.ics").content).walk("VTIMEZONE")
    assert [str(tz["TZID"]) for tz in timezones] == ["Europe/Berlin"]


def test_it_lists_each_stretch_with_its_prescription_in_the_event(client, alice, daily, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 26, 12, tzinfo=dt.UTC), tick=False)
    EnrolmentFactory(member=alice, program=daily, start_date=dt.date(2026, 3, 27))
    first, second = daily.sessions.get(day=1).items.order_by("order")

    description = str(_events(client, alice)[0]["DESCRIPTION"])

    assert f"• {first.stretch.name}: 20 s hold\n• {second.stretch.name}: 20 s hold\n" in description


def test_it_marks_done_sessions(client, alice, daily, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 28, 12, tzinfo=dt.UTC), tick=False)
    enrolment = EnrolmentFactory(member=alice, program=daily, start_date=dt.date(2026, 3, 27))
    services.completion_record(enrolment=enrolment, program_session=daily.sessions.get(day=1))

    summaries = [str(e["SUMMARY"]) for e in _events(client, alice)]

    assert summaries[0] == "✓ Daily ease: Week 1 day 1"
    assert summaries[1] == "Daily ease: Week 1 day 2"


def test_it_follows_a_pause_and_the_resume(client, alice, daily, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 27, 12, tzinfo=dt.UTC), tick=False)
    enrolment = EnrolmentFactory(member=alice, program=daily, start_date=dt.date(2026, 3, 26))
    services.completion_record(enrolment=enrolment, program_session=daily.sessions.get(day=1))
    services.enrolment_pause(enrolment=enrolment)  # on the 27th

    paused = _events(client, alice)
    assert [e.decoded("dtstart").date() for e in paused] == [dt.date(2026, 3, 26)]  # only what came before

    time_machine.move_to(dt.datetime(2026, 3, 30, 12, tzinfo=dt.UTC), tick=False)
    services.enrolment_resume(enrolment=enrolment)  # paused 27, 28, 29: three days
    resumed = _events(client, alice)
    assert [e.decoded("dtstart").date() for e in resumed] == [
        dt.date(2026, 3, 26),
        dt.date(2026, 3, 30),
        dt.date(2026, 3, 31),
        dt.date(2026, 4, 1),
        dt.date(2026, 4, 2),
        dt.date(2026, 4, 3),
    ]
    assert {e.decoded("dtstart").astimezone(BERLIN).time() for e in resumed} == {dt.time(8, 0)}


def test_it_drops_a_program_the_member_left(client, alice, daily, program, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC), tick=False)
    left = EnrolmentFactory(member=alice, program=daily, start_date=dt.date(2026, 3, 9))
    EnrolmentFactory(member=alice, program=program, start_date=dt.date(2026, 3, 9))
    services.enrolment_leave(enrolment=left)

    summaries = {str(e["SUMMARY"]).split(":")[0] for e in _events(client, alice)}

    assert summaries == {"Lower back relief"}


def test_it_shows_nothing_of_other_members(client, alice, bob, daily):
    EnrolmentFactory(member=bob, program=daily)

    assert _events(client, alice) == []


def test_it_stops_answering_the_old_address_after_rotation(client, alice):
    old = alice.calendar_token
    client.force_login(alice)

    response = client.post("/calendar/rotate/")

    alice.refresh_from_db()
    assert response.status_code == 302
    assert alice.calendar_token != old
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert client.get(f"/calendar/{alice.calendar_token}.ics").status_code == 200


def test_it_rotates_only_on_post_and_only_for_a_logged_in_member(client, alice):
    old = alice.calendar_token

    assert client.post("/calendar/rotate/").status_code == 302  # to the login page
    client.force_login(alice)
    assert client.get("/calendar/rotate/").status_code == 405
    alice.refresh_from_db()
    assert alice.calendar_token == old


def test_it_answers_an_unknown_token_with_a_404(client, db):
    assert client.get("/calendar/not-a-token.ics").status_code == 404


def test_it_builds_the_feed_in_constant_queries(client, alice, django_assert_num_queries, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC), tick=False)
    for weeks in (1, 4):
        EnrolmentFactory(member=alice, program=build_program(weeks=weeks, days=(1, 3), items_per_session=2))

    # member, enrolments with programs, sessions, items, completions
    with django_assert_num_queries(5):
        client.get(f"/calendar/{alice.calendar_token}.ics")
