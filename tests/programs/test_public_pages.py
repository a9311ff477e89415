"""Home, catalogue, program page and the staff preview."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from programs.models import BodyArea, Program
from tests.factories import SessionItemFactory, StretchFactory, UserFactory, build_program

pytestmark = pytest.mark.django_db

# Pinned: a program page is one query for the program, one per level below it.
HOME_QUERIES = 2  # programs with their shape, body areas of all of them
CATALOGUE_QUERIES = 4  # + the chosen body area, and the choices of the filter form
DETAIL_QUERIES = 5  # program + author, sessions, items + stretches, stretch body areas, stretch pictures


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seeded(db):
    call_command("seed_demo", "--no-logins", stdout=open("/dev/null", "w"))
    return Program.objects.get(slug="lower-back-relief")


def test_it_lists_the_seed_program_on_the_home_page(client, seeded):
    content = client.get(reverse("home")).content.decode()
    assert "Lower back relief" in content
    assert seeded.get_absolute_url() in content
    assert "4 weeks" in content and "4 sessions a week" in content
    assert "Hamstrings" in content and "Beginner" in content.title()


def test_it_renders_the_seed_program_page(client, seeded):
    response = client.get(seeded.get_absolute_url())
    assert response.status_code == 200
    content = response.content.decode()
    for text in ("Week 1", "Week 4", "Rest day", "Cat–cow", "5 reps", "20 s hold per side", "Before you start"):
        assert text in content, text
    # Cautions are on the page, in their own callout.
    assert "never the foot" in content
    assert content.count("callout--caution") >= 5
    # Days run 1..28 across the weeks, rest days included.
    assert "Day 28" in content and "Day 3<" in content


def test_it_shows_items_in_their_session_order(client):
    program = build_program(weeks=1, days=(1,), items_per_session=0)
    session = program.sessions.get()
    SessionItemFactory(session=session, order=2, stretch=StretchFactory(name="Second stretch"))
    SessionItemFactory(session=session, order=1, stretch=StretchFactory(name="First stretch"))
    content = client.get(program.get_absolute_url()).content.decode()
    assert content.index("First stretch") < content.index("Second stretch")


@pytest.mark.parametrize("status", [Program.Status.DRAFT, Program.Status.ARCHIVED])
def test_it_hides_unpublished_programs_from_the_public(client, status):
    program = build_program(status=status, title="Secret plan")
    assert client.get(program.get_absolute_url()).status_code == 404
    assert "Secret plan" not in client.get(reverse("home")).content.decode()
    assert "Secret plan" not in client.get(reverse("programs:catalogue")).content.decode()


def test_it_returns_404_for_an_unknown_program(client):
    assert client.get(reverse("programs:detail", kwargs={"slug": "nope"})).status_code == 404


def test_it_shows_a_draft_to_staff_in_the_preview(client, trainer):
    program = build_program(status=Program.Status.DRAFT, title="Work in progress")
    client.force_login(trainer)
    response = client.get(reverse("programs:preview", kwargs={"slug": program.slug}))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Preview — draft program" in content
    assert "Work in progress" in content
    # Staff still get a 404 on the public address of a draft: what members see.
    assert client.get(program.get_absolute_url()).status_code == 404


def test_it_keeps_members_and_visitors_out_of_the_preview(client):
    program = build_program(status=Program.Status.DRAFT)
    url = reverse("programs:preview", kwargs={"slug": program.slug})
    assert client.get(url).status_code == 302
    client.force_login(UserFactory())
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_it_escapes_what_trainers_write(client):
    program = build_program(title="<script>alert(1)</script>", summary="<b>bold</b>")
    content = client.get(program.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;" in content and "&lt;b&gt;bold" in content


# --- Catalogue filters ---------------------------------------------------------------------------


@pytest.fixture
def catalogue(db):
    hips, neck = BodyArea.objects.get(slug="hips"), BodyArea.objects.get(slug="neck")
    short = build_program(weeks=2, title="Short hips", level="beginner", items_per_session=0)
    long = build_program(weeks=6, title="Long neck", level="intermediate", items_per_session=0)
    for program, area in ((short, hips), (long, neck)):
        stretch = StretchFactory(body_areas=[area])
        for session in program.sessions.all():
            SessionItemFactory(session=session, stretch=stretch, order=1)
    return short, long


def _titles(client, **params):
    response = client.get(reverse("programs:catalogue"), params)
    assert response.status_code == 200
    return [card.program.title for card in response.context["cards"]]


def test_it_filters_the_catalogue(client, catalogue):
    assert _titles(client) == ["Long neck", "Short hips"]
    assert _titles(client, body_area="hips") == ["Short hips"]
    assert _titles(client, level="intermediate") == ["Long neck"]
    assert _titles(client, length="1-2") == ["Short hips"]
    assert _titles(client, length="5-8") == ["Long neck"]
    assert _titles(client, body_area="neck", level="beginner") == []


def test_it_explains_a_bad_filter_instead_of_failing(client, catalogue):
    response = client.get(reverse("programs:catalogue"), {"body_area": "elbow", "length": "many"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_it_keeps_the_chosen_filters_in_the_form(client, catalogue):
    content = client.get(reverse("programs:catalogue"), {"level": "intermediate"}).content.decode()
    assert '<option value="intermediate" selected>' in content
    assert "1 program matches your filters" in content


# --- Query counts --------------------------------------------------------------------------------


def _many_programs(count):
    stretch = StretchFactory()
    for _ in range(count):
        program = build_program(weeks=2, days=(1, 3), items_per_session=0)
        for session in program.sessions.all():
            SessionItemFactory(session=session, stretch=stretch, order=1)


@pytest.mark.parametrize("count", [2, 20])
def test_it_lists_programs_in_a_fixed_number_of_queries(client, django_assert_num_queries, count):
    _many_programs(count)
    with django_assert_num_queries(HOME_QUERIES):
        assert client.get(reverse("home")).status_code == 200
    with django_assert_num_queries(CATALOGUE_QUERIES):
        assert (
            client.get(reverse("programs:catalogue"), {"body_area": "lower-back", "length": "1-2"}).status_code == 200
        )


@pytest.mark.parametrize("weeks", [1, 8])
def test_it_renders_a_program_page_in_a_fixed_number_of_queries(client, django_assert_num_queries, weeks):
    program = build_program(weeks=weeks, days=(1, 3, 5), items_per_session=3)
    with django_assert_num_queries(DETAIL_QUERIES):
        assert client.get(program.get_absolute_url()).status_code == 200


def test_it_renders_the_seed_program_page_in_a_fixed_number_of_queries(client, seeded, django_assert_num_queries):
    with django_assert_num_queries(DETAIL_QUERIES):
        client.get(seeded.get_absolute_url())


def test_it_previews_in_a_fixed_number_of_queries(client, trainer, django_assert_max_num_queries):
    client.force_login(trainer)
    small = build_program(weeks=1, status=Program.Status.DRAFT)
    big = build_program(weeks=8, days=(1, 2, 3, 4, 5), status=Program.Status.DRAFT)
    counts = []
    for program in (small, big):
        with django_assert_max_num_queries(10) as captured:
            client.get(reverse("programs:preview", kwargs={"slug": program.slug}))
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_it_marks_rest_days_between_sessions(client):
    program = build_program(weeks=1, days=(2, 5), items_per_session=1)
    page = client.get(program.get_absolute_url()).context["page"]
    assert [day.is_rest for day in page.weeks[0].days] == [True, False, True, True, False, True, True]
