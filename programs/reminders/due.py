"""Pure due-time maths for an enrolment's emails (reminders and catch-up nudges): no database access.

Rules (docs/messages.md): a reminder goes out on each local date that has a
due session not yet done, at the enrolment's reminder time in the member's
timezone. A wall time that does not exist that day (DST gap) is sent at the
first instant after it; one that happens twice (DST fold) is sent once, at the
first. An open session from an earlier day is only mentioned in the day's
email, never given an email of its own. A catch-up nudge goes out at the same
time on the day after a missed session, when that day has no session of its
own and the missed one is still open.
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


def zone(name: str) -> ZoneInfo:
    """A person's zone; one that is somehow invalid (validated on save) reads as UTC rather than stop a batch."""
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


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
    member_push_devices: bool = False,
) -> bool:
    """Whether an enrolment may get reminders at all: its status and switches, and a way to reach the member.

    By email (an address, and the member's email switch for the kind) or on a
    device where the member switched push on (docs/push.md).
    """
    reachable = (bool(member_email) and member_email_reminders) or member_push_devices
    return status == "active" and reminders_enabled and member_exists and member_active and reachable


def next_reminder_at(
    *,
    sessions: Iterable[ScheduledSession],
    reminder_time: dt.time,
    tz: ZoneInfo,
    now: dt.datetime,
    skip_dates: Iterable[dt.date] = (),
    keep_passed_today: bool = False,
    reminders: bool = True,
    nudges: bool = False,
) -> dt.datetime | None:
    """The next instant (UTC) at or after `now` that a reminder or a nudge is due, or None when none is.

    `reminders` and `nudges` say which of the two the enrolment still wants.
    `skip_dates` are local dates already handled (a message exists). Today's
    time, once passed, counts only with `keep_passed_today` (it was scheduled
    and not yet dispatched): a member who enrols at 09:00 with an 08:00
    reminder is not mailed on the spot.
    """
    sessions = list(sessions)
    today = local_date_of(now, tz)
    skipped = set(skip_dates)
    dates: set[dt.date] = set()
    if reminders:
        dates.update(s.date for s in sessions if not s.done)
    if nudges:
        dates.update(_nudge_dates(sessions))
    for date in sorted(d for d in dates if d >= today and d not in skipped):
        at = reminder_instant(local_date=date, reminder_time=reminder_time, tz=tz)
        if at >= now or (date == today and keep_passed_today):
            return at
    return None


def _nudge_dates(sessions: list[ScheduledSession]) -> set[dt.date]:
    with_session = {s.date for s in sessions}
    return {s.date + dt.timedelta(days=1) for s in sessions if not s.done} - with_session


def nudge_missed_session(sessions: Iterable[ScheduledSession], local_date: dt.date) -> ScheduledSession | None:
    """The missed session a catch-up nudge on `local_date` is about, or None when the day earns no nudge.

    It does when the day has no session of its own (done or not) and a session
    of the day before is still open. Only the day after earns one, so a missed
    session gets at most one nudge.
    """
    sessions = list(sessions)
    if any(s.date == local_date for s in sessions):
        return None
    day_before = local_date - dt.timedelta(days=1)
    missed = [s for s in sessions if s.date == day_before and not s.done]
    return min(missed, key=lambda s: s.day_number, default=None)


def session_on(sessions: Iterable[ScheduledSession], local_date: dt.date) -> ScheduledSession | None:
    """The session falling on `local_date` that is not done yet, if any."""
    for session in sessions:
        if session.date == local_date and not session.done:
            return session
    return None


def open_before(sessions: Iterable[ScheduledSession], local_date: dt.date) -> list[ScheduledSession]:
    """Sessions from earlier days still open (overdue), oldest first."""
    return sorted((s for s in sessions if s.date < local_date and not s.done), key=lambda s: (s.date, s.day_number))
