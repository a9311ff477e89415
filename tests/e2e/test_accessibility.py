"""axe-core's WCAG 2.2 AA rules find nothing on the admin pages trainers use or on the member pages.

Each page is opened in headless Chromium as the person who uses it, with real
content in it, and screenshots land in test-artifacts/ (accessibility-*.png).
"""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from programs import services
from programs.models import ProgramSession, Stretch
from tests.factories import (
    BodyAreaFactory,
    ProgramFactory,
    ProgramSessionFactory,
    SessionItemFactory,
    StretchFactory,
    TrainerFactory,
    UserFactory,
)

from .axe import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalogue(db):
    """A trainer's published program of two sessions, their stretches in three body areas."""
    trainer = TrainerFactory(username="tina", display_name="Tina Trainer")
    areas = [
        BodyAreaFactory(name="Lower back", slug="lower-back"),
        BodyAreaFactory(name="Hips", slug="hips"),
        BodyAreaFactory(name="Hamstrings", slug="hamstrings"),
    ]
    cat_cow = StretchFactory(
        name="Cat–cow",
        slug="cat-cow",
        position=Stretch.Position.ALL_FOURS,
        equipment=Stretch.Equipment.MAT,
        cautions="Stay within a range that feels easy.",
        body_areas=areas[:1],
    )
    hip = StretchFactory(
        name="Seated hip stretch", slug="seated-hip", position=Stretch.Position.SEATED, per_side=True, body_areas=areas
    )
    program = ProgramFactory(title="Lower back relief", slug="lower-back-relief", author=trainer)
    for day, title in ((1, "Getting started"), (3, "The whole routine")):
        session = ProgramSessionFactory(program=program, week=1, day=day, title=title)
        SessionItemFactory(session=session, stretch=cat_cow, order=1, hold_seconds=None, reps=5)
        SessionItemFactory(session=session, stretch=hip, order=2, hold_seconds=20, per_side=True)
    return {"trainer": trainer, "program": program, "stretch": hip}


def _log_in(page, live_server, user):
    client = Client()
    client.force_login(user)
    cookie = {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}
    page.context.add_cookies([cookie])


def _check(page, url, name, artifacts):
    response = page.goto(url)
    assert response.status == 200, f"{url} answered {response.status}"
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts / f"accessibility-{name}.png"), full_page=True)
    assert_accessible(page, f"{name} ({url})")


# --- The trainers' admin -------------------------------------------------------------------------


def _admin_pages(catalogue) -> dict[str, str]:
    program, stretch = catalogue["program"], catalogue["stretch"]
    session = ProgramSession.objects.get(program=program, day=1)
    return {
        "admin-index": reverse("admin:index"),
        "admin-program-changelist": reverse("admin:programs_program_changelist"),
        "admin-program-changelist-filtered": reverse("admin:programs_program_changelist") + "?status__exact=published",
        "admin-program-change": reverse("admin:programs_program_change", args=[program.pk]),
        "admin-program-add": reverse("admin:programs_program_add"),
        "admin-session-changelist": reverse("admin:programs_programsession_changelist"),
        "admin-session-change": reverse("admin:programs_programsession_change", args=[session.pk]),
        "admin-session-add": reverse("admin:programs_programsession_add") + f"?program={program.pk}",
        "admin-stretch-changelist": reverse("admin:programs_stretch_changelist"),
        "admin-stretch-change": reverse("admin:programs_stretch_change", args=[stretch.pk]),
        "admin-stretch-add": reverse("admin:programs_stretch_add"),
    }


ADMIN_PAGES = [
    "admin-index",
    "admin-program-changelist",
    "admin-program-changelist-filtered",
    "admin-program-change",
    "admin-program-add",
    "admin-session-changelist",
    "admin-session-change",
    "admin-session-add",
    "admin-stretch-changelist",
    "admin-stretch-change",
    "admin-stretch-add",
]


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_the_trainers_admin_page_passes_axe(page, live_server, artifacts, catalogue, name):
    _log_in(page, live_server, catalogue["trainer"])
    _check(page, live_server.url + _admin_pages(catalogue)[name], name, artifacts)


def test_the_stretch_autocomplete_passes_axe_while_open(page, live_server, artifacts, catalogue):
    from playwright.sync_api import expect

    session = ProgramSession.objects.get(program=catalogue["program"], day=1)
    _log_in(page, live_server, catalogue["trainer"])
    page.goto(live_server.url + reverse("admin:programs_programsession_change", args=[session.pk]))
    # Each combobox is named after its column, then the stretch chosen in it; so is a row added on the page.
    expect(page.get_by_role("combobox", name="Stretch Cat–cow", exact=True)).to_have_count(1)
    expect(page.get_by_role("combobox", name="Stretch", exact=True)).to_have_count(1)
    page.locator(".add-row a").click()
    expect(page.get_by_role("combobox", name="Stretch", exact=True)).to_have_count(2)
    expect(page.get_by_role("spinbutton", name="Hold seconds")).to_have_count(4)

    page.get_by_role("combobox", name="Stretch", exact=True).last.click()
    expect(page.get_by_role("searchbox", name="Search stretch")).to_be_focused()
    page.get_by_role("option", name="Cat–cow").wait_for()
    page.screenshot(path=str(artifacts / "accessibility-admin-session-autocomplete.png"), full_page=True)
    assert_accessible(page, "the session page with the stretch autocomplete open")


# --- The member pages ----------------------------------------------------------------------------


@pytest.fixture
def member(catalogue):
    alice = UserFactory(username="alice", display_name="Alice", timezone="Europe/London")
    today = dt.date.today()
    enrolment = services.enrolment_create(member=alice, program=catalogue["program"], start_date=today)
    return {"user": alice, "enrolment": enrolment}


def _member_pages(catalogue, member) -> dict[str, str]:
    program, enrolment = catalogue["program"], member["enrolment"]
    session = ProgramSession.objects.get(program=program, day=1)
    return {
        "home": reverse("home"),
        "catalogue": reverse("programs:catalogue"),
        "catalogue-filtered": reverse("programs:catalogue") + "?body_area=hips",
        "program": reverse("programs:detail", kwargs={"slug": program.slug}),
        "today": reverse("programs:dashboard"),
        "session": reverse("programs:session", kwargs={"pk": enrolment.pk, "session_pk": session.pk}),
        "progress": reverse("programs:enrolment", kwargs={"pk": enrolment.pk}),
        "settings": reverse("accounts:settings"),
    }


MEMBER_PAGES = ["home", "catalogue", "catalogue-filtered", "program", "today", "session", "progress", "settings"]


@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize("name", MEMBER_PAGES)
def test_the_member_page_passes_axe(page, live_server, artifacts, catalogue, member, name, width):
    """At desktop and phone width: targets and contrast change with the layout."""
    page.set_viewport_size({"width": width, "height": 900})
    _log_in(page, live_server, member["user"])
    _check(page, live_server.url + _member_pages(catalogue, member)[name], f"member-{name}-{width}", artifacts)


def test_the_enrol_page_passes_axe(page, live_server, artifacts, catalogue):
    newcomer = UserFactory(username="nina", display_name="Nina")
    _log_in(page, live_server, newcomer)
    url = reverse("programs:enrol", kwargs={"slug": catalogue["program"].slug})
    _check(page, live_server.url + url, "member-enrol", artifacts)


def test_the_guided_player_passes_axe(page, live_server, artifacts, catalogue, member):
    _log_in(page, live_server, member["user"])
    page.goto(live_server.url + _member_pages(catalogue, member)["session"])
    page.get_by_role("button", name="Start guided session").click()
    page.get_by_role("heading", name="Guided session").wait_for()
    page.screenshot(path=str(artifacts / "accessibility-member-player.png"), full_page=True)
    assert_accessible(page, "the session page with the guided player open")


@pytest.mark.parametrize("name", ["login", "signup", "password_reset"])
def test_the_visitor_page_passes_axe(page, live_server, artifacts, catalogue, name):
    _check(page, live_server.url + reverse(f"accounts:{name}"), f"visitor-{name}", artifacts)


def test_a_form_with_errors_passes_axe(page, live_server, artifacts, db):
    page.goto(live_server.url + reverse("accounts:login"))
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts / "accessibility-visitor-login-error.png"), full_page=True)
    assert_accessible(page, "the log-in page with an error")
