"""Due-time maths under frozen time, across both DST transitions of three zones.

2026 transitions: New York 8 March (02:00 → 03:00) and 1 November (02:00 → 01:00);
Berlin 29 March (02:00 → 03:00) and 25 October (03:00 → 02:00); Lord Howe
5 April (02:00 → 01:30) and 4 October (02:00 → 02:30) — a 30-minute shift.
"""

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from programs.reminders import due
from programs.schedule import ScheduledSession

D = dt.date
T = dt.time
UTC = dt.UTC

# (zone, transition date, wall time that is missing or repeated that day, expected UTC instant)
DST_CASES = [
    ("America/New_York", D(2026, 3, 8), T(2, 30), dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
    ("America/New_York", D(2026, 11, 1), T(1, 30), dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
    ("Europe/Berlin", D(2026, 3, 29), T(2, 30), dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
    ("Europe/Berlin", D(2026, 10, 25), T(2, 30), dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
    ("Australia/Lord_Howe", D(2026, 4, 5), T(1, 45), dt.datetime(2026, 4, 4, 14, 45, tzinfo=UTC)),
    ("Australia/Lord_Howe", D(2026, 10, 4), T(2, 15), dt.datetime(2026, 10, 3, 15, 30, tzinfo=UTC)),
]
# An ordinary morning time on the same days, as a control.
MORNING = T(8, 0)


def daily_sessions(start: dt.date, days: int, *, done: set[int] = frozenset()) -> list[ScheduledSession]:
    return [
        ScheduledSession(day_number=n + 1, date=start + dt.timedelta(days=n), done=n + 1 in done) for n in range(days)
    ]


@pytest.mark.parametrize(("zone", "day", "wall", "expected"), DST_CASES)
def test_it_sends_a_missing_time_at_the_transition_and_a_repeated_time_at_its_first_occurrence(
    zone, day, wall, expected
):
    assert due.reminder_instant(local_date=day, reminder_time=wall, tz=ZoneInfo(zone)) == expected


def test_it_maps_every_wall_time_inside_the_lord_howe_gap_to_the_half_hour_jump():
    tz = ZoneInfo("Australia/Lord_Howe")
    jump = dt.datetime(2026, 10, 3, 15, 30, tzinfo=UTC)  # 02:00 LHST becomes 02:30 LHDT
    for minute in (0, 1, 15, 29):
        assert due.reminder_instant(local_date=D(2026, 10, 4), reminder_time=T(2, minute), tz=tz) == jump
    assert due.reminder_instant(local_date=D(2026, 10, 4), reminder_time=T(2, 30), tz=tz) == jump
    assert due.reminder_instant(local_date=D(2026, 10, 4), reminder_time=T(2, 31), tz=tz) == jump + dt.timedelta(
        minutes=1
    )


def _run_minute_by_minute(*, zone: str, start: dt.date, days: int, wall: dt.time) -> Counter:
    """A dispatcher that wakes every minute under frozen time and sends what is due."""
    tz = ZoneInfo(zone)
    sessions = daily_sessions(start, days)
    sent: Counter = Counter()
    first = dt.datetime.combine(start, T(0, 0), tzinfo=tz).astimezone(UTC) - dt.timedelta(hours=1)
    with time_machine.travel(first, tick=False) as traveller:
        stored = due.next_reminder_at(sessions=sessions, reminder_time=wall, tz=tz, now=timezone.now())
        minutes = (days + 1) * 24 * 60
        for _ in range(minutes):
            now = timezone.now()
            if stored is not None and stored <= now:
                local_date = due.local_date_of(stored, tz)
                assert stored.astimezone(tz).date() == local_date
                assert now - stored < dt.timedelta(minutes=1), "sent late"
                sent[local_date] += 1
                stored = due.next_reminder_at(
                    sessions=sessions, reminder_time=wall, tz=tz, now=now, skip_dates=set(sent)
                )
            traveller.shift(dt.timedelta(minutes=1))
    return sent


@pytest.mark.parametrize(("zone", "day", "wall", "expected"), DST_CASES)
@pytest.mark.parametrize("use_morning", [False, True], ids=["dst-wall-time", "morning"])
def test_it_sends_exactly_one_reminder_per_local_day_across_the_transition(zone, day, wall, expected, use_morning):
    start = day - dt.timedelta(days=1)
    sent = _run_minute_by_minute(zone=zone, start=start, days=3, wall=MORNING if use_morning else wall)
    assert sent == Counter({start: 1, day: 1, day + dt.timedelta(days=1): 1})


def test_it_skips_days_whose_session_is_done_and_rest_days():
    tz = ZoneInfo("Europe/Berlin")
    sessions = [
        ScheduledSession(day_number=1, date=D(2026, 3, 2), done=True),
        ScheduledSession(day_number=3, date=D(2026, 3, 4), done=False),
    ]
    now = dt.datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
    at = due.next_reminder_at(sessions=sessions, reminder_time=T(8, 0), tz=tz, now=now)
    assert at == dt.datetime(2026, 3, 4, 7, 0, tzinfo=UTC)


def test_it_gives_no_reminder_when_every_remaining_session_is_done():
    sessions = daily_sessions(D(2026, 3, 2), 3, done={1, 2, 3})
    now = dt.datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
    assert due.next_reminder_at(sessions=sessions, reminder_time=T(8, 0), tz=ZoneInfo("UTC"), now=now) is None


def test_it_never_gives_an_overdue_session_its_own_reminder():
    # Day 1 (2 March) was missed; on 3 March (a rest day) no email, the next is 4 March's.
    sessions = [
        ScheduledSession(day_number=1, date=D(2026, 3, 2), done=False),
        ScheduledSession(day_number=3, date=D(2026, 3, 4), done=False),
    ]
    now = dt.datetime(2026, 3, 3, 6, 0, tzinfo=UTC)
    at = due.next_reminder_at(sessions=sessions, reminder_time=T(8, 0), tz=ZoneInfo("UTC"), now=now)
    assert at == dt.datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
    assert due.open_before(sessions, D(2026, 3, 4)) == [sessions[0]]


def test_it_does_not_mail_on_the_spot_when_todays_time_has_passed():
    sessions = daily_sessions(D(2026, 3, 2), 2)
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    tz = ZoneInfo("UTC")
    assert due.next_reminder_at(sessions=sessions, reminder_time=T(8, 0), tz=tz, now=now) == dt.datetime(
        2026, 3, 3, 8, 0, tzinfo=UTC
    )
    # …unless today's reminder was scheduled and is still waiting for the dispatcher.
    kept = due.next_reminder_at(sessions=sessions, reminder_time=T(8, 0), tz=tz, now=now, keep_passed_today=True)
    assert kept == dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_it_uses_the_members_date_not_the_utc_date():
    # 23:30 UTC on 2 March is already 3 March in Lord Howe (UTC+11).
    tz = ZoneInfo("Australia/Lord_Howe")
    sessions = daily_sessions(D(2026, 3, 2), 3)
    now = dt.datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    at = due.next_reminder_at(sessions=sessions, reminder_time=T(8, 0), tz=tz, now=now)
    assert due.local_date_of(at, tz) == D(2026, 3, 4)


@pytest.mark.parametrize(
    "switches",
    [
        {"status": "paused"},
        {"status": "left"},
        {"status": "completed"},
        {"reminders_enabled": False},
        {"member_exists": False},
        {"member_active": False},
        {"member_email": ""},
        {"member_email_reminders": False},
    ],
)
def test_it_wants_no_reminders_when_a_switch_is_off(switches):
    values = {
        "status": "active",
        "reminders_enabled": True,
        "member_exists": True,
        "member_active": True,
        "member_email": "a@example.com",
        "member_email_reminders": True,
    }
    assert due.reminders_wanted(**values)
    assert not due.reminders_wanted(**{**values, **switches})
