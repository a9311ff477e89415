import datetime as dt
import re

import pytest
from django.urls import reverse

import programs.admin_adherence  # noqa: F401  (registers the view even before programs.admin imports it)
from programs import selectors, services
from programs.models import Completion, Enrolment
from tests.factories import EnrolmentFactory, TrainerFactory, UserFactory, build_program

D = dt.date
NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)
TODAY = D(2026, 3, 20)
URL = "admin:programs_enrolment_changelist"


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def program(trainer):
    # Sessions on days 1, 3 and 5 of three weeks.
    return build_program(weeks=3, days=(1, 3, 5), items_per_session=1, author=trainer, title="Trainer's back plan")


@pytest.fixture
def trainer_client(client, trainer):
    client.force_login(trainer)
    return client


def _sessions(program):
    return list(program.sessions.order_by("week", "day"))


def _tick(enrolment, session, *, at, pain=None):
    return Completion.objects.create(
        enrolment=enrolment, program_session=session, completed_at=at, pain_before=pain, pain_after=pain
    )


def _member_enrolled(program, name, *, start, done=(), pain=None, at=None):
    member = UserFactory(username=name, display_name=name.title(), timezone="Europe/London")
    enrolment = EnrolmentFactory(member=member, program=program, start_date=start)
    sessions = _sessions(program)
    for index in done:
        _tick(enrolment, sessions[index], at=at or NOW - dt.timedelta(days=1), pain=pain)
    return enrolment


def _rows(response) -> list[str]:
    html = response.content.decode()
    if "<tbody>" not in html:
        return []
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", "<tr" + row)).strip() for row in body.split("<tr")[1:]]


def _names(response) -> list[str]:
    return [row.split()[0] for row in _rows(response)]


def test_a_trainer_sees_members_of_their_own_programs_only(trainer_client, program):
    _member_enrolled(program, "mine", start=TODAY)
    other_program = build_program(weeks=1, days=(1,), author=TrainerFactory(), title="Someone else's")
    _member_enrolled(other_program, "theirs", start=TODAY)
    response = trainer_client.get(reverse(URL))
    assert response.status_code == 200
    assert _names(response) == ["Mine"]


def test_a_superuser_sees_every_program(client, program):
    _member_enrolled(program, "mine", start=TODAY)
    _member_enrolled(build_program(weeks=1, days=(1,), title="Other"), "theirs", start=TODAY)
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert sorted(_names(client.get(reverse(URL)))) == ["Mine", "Theirs"]


def test_members_cannot_open_the_trainers_view(client, alice):
    client.force_login(alice)
    assert client.get(reverse(URL)).status_code == 302


def test_it_shows_the_same_adherence_the_member_sees(trainer_client, program):
    # Started 2 March: 2, 4, 6, 9, 11, 13, 16, 18 March were due (8); 6 done, then a pause.
    enrolment = _member_enrolled(program, "sam", start=D(2026, 3, 2), done=(0, 1, 2, 4, 5, 6), pain=3)
    services.enrolment_pause(enrolment=enrolment, today=D(2026, 3, 17))
    services.enrolment_resume(enrolment=enrolment, today=D(2026, 3, 19))
    enrolment.refresh_from_db()
    member_view = selectors.enrolment_progress(
        enrolment=selectors.member_enrolments(member=enrolment.member).get(pk=enrolment.pk), today=TODAY
    ).progress
    response = trainer_client.get(reverse(URL))
    row = _rows(response)[0]
    adherence = member_view.adherence
    assert f"{adherence.percent}%" in row
    assert f"{adherence.done} of {adherence.due} due sessions done" in response.content.decode()
    assert f"{member_view.done}/{member_view.total}" in row
    assert f"{member_view.current_streak} ({member_view.best_streak})" in row
    assert "3/10" in row
    assert "1 day ago" in row


def test_the_slipped_filter_finds_inactive_members_and_high_pain(trainer_client, program):
    _member_enrolled(program, "quiet", start=D(2026, 3, 2), done=(0,), at=NOW - dt.timedelta(days=12))
    _member_enrolled(program, "hurting", start=D(2026, 3, 2), done=(0, 1, 2), pain=8)
    _member_enrolled(program, "steady", start=D(2026, 3, 2), done=(0, 1, 2, 3), pain=2)
    _member_enrolled(program, "newcomer", start=D(2026, 3, 17))  # nothing done yet, but only 3 days in
    paused = _member_enrolled(program, "resting", start=D(2026, 3, 2), done=(0,), at=NOW - dt.timedelta(days=12))
    paused.status, paused.paused_on = Enrolment.Status.PAUSED, D(2026, 3, 9)
    paused.save()

    slipped = trainer_client.get(reverse(URL), {"slipped": "yes"})
    assert sorted(_names(slipped)) == ["Hurting", "Quiet"]
    rows = " ".join(_rows(slipped))
    assert "no session for 7+ days" in rows and "pain 7+ this week" in rows
    assert sorted(_names(trainer_client.get(reverse(URL), {"slipped": "no"}))) == ["Newcomer", "Resting", "Steady"]


def test_old_high_pain_does_not_count_as_slipping(trainer_client, program):
    enrolment = _member_enrolled(program, "recovered", start=D(2026, 3, 2), done=(0,), pain=9)
    enrolment.completions.update(completed_at=NOW - dt.timedelta(days=10))
    _tick(enrolment, _sessions(program)[1], at=NOW - dt.timedelta(days=1), pain=2)
    assert _names(trainer_client.get(reverse(URL), {"slipped": "yes"})) == []


def test_it_sorts_by_adherence_computed_from_the_schedule(trainer_client, program):
    _member_enrolled(program, "half", start=D(2026, 3, 9), done=(3, 4))  # 2 of 4 due
    _member_enrolled(program, "all", start=D(2026, 3, 9), done=(0, 1, 2, 3))  # 4 of 4
    _member_enrolled(program, "none", start=D(2026, 3, 9))  # 0 of 4
    column = "2"  # adherence, in list_display order
    assert _names(trainer_client.get(reverse(URL), {"o": column})) == ["None", "Half", "All"]
    assert _names(trainer_client.get(reverse(URL), {"o": f"-{column}"})) == ["All", "Half", "None"]


def test_it_sorts_by_latest_pain_in_the_database(trainer_client, program):
    _member_enrolled(program, "mild", start=D(2026, 3, 9), done=(0,), pain=2)
    _member_enrolled(program, "severe", start=D(2026, 3, 9), done=(0,), pain=8)
    assert _names(trainer_client.get(reverse(URL), {"o": "-6"})) == ["Severe", "Mild"]


def test_it_keeps_a_deleted_members_history_in_the_figures(trainer_client, program):
    enrolment = _member_enrolled(program, "gone", start=D(2026, 3, 9), done=(0, 1))
    enrolment.member.delete()
    row = _rows(trainer_client.get(reverse(URL)))[0]
    assert "(deleted account)" in row
    assert "2/9" in row


def test_it_is_read_only(trainer_client, program):
    enrolment = _member_enrolled(program, "sam", start=TODAY)
    assert trainer_client.get(reverse("admin:programs_enrolment_add")).status_code == 403
    change = reverse("admin:programs_enrolment_change", args=[enrolment.pk])
    assert trainer_client.get(change).status_code == 200
    trainer_client.post(change, {"status": "left"})
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE


@pytest.mark.parametrize("members", [2, 25])
@pytest.mark.parametrize(("order", "queries"), [("", 10), ("2", 9)])
def test_the_changelist_does_not_query_per_row(
    trainer_client, program, django_assert_num_queries, members, order, queries
):
    for n in range(members):
        _member_enrolled(program, f"member{n:02}", start=D(2026, 3, 2), done=(0, 1, 2), pain=n % 10)
    # Session, user, permissions (2), filter choices, counts (two in the database,
    # one when sorted in Python), the rows, two prefetches.
    with django_assert_num_queries(queries):
        response = trainer_client.get(reverse(URL), {"o": order} if order else {})
    assert len(_rows(response)) == members
