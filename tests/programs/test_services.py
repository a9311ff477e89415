import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from programs.models import Completion, Enrolment, Program
from programs.services import (
    AlreadyEnrolled,
    EmailNotVerified,
    EnrolmentError,
    completion_record,
    completion_undo,
    enrolment_create,
    enrolment_finish,
    enrolment_leave,
    enrolment_pause,
    enrolment_restart,
    enrolment_resume,
    enrolment_update_reminder,
)
from tests.factories import EnrolmentFactory, ProgramFactory, UserFactory, build_program

D = dt.date
TODAY = D(2026, 3, 10)


def _at(date: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime(date.year, date.month, date.day, hour, tzinfo=dt.UTC)


@pytest.fixture
def program(db):
    # Sessions on days 1, 3 and 5 of two weeks: six sessions.
    return build_program(weeks=2, days=(1, 3, 5), items_per_session=1)


def _sessions(program):
    return list(program.sessions.order_by("week", "day"))


def _enrol(member, program, start=TODAY):
    return enrolment_create(member=member, program=program, start_date=start, today=TODAY)


# --- enrolment_create ----------------------------------------------------------------------------


def test_it_enrols_with_the_profile_reminder_time_by_default(alice, program):
    alice.default_reminder_time = dt.time(7, 15)
    alice.save()
    enrolment = _enrol(alice, program)
    assert enrolment.status == Enrolment.Status.ACTIVE
    assert enrolment.reminder_time == dt.time(7, 15)
    assert enrolment.reminders_enabled is True


def test_it_enrols_with_a_chosen_reminder_time_and_reminders_off(alice, program):
    enrolment = enrolment_create(
        member=alice,
        program=program,
        start_date=TODAY,
        reminder_time=dt.time(19, 30),
        reminders_enabled=False,
        today=TODAY,
    )
    assert (enrolment.reminder_time, enrolment.reminders_enabled) == (dt.time(19, 30), False)


def test_it_refuses_a_draft_program(alice):
    draft = ProgramFactory(status=Program.Status.DRAFT)
    with pytest.raises(EnrolmentError, match="not open"):
        _enrol(alice, draft)
    assert not Enrolment.objects.exists()


def test_it_refuses_a_member_whose_email_is_not_confirmed(program):
    newcomer = UserFactory(email_verified_at=None)
    with pytest.raises(EmailNotVerified, match="Confirm your email address first"):
        _enrol(newcomer, program)
    assert not Enrolment.objects.exists()


def test_it_enrols_a_partners_member_without_a_confirmed_email(program, partner):
    # The partner vouches for the address: its members never get a verification email.
    managed = UserFactory(email_verified_at=None, partner=partner, external_id="p-1")
    assert _enrol(managed, program).member == managed


def test_a_restart_also_needs_a_confirmed_email(alice, program):
    old = _enrol(alice, program)
    enrolment_leave(enrolment=old)
    alice.email_verified_at = None
    alice.save()
    with pytest.raises(EmailNotVerified):
        enrolment_restart(enrolment=old, start_date=TODAY)


@pytest.mark.parametrize("start", [TODAY - dt.timedelta(days=14), TODAY, TODAY + dt.timedelta(days=365)])
def test_it_accepts_start_dates_within_the_window(alice, program, start):
    assert _enrol(alice, program, start).start_date == start


@pytest.mark.parametrize(
    ("start", "message"),
    [(TODAY - dt.timedelta(days=15), "14 days ago"), (TODAY + dt.timedelta(days=366), "a year ahead")],
)
def test_it_refuses_start_dates_outside_the_window(alice, program, start, message):
    with pytest.raises(EnrolmentError, match=message):
        _enrol(alice, program, start)
    assert not Enrolment.objects.exists()


def test_it_uses_the_members_local_today_for_the_start_window(alice, program, time_machine):
    # 23:30 UTC on 10 March is already 11 March in Auckland: 25 February is 14 days before that.
    alice.timezone = "Pacific/Auckland"
    alice.save()
    time_machine.move_to(dt.datetime(2026, 3, 10, 23, 30, tzinfo=dt.UTC), tick=False)
    enrolment_create(member=alice, program=program, start_date=D(2026, 2, 25))
    with pytest.raises(EnrolmentError):
        enrolment_create(member=alice, program=ProgramFactory(), start_date=D(2026, 2, 24))


def test_it_shows_the_existing_enrolment_instead_of_a_duplicate(alice, program):
    first = _enrol(alice, program)
    with pytest.raises(AlreadyEnrolled) as caught:
        _enrol(alice, program)
    assert caught.value.enrolment == first
    assert Enrolment.objects.count() == 1


def test_it_counts_a_paused_enrolment_as_current(alice, program):
    first = _enrol(alice, program)
    enrolment_pause(enrolment=first, today=TODAY)
    with pytest.raises(AlreadyEnrolled):
        _enrol(alice, program)


def test_the_database_refuses_a_second_current_enrolment(alice, program):
    _enrol(alice, program)
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrolment.objects.create(member=alice, program=program, start_date=TODAY, reminder_time=dt.time(8))


def test_it_lets_two_members_enrol_in_the_same_program(alice, bob, program):
    _enrol(alice, program)
    _enrol(bob, program)
    assert Enrolment.objects.filter(program=program).count() == 2


# --- pause, resume, leave, finish, restart --------------------------------------------------------


def test_it_pauses_on_the_members_today(alice, program):
    enrolment = _enrol(alice, program)
    enrolment_pause(enrolment=enrolment, today=D(2026, 3, 12))
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.PAUSED
    assert enrolment.paused_on == D(2026, 3, 12)


def test_it_refuses_to_pause_twice(alice, program):
    enrolment = _enrol(alice, program)
    enrolment_pause(enrolment=enrolment, today=TODAY)
    with pytest.raises(EnrolmentError, match="Only an active"):
        enrolment_pause(enrolment=enrolment, today=TODAY)


def test_resuming_shifts_the_remaining_schedule_by_the_paused_days(alice, program):
    enrolment = _enrol(alice, program)  # sessions on 10, 12, 14, 17, 19, 21 March
    enrolment_pause(enrolment=enrolment, today=D(2026, 3, 12))
    enrolment_resume(enrolment=enrolment, today=D(2026, 3, 16))
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE
    assert enrolment.paused_on is None
    assert enrolment.pauses == [{"started_on": "2026-03-12", "days": 4}]
    dates = [enrolment.date_of_session(s) for s in _sessions(program)]
    assert dates == [D(2026, 3, 10), D(2026, 3, 16), D(2026, 3, 18), D(2026, 3, 21), D(2026, 3, 23), D(2026, 3, 25)]


def test_resuming_on_the_day_of_the_pause_shifts_nothing(alice, program):
    enrolment = _enrol(alice, program)
    enrolment_pause(enrolment=enrolment, today=TODAY)
    enrolment_resume(enrolment=enrolment, today=TODAY)
    enrolment.refresh_from_db()
    assert enrolment.pauses == []
    assert enrolment.date_of_session(_sessions(program)[0]) == TODAY


def test_it_keeps_every_pause(alice, program):
    enrolment = _enrol(alice, program)
    enrolment_pause(enrolment=enrolment, today=D(2026, 3, 11))
    enrolment_resume(enrolment=enrolment, today=D(2026, 3, 13))
    enrolment_pause(enrolment=enrolment, today=D(2026, 3, 20))
    enrolment_resume(enrolment=enrolment, today=D(2026, 3, 21))
    enrolment.refresh_from_db()
    assert enrolment.pauses == [{"started_on": "2026-03-11", "days": 2}, {"started_on": "2026-03-20", "days": 1}]


def test_it_refuses_to_resume_an_active_enrolment(alice, program):
    with pytest.raises(EnrolmentError, match="Only a paused"):
        enrolment_resume(enrolment=_enrol(alice, program), today=TODAY)


def test_leaving_while_paused_keeps_the_pause_in_the_history(alice, program, time_machine):
    time_machine.move_to(_at(D(2026, 3, 15)), tick=False)
    enrolment = _enrol(alice, program)
    enrolment_pause(enrolment=enrolment, today=D(2026, 3, 12))
    enrolment_leave(enrolment=enrolment)
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.LEFT
    assert enrolment.paused_on is None
    assert enrolment.pauses == [{"started_on": "2026-03-12", "days": 3}]
    assert enrolment.ended_at == _at(D(2026, 3, 15))


def test_it_refuses_to_leave_twice(alice, program):
    enrolment = _enrol(alice, program)
    enrolment_leave(enrolment=enrolment)
    with pytest.raises(EnrolmentError, match="already ended"):
        enrolment_leave(enrolment=enrolment)


def test_finishing_early_completes_the_enrolment(alice, program):
    enrolment = enrolment_finish(enrolment=_enrol(alice, program))
    assert enrolment.status == Enrolment.Status.COMPLETED
    assert enrolment.ended_at is not None


def test_restarting_makes_a_new_enrolment_and_keeps_the_old_one(alice, program, time_machine):
    time_machine.move_to(_at(TODAY), tick=False)
    old = _enrol(alice, program)
    completion_record(enrolment=old, program_session=_sessions(program)[0], now=_at(TODAY))
    enrolment_leave(enrolment=old)
    new = enrolment_restart(enrolment=old, start_date=TODAY + dt.timedelta(days=1))
    assert new.pk != old.pk
    assert new.status == Enrolment.Status.ACTIVE
    assert (new.reminder_time, new.reminders_enabled) == (old.reminder_time, old.reminders_enabled)
    old.refresh_from_db()
    assert old.status == Enrolment.Status.LEFT
    assert old.completions.count() == 1
    assert new.completions.count() == 0


def test_it_refuses_to_restart_a_current_enrolment(alice, program):
    with pytest.raises(EnrolmentError, match="still enrolled"):
        enrolment_restart(enrolment=_enrol(alice, program), start_date=TODAY)


def test_it_refuses_a_restart_when_another_run_is_current(alice, program, time_machine):
    time_machine.move_to(_at(TODAY), tick=False)
    old = enrolment_finish(enrolment=_enrol(alice, program))
    enrolment_restart(enrolment=old, start_date=TODAY)
    with pytest.raises(AlreadyEnrolled):
        enrolment_restart(enrolment=old, start_date=TODAY)


def test_it_updates_the_reminder_settings(alice, program):
    enrolment = _enrol(alice, program)
    enrolment_update_reminder(enrolment=enrolment, reminder_time=dt.time(6, 45))
    enrolment_update_reminder(enrolment=enrolment, reminders_enabled=False)
    enrolment.refresh_from_db()
    assert (enrolment.reminder_time, enrolment.reminders_enabled) == (dt.time(6, 45), False)


# --- completion_record and completion_undo -------------------------------------------------------


@pytest.fixture
def enrolment(alice, program, time_machine):
    time_machine.move_to(_at(TODAY), tick=False)
    return _enrol(alice, program)


def test_it_records_a_tick_with_pain_scores_and_a_note(enrolment, program):
    completion, created = completion_record(
        enrolment=enrolment,
        program_session=_sessions(program)[0],
        pain_before=6,
        pain_after=3,
        note="  Felt looser.  ",
        now=_at(TODAY),
    )
    assert created is True
    assert (completion.pain_before, completion.pain_after, completion.note) == (6, 3, "Felt looser.")
    assert completion.completed_at == _at(TODAY)


def test_ticking_twice_is_ticking_once(enrolment, program):
    session = _sessions(program)[0]
    first, first_created = completion_record(
        enrolment=enrolment, program_session=session, pain_before=4, now=_at(TODAY)
    )
    second, second_created = completion_record(
        enrolment=enrolment, program_session=session, pain_before=9, now=_at(TODAY)
    )
    assert (first_created, second_created) == (True, False)
    assert second.pk == first.pk
    assert second.pain_before == 4
    assert Completion.objects.count() == 1


def test_the_database_refuses_a_second_tick_of_the_same_session(enrolment, program):
    session = _sessions(program)[0]
    completion_record(enrolment=enrolment, program_session=session, now=_at(TODAY))
    with pytest.raises(IntegrityError), transaction.atomic():
        Completion.objects.create(enrolment=enrolment, program_session=session)


def test_it_refuses_a_session_of_another_program(enrolment):
    other = build_program(weeks=1, days=(1,), items_per_session=1)
    with pytest.raises(EnrolmentError, match="not part of the program"):
        completion_record(enrolment=enrolment, program_session=other.sessions.get(), now=_at(TODAY))
    assert not Completion.objects.exists()


def test_it_refuses_a_session_that_is_not_due_yet(enrolment, program):
    with pytest.raises(EnrolmentError, match="not due yet"):
        completion_record(enrolment=enrolment, program_session=_sessions(program)[1], now=_at(TODAY))
    assert not Completion.objects.exists()


def test_it_lets_the_member_catch_up_in_any_order(enrolment, program):
    sessions = _sessions(program)
    later = _at(D(2026, 3, 15))
    completion_record(enrolment=enrolment, program_session=sessions[2], now=later)
    completion_record(enrolment=enrolment, program_session=sessions[0], now=later)
    completion_record(enrolment=enrolment, program_session=sessions[1], now=later)
    assert enrolment.completions.count() == 3


def test_today_is_the_members_local_date(enrolment, program, alice):
    # The second session falls on 12 March. At 23:30 UTC on 11 March it is
    # already 12 March in Auckland, but not in New York.
    session = _sessions(program)[1]
    late = dt.datetime(2026, 3, 11, 23, 30, tzinfo=dt.UTC)
    alice.timezone = "America/New_York"
    alice.save()
    with pytest.raises(EnrolmentError, match="not due yet"):
        completion_record(enrolment=enrolment, program_session=session, now=late)
    alice.timezone = "Pacific/Auckland"
    alice.save()
    assert completion_record(enrolment=enrolment, program_session=session, now=late)[1] is True


def test_the_local_date_follows_daylight_saving_changes(enrolment, program, alice):
    # New York moves to summer time at 07:00 UTC on 8 March 2026; 11 March
    # begins at 04:00 UTC (EDT), not 05:00 (EST).
    alice.timezone = "America/New_York"
    alice.save()
    enrolment.start_date = D(2026, 3, 9)
    enrolment.save()
    second = _sessions(program)[1]  # day 3: 11 March
    with pytest.raises(EnrolmentError):
        completion_record(
            enrolment=enrolment, program_session=second, now=dt.datetime(2026, 3, 11, 3, 59, tzinfo=dt.UTC)
        )
    assert completion_record(
        enrolment=enrolment, program_session=second, now=dt.datetime(2026, 3, 11, 4, 0, tzinfo=dt.UTC)
    )[1]


@pytest.mark.parametrize("pain", [-1, 11, True, "5"])
def test_it_refuses_pain_scores_outside_0_to_10(enrolment, program, pain):
    with pytest.raises(EnrolmentError, match="0 to 10"):
        completion_record(enrolment=enrolment, program_session=_sessions(program)[0], pain_after=pain, now=_at(TODAY))
    assert not Completion.objects.exists()


def test_it_refuses_a_note_over_2000_characters(enrolment, program):
    with pytest.raises(EnrolmentError, match="too long"):
        completion_record(
            enrolment=enrolment, program_session=_sessions(program)[0], note="x" * 100_000, now=_at(TODAY)
        )
    assert not Completion.objects.exists()


def test_ticking_the_last_session_completes_the_enrolment(enrolment, program):
    end = _at(D(2026, 3, 22))
    for session in _sessions(program):
        completion_record(enrolment=enrolment, program_session=session, now=end)
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.COMPLETED
    assert enrolment.ended_at == end


def test_repeating_the_last_tick_after_completion_returns_the_first(enrolment, program):
    end = _at(D(2026, 3, 22))
    sessions = _sessions(program)
    for session in sessions:
        completion_record(enrolment=enrolment, program_session=session, now=end)
    again, created = completion_record(enrolment=enrolment, program_session=sessions[-1], now=end)
    assert (again.enrolment_id, created) == (enrolment.pk, False)
    assert Completion.objects.count() == len(sessions)


def test_it_refuses_to_tick_in_an_enrolment_that_was_left(enrolment, program):
    enrolment_leave(enrolment=enrolment)
    with pytest.raises(EnrolmentError, match="ended"):
        completion_record(enrolment=enrolment, program_session=_sessions(program)[0], now=_at(TODAY))


def test_a_paused_member_can_still_catch_up_on_earlier_sessions(enrolment, program):
    enrolment_pause(enrolment=enrolment, today=D(2026, 3, 11))
    sessions = _sessions(program)
    assert completion_record(enrolment=enrolment, program_session=sessions[0], now=_at(D(2026, 3, 12)))[1] is True
    # The 12 March session moved past the pause: it is not due while paused.
    with pytest.raises(EnrolmentError, match="not due yet"):
        completion_record(enrolment=enrolment, program_session=sessions[1], now=_at(D(2026, 3, 12)))


def test_undo_removes_the_tick(enrolment, program):
    session = _sessions(program)[0]
    completion_record(enrolment=enrolment, program_session=session, now=_at(TODAY))
    completion_undo(enrolment=enrolment, program_session=session)
    assert not Completion.objects.exists()


def test_undoing_nothing_changes_nothing(enrolment, program):
    completion_undo(enrolment=enrolment, program_session=_sessions(program)[0])
    assert not Completion.objects.exists()


def test_undoing_the_completing_tick_reopens_the_enrolment(enrolment, program):
    sessions = _sessions(program)
    for session in sessions:
        completion_record(enrolment=enrolment, program_session=session, now=_at(D(2026, 3, 22)))
    completion_undo(enrolment=enrolment, program_session=sessions[-1])
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE
    assert enrolment.ended_at is None


def test_it_refuses_to_undo_in_an_enrolment_that_was_left(enrolment, program):
    session = _sessions(program)[0]
    completion_record(enrolment=enrolment, program_session=session, now=_at(TODAY))
    enrolment_leave(enrolment=enrolment)
    with pytest.raises(EnrolmentError, match="left"):
        completion_undo(enrolment=enrolment, program_session=session)
    assert Completion.objects.count() == 1


def test_it_keeps_a_restarted_runs_history_frozen(enrolment, program):
    sessions = _sessions(program)
    for session in sessions:
        completion_record(enrolment=enrolment, program_session=session, now=_at(D(2026, 3, 22)))
    enrolment_restart(enrolment=enrolment, start_date=TODAY)
    with pytest.raises(EnrolmentError, match="restarted"):
        completion_undo(enrolment=enrolment, program_session=sessions[0])
    assert enrolment.completions.count() == len(sessions)


# --- reminders follow every change ---------------------------------------------------------------


def test_reminders_stop_while_paused_and_after_leaving(enrolment):
    enrolment_pause(enrolment=enrolment, today=TODAY)
    enrolment.refresh_from_db()
    assert enrolment.next_reminder_at is None
    enrolment_resume(enrolment=enrolment, today=TODAY)
    enrolment_leave(enrolment=enrolment)
    enrolment.refresh_from_db()
    assert enrolment.next_reminder_at is None


def test_an_enrolment_gets_its_next_reminder_scheduled(alice, program, time_machine):
    time_machine.move_to(_at(TODAY), tick=False)
    enrolment = _enrol(alice, program, start=TODAY + dt.timedelta(days=3))
    enrolment.refresh_from_db()
    assert enrolment.next_reminder_at is not None


def test_a_deleted_members_enrolment_cannot_be_restarted(program):
    enrolment = EnrolmentFactory(program=program, member=None, status=Enrolment.Status.LEFT)
    with pytest.raises(EnrolmentError, match="deleted"):
        enrolment_restart(enrolment=enrolment, start_date=TODAY)
