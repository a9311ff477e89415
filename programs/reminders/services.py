"""Reminder writes: keeping Enrolment.next_reminder_at right, dispatching and sending."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from programs import schedule
from programs.models import Completion, Enrolment, ProgramSession, ReminderDelivery

from . import due

# Enrolments handled per round of queries: keeps IN lists under SQLite's
# parameter limit and memory flat at 100,000 enrolments.
CHUNK = 1000


@dataclass
class EnrolmentSchedule:
    """An enrolment's sessions in day order, with the ids needed for links."""

    enrolment: Enrolment
    tz: ZoneInfo
    sessions: list[schedule.ScheduledSession] = field(default_factory=list)
    session_ids: dict[int, int] = field(default_factory=dict)  # day number → ProgramSession pk


def _tz(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):  # validated on save; a bad legacy value must not stop a batch
        return ZoneInfo("UTC")


def enrolment_schedules(enrolments: Sequence[Enrolment], *, today_by_id: dict[int, dt.date]) -> list[EnrolmentSchedule]:
    """Scheduled sessions (date, done) of each enrolment, in two queries for the lot.

    Dates come from programs.schedule so they match the web, the API and the
    trainer's view.
    """
    program_ids = {e.program_id for e in enrolments}
    days_by_program: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for program_id, session_id, week, day in ProgramSession.objects.filter(program_id__in=program_ids).values_list(
        "program_id", "id", "week", "day"
    ):
        days_by_program[program_id].append((schedule.day_number(week=week, day=day), session_id))
    for days in days_by_program.values():
        days.sort()
    done: dict[int, set[int]] = defaultdict(set)
    for enrolment_id, session_id in Completion.objects.filter(enrolment__in=[e.pk for e in enrolments]).values_list(
        "enrolment_id", "program_session_id"
    ):
        done[enrolment_id].add(session_id)

    result = []
    for enrolment in enrolments:
        member = enrolment.member
        item = EnrolmentSchedule(enrolment=enrolment, tz=_tz(member.timezone if member else "UTC"))
        pauses = enrolment.pause_list(today=today_by_id.get(enrolment.pk))
        for number, session_id in days_by_program.get(enrolment.program_id, ()):
            date = schedule.session_date(start_date=enrolment.start_date, day_number=number, pauses=pauses)
            item.sessions.append(
                schedule.ScheduledSession(day_number=number, date=date, done=session_id in done[enrolment.pk])
            )
            item.session_ids[number] = session_id
        result.append(item)
    return result


def wants_reminders(enrolment: Enrolment) -> bool:
    member = enrolment.member
    return due.reminders_wanted(
        status=enrolment.status,
        reminders_enabled=enrolment.reminders_enabled,
        member_exists=member is not None,
        member_active=bool(member and member.is_active),
        member_email=member.email if member else "",
        member_email_reminders=bool(member and member.email_reminders),
    )


def _handled_dates(enrolment_ids: list[int], *, since: dt.date) -> dict[int, set[dt.date]]:
    handled: dict[int, set[dt.date]] = defaultdict(set)
    for enrolment_id, local_date in ReminderDelivery.objects.filter(
        enrolment_id__in=enrolment_ids, local_date__gte=since
    ).values_list("enrolment_id", "local_date"):
        handled[enrolment_id].add(local_date)
    return handled


def next_reminders(enrolments: Sequence[Enrolment], *, now: dt.datetime) -> dict[int, dt.datetime | None]:
    """The next reminder instant of each enrolment (loaded with its member), in three queries."""
    result: dict[int, dt.datetime | None] = {e.pk: None for e in enrolments}
    wanted = [e for e in enrolments if wants_reminders(e)]
    if not wanted:
        return result
    today_by_id = {e.pk: due.local_date_of(now, _tz(e.member.timezone)) for e in wanted}
    schedules = enrolment_schedules(wanted, today_by_id=today_by_id)
    handled = _handled_dates([e.pk for e in wanted], since=min(today_by_id.values()) - dt.timedelta(days=1))
    for item in schedules:
        enrolment = item.enrolment
        stored = enrolment.next_reminder_at
        today = today_by_id[enrolment.pk]
        # Today's time has passed but the dispatcher has not handled it yet
        # (it is still stored as due): keep it rather than silently skip a day.
        keep = stored is not None and stored <= now and due.local_date_of(stored, item.tz) == today
        result[enrolment.pk] = due.next_reminder_at(
            sessions=item.sessions,
            reminder_time=enrolment.reminder_time,
            tz=item.tz,
            now=now,
            skip_dates=handled[enrolment.pk],
            keep_passed_today=keep,
        )
    return result


def reminder_schedule_refresh(*, enrolments: Iterable[Enrolment], now: dt.datetime | None = None) -> None:
    """Recompute and store Enrolment.next_reminder_at for these enrolments.

    Call after any write that changes an enrolment's schedule, status, reminder
    time or switch, its completions, or the member's timezone / email settings.
    Reads the enrolments afresh (so pass them after saving) and also sets the
    new value on the objects given. A handful of queries per 1,000 enrolments.
    """
    now = now or timezone.now()
    given = [e for e in enrolments if e.pk is not None]
    ids = list(dict.fromkeys(e.pk for e in given))
    new_values: dict[int, dt.datetime | None] = {}
    for start in range(0, len(ids), CHUNK):
        fresh = list(Enrolment.objects.filter(pk__in=ids[start : start + CHUNK]).select_related("member"))
        computed = next_reminders(fresh, now=now)
        changed = []
        for enrolment in fresh:
            value = computed[enrolment.pk]
            new_values[enrolment.pk] = value
            if enrolment.next_reminder_at != value:
                enrolment.next_reminder_at = value
                changed.append(enrolment)
        if changed:
            Enrolment.objects.bulk_update(changed, ["next_reminder_at"], batch_size=500)
    for enrolment in given:
        if enrolment.pk in new_values:
            enrolment.next_reminder_at = new_values[enrolment.pk]


def due_enrolments_query(*, now: dt.datetime):
    """The dispatcher's indexed query (partial index enrolment_next_reminder_idx)."""
    return Enrolment.objects.filter(Q(next_reminder_at__lte=now)).order_by("next_reminder_at")
