"""Four weeks of every email, in frozen time, for members with scripted habits in three zones.

The program has sessions on Monday, Wednesday and Friday for four weeks from
Monday 2 March 2026. New York changes to summer time on 8 March and Berlin on
29 March, inside the run; Sydney is on summer time throughout. The dispatcher
runs every 15 minutes of the month, as beat would (every minute) with nothing
due in between, and every message is sent at once; the test then compares
who got what, when, in their own local time, with the rules in
docs/messages.md, docs/weekly-summary.md and docs/trainer-digest.md, written
out by hand below.

Habits (each member once per zone):
- steady: ticks every session an hour after its reminder;
- catch_up: misses Monday 2 March, ticks it the next day at noon, then ticks
  every session (with pain 8/10 after the one on Wednesday 18 March);
- absent: ticks nothing;
- pauser: pauses on Wednesday 11 March before the reminder, resumes on Friday
  13 March before the reminder (so every later session moves on two days);
- quiet: ticks nothing and, after the first catch-up email, switches catch-up
  emails off with the email's own one-click link.

The trainer who wrote the program, in Berlin, gets the daily digest.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client

from programs import schedule
from programs.models import Enrolment, ProgramSession
from programs.reminders.kinds import outbox_dispatch, outbox_send_batch
from programs.reminders.models import OutboxMessage
from programs.services import completion_record, enrolment_create, enrolment_pause, enrolment_resume
from tests.factories import TrainerFactory, UserFactory, build_program

UTC = dt.UTC
Kind, Status = OutboxMessage.Kind, OutboxMessage.Status
ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney")
HABITS = ("steady", "catch_up", "absent", "pauser", "quiet")
START = dt.date(2026, 3, 2)
SIMULATION_START = dt.datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
SIMULATION_END = dt.datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
STEP = dt.timedelta(minutes=15)
REMINDER = dt.time(8, 0)

SESSION_DAYS = [2, 4, 6, 9, 11, 13, 16, 18, 20, 23, 25, 27]
# The pauser's sessions from Wednesday 11 March on move on by the two paused days.
PAUSER_DAYS = [2, 4, 6, 9, 13, 15, 18, 20, 22, 25, 27, 29]
# The day after each missed session, when that day has no session of its own.
ABSENT_NUDGE_DAYS = [3, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
SUNDAYS = [8, 15, 22, 29]


def local(zone: str, day: int, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(dt.date(2026, 3, day), time, tzinfo=ZoneInfo(zone))


def expected_member_messages(habit: str) -> Counter:
    """(kind, local date, local time) of every email a member with `habit` gets in the month."""
    days = PAUSER_DAYS if habit == "pauser" else SESSION_DAYS
    got = Counter((Kind.REMINDER, dt.date(2026, 3, d), REMINDER) for d in days)
    nudge_days = {"catch_up": [3], "absent": ABSENT_NUDGE_DAYS, "quiet": [3]}.get(habit, [])
    got.update((Kind.NUDGE, dt.date(2026, 3, d), REMINDER) for d in nudge_days)
    # Sunday 1 March closes a week with nothing due: no summary for it. Those
    # who tick every session have finished the program by Sunday 29 March,
    # and a summary covers active enrolments only.
    sundays = SUNDAYS[:-1] if habit in ("steady", "catch_up", "pauser") else SUNDAYS
    got.update((Kind.WEEKLY_SUMMARY, dt.date(2026, 3, d), dt.time(18, 0)) for d in sundays)
    return got


class World:
    def __init__(self):
        self.trainer = TrainerFactory(username="coach", timezone="Europe/Berlin", password=None)
        self.program = build_program(weeks=4, days=(1, 3, 5), author=self.trainer)
        self.sessions = {
            schedule.day_number(week=s.week, day=s.day): s for s in ProgramSession.objects.filter(program=self.program)
        }
        self.enrolments: dict[tuple[str, str], Enrolment] = {}
        # (instant, what) — done in instant order, before the dispatch of that step.
        self.actions: list[tuple[dt.datetime, str, callable]] = []

    def session_of_day(self, day_number: int) -> ProgramSession:
        return self.sessions[day_number]


@pytest.fixture
def world(db):
    with time_machine.travel(SIMULATION_START, tick=False):
        w = World()
        for zone in ZONES:
            for habit in HABITS:
                name = f"{habit}-{zone.split('/')[1].lower()}"
                member = UserFactory(username=name, display_name=name, timezone=zone, password=None)
                w.enrolments[habit, zone] = enrolment_create(
                    member=member, program=w.program, start_date=START, reminder_time=REMINDER
                )
    for zone in ZONES:
        _script(w, zone)
    w.actions.sort(key=lambda action: action[0])
    return w


def _tick(world, habit, zone, day_number, **pain):
    enrolment = world.enrolments[habit, zone]
    return lambda: completion_record(
        enrolment=Enrolment.objects.get(pk=enrolment.pk), program_session=world.session_of_day(day_number), **pain
    )


def _script(world: World, zone: str) -> None:
    add = world.actions.append
    one_hour_later = dt.time(9, 0)
    day_numbers = {date_day: number for number, date_day in zip(sorted(world.sessions), SESSION_DAYS, strict=True)}
    for day, number in day_numbers.items():
        add((local(zone, day, one_hour_later), f"steady ticks {day}", _tick(world, "steady", zone, number)))
        if day != 2:
            pain = {"pain_after": 8} if day == 18 else {}
            add(
                (
                    local(zone, day, one_hour_later),
                    f"catch_up ticks {day}",
                    _tick(world, "catch_up", zone, number, **pain),
                )
            )
    add((local(zone, 3, dt.time(12, 0)), "catch_up catches up", _tick(world, "catch_up", zone, 1)))

    pauser = world.enrolments["pauser", zone]
    for day, number in zip(PAUSER_DAYS, sorted(world.sessions), strict=True):
        add((local(zone, day, one_hour_later), f"pauser ticks {day}", _tick(world, "pauser", zone, number)))
    add((local(zone, 11, dt.time(7, 0)), "pauser pauses", lambda: enrolment_pause(enrolment=_fresh(pauser))))
    add((local(zone, 13, dt.time(7, 0)), "pauser resumes", lambda: enrolment_resume(enrolment=_fresh(pauser))))

    quiet = world.enrolments["quiet", zone]
    add((local(zone, 3, dt.time(10, 0)), "quiet switches nudges off", lambda: _one_click_off(quiet)))


def _fresh(enrolment: Enrolment) -> Enrolment:
    return Enrolment.objects.get(pk=enrolment.pk)


def _one_click_off(enrolment: Enrolment) -> None:
    """The member's mail provider POSTs the List-Unsubscribe link of the catch-up email they got."""
    (nudge,) = [
        m
        for m in mail.outbox
        if m.to == [enrolment.member.email] and m.extra_headers["Message-ID"].startswith("<nudge.")
    ]
    url = re.fullmatch(r"<(.+)>", nudge.extra_headers["List-Unsubscribe"])[1]
    assert Client().post(urlsplit(url).path, {"List-Unsubscribe": "One-Click"}).status_code == 200


def run_month(world: World) -> None:
    actions = list(world.actions)
    batches: list[tuple[list[int], dt.datetime]] = []
    with time_machine.travel(SIMULATION_START, tick=False) as clock:
        at = SIMULATION_START
        while at <= SIMULATION_END:
            clock.move_to(at)
            while actions and actions[0][0] <= at:
                _when, _what, action = actions.pop(0)
                action()
            batches.clear()
            outbox_dispatch(enqueue=lambda ids, token: batches.append((ids, token)))
            for ids, token in batches:
                outbox_send_batch(ids=ids, token=token)
            at += STEP
    assert not actions


def sent_by_recipient() -> dict[str, Counter]:
    table: dict[str, Counter] = {}
    for row in OutboxMessage.objects.filter(status=Status.SENT).select_related("recipient"):
        tz = ZoneInfo(row.recipient.timezone)
        sent = row.sent_at.astimezone(tz)
        # Sent at its due instant (the dispatch that found it due sent it at once).
        assert row.sent_at == row.due_at, row
        key_date = sent.date()
        table.setdefault(row.recipient.username, Counter())[(row.kind, key_date, sent.time())] += 1
    return table


@pytest.mark.django_db
def test_four_weeks_of_messages_go_to_the_right_people_on_the_right_local_dates_and_times(world):
    run_month(world)
    table = sent_by_recipient()

    for zone in ZONES:
        for habit in HABITS:
            member = world.enrolments[habit, zone].member
            assert table.get(member.username, Counter()) == expected_member_messages(habit), (habit, zone)

    # The trainer: Monday 9 March (the two who never ticked, a week after
    # their start, in every zone), then the catch-up member's pain 8/10 —
    # Sydney's tick on 18 March came before Berlin's 08:00 that day, the
    # others' after it.
    digests = OutboxMessage.objects.filter(kind=Kind.TRAINER_DIGEST)
    assert table["coach"] == Counter(
        {(Kind.TRAINER_DIGEST, dt.date(2026, 3, d), dt.time(8, 0)): 1 for d in (9, 18, 19)}
    )
    assert set(digests.exclude(status=Status.SENT).values_list("status", flat=True)) == {Status.SKIPPED}
    # Every other morning from 28 February to 31 March: worked out, nobody new, not sent.
    assert digests.filter(status=Status.SKIPPED).count() == 32 - 3

    by_day = {m.local_date.day: m for m in digests.filter(status=Status.SENT)}
    reported = {day: _digest_people(message) for day, message in by_day.items()}
    assert reported == {
        9: {f"{habit}-{z.split('/')[1].lower()}" for habit in ("absent", "quiet") for z in ZONES},
        18: {"catch_up-sydney"},
        19: {"catch_up-berlin", "catch_up-new_york"},
    }

    # Nothing else was sent, and nothing is left in flight.
    assert len(mail.outbox) == sum(sum(c.values()) for c in table.values())
    assert not OutboxMessage.objects.filter(status__in=[Status.CLAIMED, Status.RETRYING, Status.FAILED]).exists()
    _print_table(table)


def _digest_people(message: OutboxMessage) -> set[str]:
    (email,) = [m for m in mail.outbox if m.extra_headers["Message-ID"] == _message_id_of(message)]
    text = email.body
    return {name for name in re.findall(r"\b[a-z_]+-[a-z_]+\b", text) if name.split("-")[0] in HABITS}


def _message_id_of(message: OutboxMessage) -> str:
    from programs.reminders import outbox

    return outbox.message_id(message)


def _print_table(table: dict[str, Counter]) -> None:
    """Who got what when, for the closing note (`pytest -s`)."""
    print("\nrecipient            kind            March dates (local times)")
    for username in sorted(table):
        by_kind: dict[str, tuple[list[int], set[str]]] = {}
        for kind, date, time in sorted(table[username]):
            days, times = by_kind.setdefault(kind, ([], set()))
            days.append(date.day)
            times.add(f"{time:%H:%M}")
        for kind, (days, times) in by_kind.items():
            print(f"{username:20} {kind:15} {' '.join(map(str, days))} ({', '.join(sorted(times))})")
