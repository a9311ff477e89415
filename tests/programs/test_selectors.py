import datetime as dt

import pytest

from programs import selectors
from programs.models import Completion, Enrolment
from programs.schedule import DayState
from tests.factories import EnrolmentFactory, UserFactory, build_program

D = dt.date


def _utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


# --- member_local_today --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "now", "today"),
    [
        ("Europe/Berlin", _utc(2026, 3, 10, 22, 59), D(2026, 3, 10)),
        ("Europe/Berlin", _utc(2026, 3, 10, 23, 0), D(2026, 3, 11)),
        ("Pacific/Auckland", _utc(2026, 3, 10, 11, 0), D(2026, 3, 11)),
        ("America/Los_Angeles", _utc(2026, 3, 11, 6, 59), D(2026, 3, 10)),
        # New York on the night summer time starts (2:00 → 3:00 on 8 March 2026): 04:59 UTC is 23:59 EST...
        ("America/New_York", _utc(2026, 3, 8, 4, 59), D(2026, 3, 7)),
        # ...and on the day it ends (1 November 2026), 04:00 UTC is still 00:00 EDT.
        ("America/New_York", _utc(2026, 11, 1, 4, 0), D(2026, 11, 1)),
        ("America/New_York", _utc(2026, 11, 2, 4, 30), D(2026, 11, 1)),  # 23:30 EST
    ],
)
def test_today_is_the_members_local_date(db, zone, now, today):
    assert selectors.member_local_today(UserFactory(timezone=zone), now=now) == today


def test_a_deleted_members_today_is_the_utc_date():
    assert selectors.member_local_today(None, now=_utc(2026, 3, 10, 23, 30)) == D(2026, 3, 10)


# --- enrolment_progress --------------------------------------------------------------------------


@pytest.fixture
def program(db):
    # Days 1, 3 and 5 of two weeks.
    return build_program(weeks=2, days=(1, 3, 5), items_per_session=1)


def _sessions(program):
    return list(program.sessions.order_by("week", "day"))


def _progress(enrolment, today):
    fresh = selectors.member_enrolments(member=enrolment.member).get(pk=enrolment.pk)
    return selectors.enrolment_progress(enrolment=fresh, today=today)


def _done(enrolment, session, at, **pain):
    Completion.objects.create(enrolment=enrolment, program_session=session, completed_at=at, **pain)


def test_it_places_sessions_and_splits_today_overdue_and_upcoming(alice, program):
    enrolment = EnrolmentFactory(member=alice, program=program, start_date=D(2026, 3, 2))
    sessions = _sessions(program)
    _done(enrolment, sessions[0], _utc(2026, 3, 2, 9))
    p = _progress(enrolment, D(2026, 3, 6))
    assert [s.date for s in p.slots] == [D(2026, 3, d) for d in (2, 4, 6, 9, 11, 13)]
    assert [s.session for s in p.today_slots] == [sessions[2]]
    assert p.open_today.session == sessions[2]
    assert [s.session for s in p.overdue] == [sessions[1]]
    assert p.next_slot.session == sessions[3]
    assert [(d.date.day, d.state) for d in p.coming_days] == [
        (7, DayState.REST), (8, DayState.REST), (9, DayState.UPCOMING),
        (10, DayState.REST), (11, DayState.UPCOMING),
    ]  # fmt: skip


def test_late_catch_ups_count_for_adherence_and_streaks(alice, program):
    enrolment = EnrolmentFactory(member=alice, program=program, start_date=D(2026, 3, 2))
    sessions = _sessions(program)
    # Days 1 and 3 (2 and 4 March) both done late, on 9 March, with 6 March skipped.
    for session in (sessions[0], sessions[1], sessions[3]):
        _done(enrolment, session, _utc(2026, 3, 9, 20))
    p = _progress(enrolment, D(2026, 3, 10)).progress
    assert (p.adherence.done, p.adherence.due) == (3, 4)
    assert p.current_streak == 1
    assert p.best_streak == 2
    assert (p.adherence_7_days.done, p.adherence_7_days.due) == (2, 3)  # 4, 6 and 9 March


def test_an_open_pause_holds_the_remaining_sessions_until_after_today(alice, program):
    enrolment = EnrolmentFactory(
        member=alice,
        program=program,
        start_date=D(2026, 3, 2),
        status=Enrolment.Status.PAUSED,
        paused_on=D(2026, 3, 4),
    )
    p = _progress(enrolment, D(2026, 3, 7))
    # Paused 4–7 March: day 3 (due 4 March) moves to tomorrow, 8 March.
    assert [s.date for s in p.slots][:3] == [D(2026, 3, 2), D(2026, 3, 8), D(2026, 3, 10)]
    states = {d.date.day: d.state for d in p.calendar}
    assert [states[day] for day in (4, 5, 6, 7)] == [DayState.PAUSED] * 4
    assert p.progress.adherence.due == 1


def test_the_streak_survives_rest_days_and_a_finished_pause(alice, program):
    enrolment = EnrolmentFactory(
        member=alice, program=program, start_date=D(2026, 3, 2), pauses=[{"started_on": "2026-03-05", "days": 3}]
    )
    sessions = _sessions(program)
    for session in sessions[:3]:
        _done(enrolment, session, _utc(2026, 3, 2, 9))
    p = _progress(enrolment, D(2026, 3, 10))
    # Day 5 moved from 6 to 9 March; 2, 4 and 9 March done: a streak of three.
    assert p.slots[2].date == D(2026, 3, 9)
    assert p.progress.current_streak == 3


def test_todays_open_session_does_not_count_as_missed(alice, program):
    enrolment = EnrolmentFactory(member=alice, program=program, start_date=D(2026, 3, 2))
    _done(enrolment, _sessions(program)[0], _utc(2026, 3, 2, 9))
    p = _progress(enrolment, D(2026, 3, 4))
    assert (p.progress.adherence.done, p.progress.adherence.due) == (1, 1)
    assert p.progress.current_streak == 1
    assert {d.date: d.state for d in p.calendar}[D(2026, 3, 4)] == DayState.TODAY


def test_progress_reads_only_the_prefetched_rows(alice, program, django_assert_num_queries):
    enrolment = EnrolmentFactory(member=alice, program=program, start_date=D(2026, 3, 2))
    _done(enrolment, _sessions(program)[0], _utc(2026, 3, 2, 9))
    with django_assert_num_queries(3):
        fresh = selectors.member_enrolments(member=alice).get(pk=enrolment.pk)
    with django_assert_num_queries(0):
        selectors.enrolment_progress(enrolment=fresh, today=D(2026, 3, 10))


def test_a_member_sees_only_their_own_enrolments(alice, bob, program):
    EnrolmentFactory(member=bob, program=program)
    mine = EnrolmentFactory(member=alice, program=program)
    assert list(selectors.member_enrolments(member=alice)) == [mine]
