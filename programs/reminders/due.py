"""Pure due-time maths for reminder emails: no database access.

Rule (docs/reminders.md): a reminder goes out on each local date that
has a due session not yet done, at the enrolment's reminder time in the
member's timezone. A wall time that does not exist that day (DST gap) is sent at
the first instant after it; one that happens twice (DST fold) is sent once, at
the first. An open session from an earlier day is only mentioned in the day's
email, never given an email of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from programs.schedule import ScheduledSession

UTC = dt.UTC


def reminder_instant(*, local_date: dt.date, reminder_time: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant of `reminder_time` on `local_date` in `tz`."""
    # fold=0 picks the first of two occurrences when the clock goes back.
    wall = dt.datetime.combine(local_date, reminder_time.replace(tzinfo=None, fold=0)).replace(tzinfo=tz)
    instant = wall.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == wall.replace(tzinfo=None):
        return instant
    # The wall time falls in a gap. With fold=0 zoneinfo maps it with the offset
    # from before the jump, which lands past the transition; the "first instant
    # after" the missing time is the transition itself.
    return _transition_before(instant, tz)


def _transition_before(instant: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """The latest offset change at or before `instant` (searched within a day, to the second)."""
    offset_after = instant.astimezone(tz).utcoffset()
    low, high = instant - dt.timedelta(days=1), instant
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle <= low:
            break
        if middle.astimezone(tz).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    return high


def local_date_of(instant: dt.datetime, tz: ZoneInfo) -> dt.date:
    return instant.astimezone(tz).date()


def reminders_wanted(
    *,
    status: str,
    reminders_enabled: bool,
    member_exists: bool,
    member_active: bool = True,
    member_email: str = "",
    member_email_reminders: bool = True,
) -> bool:
    """Whether an enrolment may get reminders at all (status and switches)."""
    return (
        status == "active"
        and reminders_enabled
        and member_exists
        and member_active
        and bool(member_email)
        and member_email_reminders
    )


def next_reminder_at(
    *,
    sessions: Iterable[ScheduledSession],
    reminder_time: dt.time,
    tz: ZoneInfo,
    now: dt.datetime,
    skip_dates: Iterable[dt.date] = (),
    keep_passed_today: bool = False,
) -> dt.datetime | None:
    """The next reminder instant (UTC) at or after `now`, or None when no session is left.

    `sessions` must be in day order (dates ascending) so the search can stop at
    the first hit. `skip_dates` are local dates already handled (a delivery
    exists). Today's reminder time, once passed, counts only with
    `keep_passed_today` (it was scheduled and not yet dispatched): a member who
    enrols at 09:00 with an 08:00 reminder is not mailed on the spot.
    """
    today = local_date_of(now, tz)
    skipped = set(skip_dates)
    for session in sessions:
        if session.done or session.date < today or session.date in skipped:
            continue
        at = reminder_instant(local_date=session.date, reminder_time=reminder_time, tz=tz)
        if at >= now or (session.date == today and keep_passed_today):
            return at
    return None


def session_on(sessions: Iterable[ScheduledSession], local_date: dt.date) -> ScheduledSession | None:
    """The session falling on `local_date` that is not done yet, if any."""
    for session in sessions:
        if session.date == local_date and not session.done:
            return session
    return None


def open_before(sessions: Iterable[ScheduledSession], local_date: dt.date) -> list[ScheduledSession]:
    """Sessions from earlier days still open (overdue), oldest first."""
    return sorted((s for s in sessions if s.date < local_date and not s.done), key=lambda s: (s.date, s.day_number))
