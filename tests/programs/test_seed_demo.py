"""seed_demo: idempotent, faithful to the seed text, and no known passwords on a real server."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from accounts.models import User
from programs.models import BodyArea, Program, ProgramSession, SessionItem, Stretch, StretchImage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot():
    """Every row (all columns) the command can touch."""
    tables = [
        Stretch.objects.order_by("pk"),
        Stretch.body_areas.through.objects.order_by("pk"),
        Program.objects.order_by("pk"),
        ProgramSession.objects.order_by("pk"),
        SessionItem.objects.order_by("pk"),
        StretchImage.objects.order_by("pk"),
        User.objects.order_by("pk"),
        User.groups.through.objects.order_by("pk"),
        Group.objects.order_by("pk"),
    ]
    return [list(queryset.values()) for queryset in tables]


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def test_it_changes_no_row_when_run_twice(debug):
    seed()
    first = snapshot()
    seed()
    assert snapshot() == first
    assert Stretch.objects.count() == 4 and SessionItem.objects.count() > 0


def test_it_restores_the_demo_content_after_edits(debug):
    seed()
    first = snapshot()
    program = Program.objects.get(slug="lower-back-relief")
    SessionItem.objects.filter(session__program=program, order=1).update(reps=99)
    Stretch.objects.filter(slug="cat-cow").update(cautions="")
    seed()
    restored = snapshot()
    # Same content; only the edited and restored rows' updated_at and version move forward.
    for rows in restored + first:
        for row in rows:
            row.pop("updated_at", None)
            row.pop("version", None)
    assert restored == first


def test_it_prints_the_demo_logins_that_work(debug, client):
    output = seed()
    assert "member / stretch-member-demo" in output
    assert "trainer / stretch-trainer-demo" in output
    member = User.objects.get(username="member")
    assert (member.timezone, member.is_staff) == ("Europe/London", False)
    assert member.email_verified_at is not None
    trainer = User.objects.get(username="trainer")
    assert trainer.is_staff and not trainer.is_superuser
    assert trainer.groups.filter(name="Trainers").exists()
    assert User.objects.get(username="admin").is_superuser
    assert client.login(username="trainer", password="stretch-trainer-demo")
    assert Program.objects.get(slug="lower-back-relief").author == trainer


def test_it_refuses_demo_logins_with_debug_off(settings):
    settings.DEBUG = False
    output = seed()
    assert User.objects.count() == 0
    assert "no demo logins were created" in output
    # The content is loaded all the same.
    assert Program.objects.get(slug="lower-back-relief").status == Program.Status.PUBLISHED


def test_it_makes_no_logins_when_asked(debug):
    seed("--no-logins")
    assert User.objects.count() == 0


@pytest.fixture
def program(db):
    seed("--no-logins")
    return Program.objects.get(slug="lower-back-relief")


def test_it_publishes_a_four_week_program_with_rest_days(program):
    assert program.status == Program.Status.PUBLISHED
    assert max(program.sessions.values_list("week", flat=True)) == 4
    for week in range(1, 5):
        days = set(program.sessions.filter(week=week).values_list("day", flat=True))
        assert 3 <= len(days) <= 4
        # A rest day between sessions: never more than two days in a row.
        assert not any({d, d + 1, d + 2} <= days for d in days)
    assert not program.sessions.filter(items__isnull=True).exists()


def test_it_uses_all_four_stretches(program):
    used = set(SessionItem.objects.filter(session__program=program).values_list("stretch__slug", flat=True))
    assert used == set(Stretch.objects.values_list("slug", flat=True))
    assert Stretch.objects.filter(status=Stretch.Status.PUBLISHED).count() == 4


def test_it_holds_for_twenty_seconds(program):
    holds = set(SessionItem.objects.exclude(hold_seconds=None).values_list("hold_seconds", flat=True))
    assert holds == {20}
    for slug in ("bar-hang", "seated-hip-stretch", "crossed-leg-hamstring-stretch"):
        assert Stretch.objects.get(slug=slug).default_hold_seconds == 20


def test_it_keeps_cat_cow_between_five_and_ten_cycles(program):
    cat_cow = Stretch.objects.get(slug="cat-cow")
    assert "5 to 10" in cat_cow.steps
    reps = list(
        SessionItem.objects.filter(stretch=cat_cow)
        .order_by("session__week", "session__day")
        .values_list("reps", flat=True)
    )
    assert min(reps) == 5 and max(reps) == 10
    assert reps == sorted(reps)  # a progression, never a step back
    assert "hands" in cat_cow.steps and "knees" in cat_cow.steps
    assert "breath" in cat_cow.cues


def test_it_does_the_hip_and_hamstring_stretches_on_each_side(program):
    for slug in ("seated-hip-stretch", "crossed-leg-hamstring-stretch"):
        stretch = Stretch.objects.get(slug=slug)
        assert stretch.per_side
        assert not stretch.session_items.filter(per_side=False).exists()


def test_it_warns_against_resting_the_foot_on_the_knee(program):
    hip = Stretch.objects.get(slug="seated-hip-stretch")
    assert "ankle, not the foot" in hip.steps
    assert any("never the foot" in caution and "ankle" in caution for caution in hip.caution_list)


def test_it_offers_the_easier_straight_leg_hamstring_variant(program):
    hamstring = Stretch.objects.get(slug="crossed-leg-hamstring-stretch")
    assert "Easier version" in hamstring.steps and "straight" in hamstring.steps
    assert any("straight-leg" in caution for caution in hamstring.caution_list)


def test_it_hangs_with_bent_knees_from_a_pull_up_bar(program):
    hang = Stretch.objects.get(slug="bar-hang")
    assert hang.equipment == Stretch.Equipment.PULL_UP_BAR
    assert "bend your knees" in hang.steps
    assert hang.caution_list


def test_it_progresses_from_gentle_single_sets_to_two_sets(program):
    week_one = SessionItem.objects.filter(session__program=program, session__week=1)
    week_four = SessionItem.objects.filter(session__program=program, session__week=4)
    assert set(week_one.values_list("sets", flat=True)) == {1}
    assert set(week_four.values_list("sets", flat=True)) == {2}


def test_it_loads_the_program_complete_in_german(db):
    from django.utils import translation

    from programs.admin_translation import missing_german

    call_command("seed_demo", "--no-logins", stdout=StringIO())

    program = Program.objects.get(slug="lower-back-relief")
    rows = [
        program,
        *program.sessions.all(),
        *Stretch.objects.all(),
        *SessionItem.objects.filter(session__program=program),
        *StretchImage.objects.all(),
    ]
    rows += list(BodyArea.objects.filter(stretches__isnull=False).distinct())
    assert [(row, missing_german(row)) for row in rows if missing_german(row)] == []
    with translation.override("de"):
        assert program.title == "Entlastung für den unteren Rücken"
        assert Stretch.objects.get(slug="cat-cow").name == "Katze-Kuh"
        cow = StretchImage.objects.filter(stretch__slug="cat-cow").first()
        assert cow.caption == "Einatmen: Kuh, der Rücken sinkt ins Hohlkreuz."
    with translation.override("en"):
        assert program.title == "Lower back relief"
