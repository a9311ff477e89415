"""Pure schedule maths: dates, due sessions, streaks and adherence.

No database access here. The web pages, the API, the reminders and the
trainer's view all call these functions, so their numbers never differ.
Rules: docs/schedule.md and docs/streaks-and-adherence.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# TextChoices only: nothing here touches the database.
from django.db import models
from django.utils.translation import gettext_lazy as _

DAYS_PER_WEEK = 7


@dataclass(frozen=True)
class Pause:
    started_on: dt.date
    days: int


def day_number(*, week: int, day: int) -> int:
    """Day N of a program: (week − 1) × 7 + day."""
    return (week - 1) * DAYS_PER_WEEK + day


def session_date(*, start_date: dt.date, day_number: int, pauses: Iterable[Pause] = ()) -> dt.date:
    """The date day N falls on: start + (N − 1), plus the days paused before it.

    A pause that starts on or before the (already shifted) date pushes it on by
    the pause's length; pauses are applied in the order they happened.
    """
    date = start_date + dt.timedelta(days=day_number - 1)
    for pause in sorted(pauses, key=lambda p: p.started_on):
        if pause.started_on <= date:
            date += dt.timedelta(days=pause.days)
    return date


@dataclass(frozen=True)
class ScheduledSession:
    day_number: int
    date: dt.date
    done: bool


def is_due(session: ScheduledSession, *, today: dt.date) -> bool:
    """Counted as due so far: its date has passed, or it is today and already done.

    Today's session, not yet done, breaks nothing until the member's day ends.
    """
    return session.date < today or (session.date == today and session.done)


@dataclass(frozen=True)
class Adherence:
    done: int
    due: int

    @property
    def ratio(self) -> float | None:
        return self.done / self.due if self.due else None

    @property
    def percent(self) -> int | None:
        return None if self.due == 0 else round(100 * self.done / self.due)


@dataclass(frozen=True)
class Progress:
    total: int
    done: int
    adherence: Adherence
    adherence_7_days: Adherence
    adherence_30_days: Adherence
    current_streak: int
    best_streak: int


def _adherence(due_sessions: Sequence[ScheduledSession], *, since: dt.date | None = None) -> Adherence:
    window = [s for s in due_sessions if since is None or s.date >= since]
    return Adherence(done=sum(s.done for s in window), due=len(window))


def progress(sessions: Iterable[ScheduledSession], *, today: dt.date) -> Progress:
    """Done/total, adherence overall and over the last 7 and 30 days, streaks.

    A streak is a run of consecutive due sessions done; rest days are not
    sessions, so they neither add to it nor break it.
    """
    ordered = sorted(sessions, key=lambda s: (s.date, s.day_number))
    due = [s for s in ordered if is_due(s, today=today)]

    best = run = 0
    for session in due:
        run = run + 1 if session.done else 0
        best = max(best, run)
    current = 0
    for session in reversed(due):
        if not session.done:
            break
        current += 1

    return Progress(
        total=len(ordered),
        done=sum(s.done for s in ordered),
        adherence=_adherence(due),
        adherence_7_days=_adherence(due, since=today - dt.timedelta(days=6)),
        adherence_30_days=_adherence(due, since=today - dt.timedelta(days=29)),
        current_streak=current,
        best_streak=best,
    )


class DayState(models.TextChoices):
    """What a calendar day was or will be. The values are the API's `state` and the pages' CSS classes."""

    DONE = "done", _("done")
    MISSED = "missed", _("missed, still open")
    TODAY = "today", _("today's session")
    UPCOMING = "upcoming", _("session planned")
    REST = "rest", _("rest day")
    PAUSED = "paused", _("paused")


@dataclass(frozen=True)
class CalendarDay:
    date: dt.date
    state: DayState
    day_number: int | None = None

    @property
    def is_rest(self) -> bool:
        return self.state == DayState.REST

    @property
    def is_done(self) -> bool:
        return self.state == DayState.DONE


def paused_dates(pauses: Iterable[Pause]) -> set[dt.date]:
    return {p.started_on + dt.timedelta(days=i) for p in pauses for i in range(p.days)}


def calendar(
    sessions: Iterable[ScheduledSession], *, start_date: dt.date, today: dt.date, pauses: Iterable[Pause] = ()
) -> list[CalendarDay]:
    """One entry per date from the start to the last session (or pause): what that day was or will be.

    A done session shows as done even on a date that was later paused; an open
    session before today is missed (still open for catching up).
    """
    by_date = {s.date: s for s in sessions}
    paused = paused_dates(pauses)
    if not by_date and not paused:
        return []
    end = max([*by_date, *paused])
    days = []
    date = start_date
    while date <= end:
        session = by_date.get(date)
        if session is not None and session.done:
            days.append(CalendarDay(date, DayState.DONE, session.day_number))
        elif date in paused:
            days.append(CalendarDay(date, DayState.PAUSED))
        elif session is None:
            days.append(CalendarDay(date, DayState.REST))
        elif date < today:
            days.append(CalendarDay(date, DayState.MISSED, session.day_number))
        elif date == today:
            days.append(CalendarDay(date, DayState.TODAY, session.day_number))
        else:
            days.append(CalendarDay(date, DayState.UPCOMING, session.day_number))
        date += dt.timedelta(days=1)
    return days
