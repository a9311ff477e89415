"""Every database rule of the domain model, proven by trying to break it."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from programs.models import Completion, Enrolment, Program, ProgramSession, SessionItem, Stretch, prescription_text
from tests.factories import (
    CompletionFactory,
    EnrolmentFactory,
    ProgramFactory,
    ProgramSessionFactory,
    SessionItemFactory,
    StretchFactory,
    build_program,
)

pytestmark = pytest.mark.django_db
D = dt.date


def _refused(make):
    """Run `make` in a savepoint and expect the database to refuse it."""
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def _counts():
    return {
        model.__name__: model.objects.count()
        for model in (Program, ProgramSession, SessionItem, Stretch, Enrolment, Completion)
    }


def test_it_refuses_two_sessions_on_the_same_program_day():
    session = ProgramSessionFactory(week=2, day=3)
    before = _counts()
    _refused(lambda: ProgramSession.objects.create(program=session.program, week=2, day=3, title="Again"))
    assert _counts() == before
    assert ProgramSession.objects.get(pk=session.pk).title == session.title


def test_it_allows_the_same_day_in_another_week_or_program():
    session = ProgramSessionFactory(week=1, day=3)
    ProgramSession.objects.create(program=session.program, week=2, day=3, title="Next week")
    ProgramSessionFactory(week=1, day=3)
    assert ProgramSession.objects.filter(day=3).count() == 3


@pytest.mark.parametrize("day", [0, 8, 30])
def test_it_refuses_a_day_outside_one_to_seven(day):
    program = ProgramFactory()
    before = _counts()
    _refused(lambda: ProgramSession.objects.create(program=program, week=1, day=day, title="Bad day"))
    assert _counts() == before


def test_it_refuses_week_zero():
    program = ProgramFactory()
    _refused(lambda: ProgramSession.objects.create(program=program, week=0, day=1, title="Bad week"))


def test_it_explains_a_bad_day_in_form_validation():
    session = ProgramSession(program=ProgramFactory(), week=1, day=9, title="Day nine")
    with pytest.raises(ValidationError) as error:
        session.full_clean()
    assert "day" in error.value.message_dict


def test_it_refuses_two_items_with_the_same_order_in_a_session():
    item = SessionItemFactory(order=1)
    before = _counts()
    _refused(lambda: SessionItem.objects.create(session=item.session, stretch=item.stretch, order=1, hold_seconds=20))
    assert _counts() == before
    assert SessionItem.objects.get(pk=item.pk).order == 1


@pytest.mark.parametrize(
    "prescription",
    [
        {"reps": None, "hold_seconds": None},
        {"reps": 5, "hold_seconds": 20},
        {"reps": 0, "hold_seconds": None},
        {"reps": None, "hold_seconds": 0},
        {"reps": 5, "hold_seconds": None, "sets": 0},
    ],
    ids=["neither", "both", "zero-reps", "zero-hold", "zero-sets"],
)
def test_it_refuses_an_item_without_exactly_one_positive_amount(prescription):
    session = ProgramSessionFactory()
    stretch = StretchFactory()
    before = _counts()
    _refused(lambda: SessionItem.objects.create(session=session, stretch=stretch, order=1, **prescription))
    assert _counts() == before


@pytest.mark.parametrize(
    "prescription",
    [{"default_reps": None, "default_hold_seconds": None}, {"default_reps": 5, "default_hold_seconds": 20}],
    ids=["neither", "both"],
)
def test_it_refuses_a_stretch_default_without_exactly_one_amount(prescription):
    before = _counts()
    _refused(
        lambda: Stretch.objects.create(name="X", slug="x", summary="x", steps="x", position="seated", **prescription)
    )
    assert _counts() == before


def test_it_explains_a_missing_amount_in_form_validation():
    item = SessionItem(session=ProgramSessionFactory(), stretch=StretchFactory(), order=1)
    with pytest.raises(ValidationError, match="either repetitions or a hold time"):
        item.full_clean()


def test_it_refuses_a_second_current_enrolment_in_the_same_program():
    enrolment = EnrolmentFactory()
    before = _counts()
    _refused(
        lambda: Enrolment.objects.create(
            member=enrolment.member,
            program=enrolment.program,
            start_date=D(2026, 4, 1),
            reminder_time=dt.time(9),
            status=Enrolment.Status.PAUSED,
            paused_on=D(2026, 4, 2),
        )
    )
    assert _counts() == before


def test_it_allows_a_new_enrolment_after_leaving_and_other_members_alongside():
    enrolment = EnrolmentFactory(status=Enrolment.Status.LEFT)
    again = EnrolmentFactory(member=enrolment.member, program=enrolment.program)
    EnrolmentFactory(program=enrolment.program)
    # A finished run and a current one, side by side.
    assert again.status == Enrolment.Status.ACTIVE
    assert Enrolment.objects.filter(program=enrolment.program).count() == 3


def test_it_refuses_a_pause_without_its_start_date():
    enrolment = EnrolmentFactory()
    _refused(lambda: Enrolment.objects.filter(pk=enrolment.pk).update(status=Enrolment.Status.PAUSED))
    assert Enrolment.objects.get(pk=enrolment.pk).status == Enrolment.Status.ACTIVE


def test_it_refuses_a_second_completion_of_the_same_session():
    completion = CompletionFactory()
    before = _counts()
    _refused(
        lambda: Completion.objects.create(enrolment=completion.enrolment, program_session=completion.program_session)
    )
    assert _counts() == before


@pytest.mark.parametrize("field", ["pain_before", "pain_after"])
def test_it_refuses_pain_above_ten(field):
    completion = CompletionFactory()
    _refused(lambda: Completion.objects.filter(pk=completion.pk).update(**{field: 11}))


def _history():
    program = build_program(weeks=1, days=(1,), items_per_session=1)
    session = program.sessions.get()
    enrolment = EnrolmentFactory(program=program)
    CompletionFactory(enrolment=enrolment, program_session=session, pain_before=4, note="Felt fine")
    return program, session


def test_it_refuses_to_delete_a_stretch_used_in_a_session():
    program, session = _history()
    stretch = session.items.get().stretch
    before = _counts()
    with pytest.raises(ProtectedError), transaction.atomic():
        stretch.delete()
    assert _counts() == before


def test_it_refuses_to_delete_a_session_members_have_done_and_keeps_their_history():
    program, session = _history()
    before = _counts()
    with pytest.raises(ProtectedError), transaction.atomic():
        session.delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        program.delete()
    assert _counts() == before
    completion = Completion.objects.get()
    assert (completion.pain_before, completion.note) == (4, "Felt fine")


def test_it_keeps_a_deleted_members_history_anonymously():
    program, session = _history()
    member = Enrolment.objects.get().member
    member.delete()
    enrolment = Enrolment.objects.get()
    assert enrolment.member is None
    assert enrolment.completions.count() == 1


def test_it_deletes_an_unused_session_with_its_items():
    session = SessionItemFactory().session
    session.delete()
    assert SessionItem.objects.count() == 0
    assert Stretch.objects.count() == 1


# --- Dates from the schedule rules -----------------------------------------------------------------


def test_it_places_a_session_on_its_program_day():
    enrolment = EnrolmentFactory.build(start_date=D(2026, 3, 2))
    session = ProgramSession(week=2, day=3)
    assert session.day_number == 10
    assert enrolment.date_of_session(session) == D(2026, 3, 11)


def test_it_crosses_month_year_and_leap_day_boundaries():
    assert EnrolmentFactory.build(start_date=D(2026, 12, 28)).date_of_day(5) == D(2027, 1, 1)
    assert EnrolmentFactory.build(start_date=D(2028, 2, 27)).date_of_day(3) == D(2028, 2, 29)
    assert EnrolmentFactory.build(start_date=D(2027, 2, 27)).date_of_day(3) == D(2027, 3, 1)


def test_it_shifts_days_after_a_finished_pause_across_the_new_year():
    enrolment = EnrolmentFactory.build(start_date=D(2026, 12, 28), pauses=[{"started_on": "2026-12-30", "days": 3}])
    assert enrolment.date_of_day(2) == D(2026, 12, 29)
    assert enrolment.date_of_day(3) == D(2027, 1, 2)
    assert enrolment.date_of_day(10) == D(2027, 1, 9)
    assert enrolment.paused_days == 3


def test_it_adds_up_several_pauses():
    enrolment = EnrolmentFactory.build(
        start_date=D(2026, 1, 29),
        pauses=[{"started_on": "2026-01-31", "days": 2}, {"started_on": "2026-02-10", "days": 5}],
    )
    assert enrolment.date_of_day(2) == D(2026, 1, 30)
    assert enrolment.date_of_day(3) == D(2026, 2, 2)
    # Day 12 would be Feb 9, then Feb 11 after the first pause, which is after the second began.
    assert enrolment.date_of_day(12) == D(2026, 2, 16)


def test_it_counts_an_open_pause_up_to_today():
    enrolment = EnrolmentFactory.build(
        start_date=D(2027, 2, 25), status=Enrolment.Status.PAUSED, paused_on=D(2027, 2, 27)
    )
    today = D(2027, 3, 1)
    assert enrolment.date_of_day(2, today=today) == D(2027, 2, 26)
    # Resuming tomorrow (March 2) at the earliest: day 3 moves from Feb 27 to March 2.
    assert enrolment.date_of_day(3, today=today) == D(2027, 3, 2)
    assert enrolment.date_of_day(4, today=today) == D(2027, 3, 3)


@pytest.mark.parametrize(
    ("prescription", "text"),
    [
        ({"sets": 1, "reps": 5, "hold_seconds": None, "per_side": False}, "5 reps"),
        ({"sets": 1, "reps": None, "hold_seconds": 20, "per_side": True}, "20 s hold per side"),
        ({"sets": 3, "reps": 8, "hold_seconds": None, "per_side": False}, "3 × 8 reps"),
        ({"sets": 2, "reps": None, "hold_seconds": 30, "per_side": True}, "2 × 30 s hold per side"),
    ],
)
def test_it_says_a_prescription_in_words(prescription, text):
    assert prescription_text(**prescription) == text


def test_a_stretch_says_its_default_prescription_the_same_way():
    stretch = StretchFactory.build(default_sets=2, default_reps=None, default_hold_seconds=30, per_side=True)
    assert stretch.default_prescription_text == "2 × 30 s hold per side"
