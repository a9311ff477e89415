"""Writes for programs: enrolment and tick-off (below), publishing and duplicating programs.

Every service is keyword-only; a rule that refuses a change raises an
EnrolmentError whose message is shown to the member as it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Completion, Enrolment, Program, ProgramSession
from .selectors import member_local_today

# How far the start date of a new enrolment may lie from the member's today.
START_DATE_MAX_DAYS_AGO = 14
START_DATE_MAX_DAYS_AHEAD = 365
NOTE_MAX_LENGTH = 2000
PAIN_MIN, PAIN_MAX = 0, 10


class EnrolmentError(Exception):
    """A rule refused an enrolment or tick-off change; the message is user-facing."""


class AlreadyEnrolled(EnrolmentError):
    """The member already has a current (active or paused) enrolment in the program."""

    def __init__(self, enrolment: Enrolment):
        self.enrolment = enrolment
        super().__init__("You are already enrolled in this program.")


def _refresh_reminders(enrolments: Iterable[Enrolment]) -> None:
    # Imported when called: the reminders app imports the programs models and
    # selectors, and this keeps the import graph one-way at load time.
    from .reminders.services import reminder_schedule_refresh

    reminder_schedule_refresh(enrolments=list(enrolments))


def _lock(enrolment: Enrolment) -> None:
    """Reload the row under a lock so concurrent pauses, resumes and ticks serialise."""
    enrolment.refresh_from_db(from_queryset=Enrolment.objects.select_for_update())


def _today(enrolment: Enrolment, now: dt.datetime | None = None) -> dt.date:
    return member_local_today(enrolment.member, now=now)


def validate_start_date(*, start_date: dt.date, today: dt.date) -> None:
    if start_date < today - dt.timedelta(days=START_DATE_MAX_DAYS_AGO):
        raise EnrolmentError(f"The start date can be at most {START_DATE_MAX_DAYS_AGO} days ago.")
    if start_date > today + dt.timedelta(days=START_DATE_MAX_DAYS_AHEAD):
        raise EnrolmentError("The start date can be at most a year ahead.")


def enrolment_create(
    *,
    member,
    program: Program,
    start_date: dt.date,
    reminder_time: dt.time | None = None,
    reminders_enabled: bool = True,
    today: dt.date | None = None,
) -> Enrolment:
    if program.status != Program.Status.PUBLISHED:
        raise EnrolmentError("This program is not open for enrolment.")
    validate_start_date(start_date=start_date, today=today or member_local_today(member))
    existing = Enrolment.objects.filter(member=member, program=program, status__in=Enrolment.CURRENT_STATUSES).first()
    if existing is not None:
        raise AlreadyEnrolled(existing)
    with transaction.atomic():
        try:
            # The partial unique constraint decides between two simultaneous
            # enrolments; the savepoint lets us report the winner.
            with transaction.atomic():
                enrolment = Enrolment.objects.create(
                    member=member,
                    program=program,
                    start_date=start_date,
                    reminder_time=reminder_time or member.default_reminder_time,
                    reminders_enabled=reminders_enabled,
                )
        except IntegrityError:
            raise AlreadyEnrolled(
                Enrolment.objects.get(member=member, program=program, status__in=Enrolment.CURRENT_STATUSES)
            ) from None
        _refresh_reminders([enrolment])
    return enrolment


def _close_pause(enrolment: Enrolment, *, today: dt.date) -> None:
    """Turn the open pause into a finished one: the days from paused_on up to (not including) today."""
    days = max(0, (today - enrolment.paused_on).days)
    if days:
        enrolment.pauses = [*enrolment.pauses, {"started_on": enrolment.paused_on.isoformat(), "days": days}]
    enrolment.paused_on = None


def enrolment_pause(*, enrolment: Enrolment, today: dt.date | None = None) -> Enrolment:
    today = today or _today(enrolment)
    with transaction.atomic():
        _lock(enrolment)
        if enrolment.status != Enrolment.Status.ACTIVE:
            raise EnrolmentError("Only an active enrolment can be paused.")
        enrolment.status = Enrolment.Status.PAUSED
        enrolment.paused_on = today
        enrolment.save(update_fields=["status", "paused_on"])
        _refresh_reminders([enrolment])
    return enrolment


def enrolment_resume(*, enrolment: Enrolment, today: dt.date | None = None) -> Enrolment:
    """Resume; every session not before the pause moves on by the days spent paused."""
    today = today or _today(enrolment)
    with transaction.atomic():
        _lock(enrolment)
        if enrolment.status != Enrolment.Status.PAUSED:
            raise EnrolmentError("Only a paused enrolment can be resumed.")
        _close_pause(enrolment, today=today)
        enrolment.status = Enrolment.Status.ACTIVE
        enrolment.save(update_fields=["status", "paused_on", "pauses"])
        _refresh_reminders([enrolment])
    return enrolment


def _end(enrolment: Enrolment, *, status: str, now: dt.datetime | None = None) -> Enrolment:
    now = now or timezone.now()
    if enrolment.paused_on is not None:
        _close_pause(enrolment, today=_today(enrolment, now))
    enrolment.status = status
    enrolment.ended_at = now
    enrolment.save(update_fields=["status", "paused_on", "pauses", "ended_at"])
    _refresh_reminders([enrolment])
    return enrolment


def enrolment_leave(*, enrolment: Enrolment) -> Enrolment:
    with transaction.atomic():
        _lock(enrolment)
        if not enrolment.is_current:
            raise EnrolmentError("This enrolment has already ended.")
        return _end(enrolment, status=Enrolment.Status.LEFT)


def enrolment_finish(*, enrolment: Enrolment) -> Enrolment:
    """Finish early: the enrolment counts as completed with the sessions done so far."""
    with transaction.atomic():
        _lock(enrolment)
        if not enrolment.is_current:
            raise EnrolmentError("This enrolment has already ended.")
        return _end(enrolment, status=Enrolment.Status.COMPLETED)


def enrolment_restart(*, enrolment: Enrolment, start_date: dt.date) -> Enrolment:
    """Start a finished or left program again as a new enrolment; the old one stays as history."""
    if enrolment.is_current:
        raise EnrolmentError("You are still enrolled in this program.")
    if enrolment.member is None:
        raise EnrolmentError("This enrolment belongs to a deleted account.")
    return enrolment_create(
        member=enrolment.member,
        program=enrolment.program,
        start_date=start_date,
        reminder_time=enrolment.reminder_time,
        reminders_enabled=enrolment.reminders_enabled,
    )


def enrolment_update_reminder(
    *, enrolment: Enrolment, reminder_time: dt.time | None = None, reminders_enabled: bool | None = None
) -> Enrolment:
    with transaction.atomic():
        _lock(enrolment)
        if reminder_time is not None:
            enrolment.reminder_time = reminder_time
        if reminders_enabled is not None:
            enrolment.reminders_enabled = reminders_enabled
        enrolment.save(update_fields=["reminder_time", "reminders_enabled"])
        _refresh_reminders([enrolment])
    return enrolment


def _validate_pain(value: int | None, label: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not PAIN_MIN <= value <= PAIN_MAX:
        raise EnrolmentError(f"Pain {label} must be a whole number from {PAIN_MIN} to {PAIN_MAX}.")


def completion_record(
    *,
    enrolment: Enrolment,
    program_session: ProgramSession,
    pain_before: int | None = None,
    pain_after: int | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> Completion:
    """Tick a session off. Ticking again returns the first tick unchanged.

    Due and overdue sessions may be ticked in any order; future ones may not.
    Ticking the last open session completes the enrolment.
    """
    now = now or timezone.now()
    if program_session.program_id != enrolment.program_id:
        raise EnrolmentError("This session is not part of the program you are enrolled in.")
    _validate_pain(pain_before, "before")
    _validate_pain(pain_after, "after")
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise EnrolmentError(f"The note is too long: keep it to {NOTE_MAX_LENGTH} characters.")

    with transaction.atomic():
        _lock(enrolment)
        existing = Completion.objects.filter(enrolment=enrolment, program_session=program_session).first()
        if existing is not None:
            return existing
        if not enrolment.is_current:
            raise EnrolmentError("This enrolment has ended; restart the program to tick sessions again.")
        today = _today(enrolment, now)
        falls_on = enrolment.date_of_session(program_session, today=today)
        if falls_on > today:
            raise EnrolmentError(f"This session is not due yet: it is planned for {falls_on:%A %-d %B}.")
        try:
            # The unique (enrolment, program_session) constraint is the guarantee
            # that ticking twice is ticking once, even from two requests at once.
            with transaction.atomic():
                completion = Completion.objects.create(
                    enrolment=enrolment,
                    program_session=program_session,
                    completed_at=now,
                    pain_before=pain_before,
                    pain_after=pain_after,
                    note=note,
                )
        except IntegrityError:
            return Completion.objects.get(enrolment=enrolment, program_session=program_session)
        total = ProgramSession.objects.filter(program_id=enrolment.program_id).count()
        if enrolment.completions.count() >= total:
            _end(enrolment, status=Enrolment.Status.COMPLETED, now=now)
        else:
            _refresh_reminders([enrolment])
    return completion


def completion_undo(*, enrolment: Enrolment, program_session: ProgramSession) -> None:
    """Remove a tick. Undoing the tick that completed the program reopens it."""
    with transaction.atomic():
        _lock(enrolment)
        if enrolment.status == Enrolment.Status.LEFT:
            raise EnrolmentError("You have left this program; its history can no longer change.")
        deleted, _ = Completion.objects.filter(enrolment=enrolment, program_session=program_session).delete()
        if not deleted:
            return
        if enrolment.status == Enrolment.Status.COMPLETED:
            enrolment.status = Enrolment.Status.ACTIVE
            enrolment.ended_at = None
            try:
                with transaction.atomic():
                    enrolment.save(update_fields=["status", "ended_at"])
            except IntegrityError:
                raise EnrolmentError(
                    "You have restarted this program, so this earlier run can no longer change."
                ) from None
        _refresh_reminders([enrolment])
