"""A trainer opens their members' adherence in the admin and filters for those who slipped."""

import datetime as dt

import pytest
from django.utils import timezone

import programs.admin_adherence  # noqa: F401  (registers the view even before programs.admin imports it)
from programs.models import Completion
from tests.factories import PASSWORD, EnrolmentFactory, TrainerFactory, UserFactory, build_program

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_trainer_filters_for_members_who_slipped(page, live_server, artifacts):
    trainer = TrainerFactory(username="tina", display_name="Tina Trainer")
    program = build_program(weeks=4, days=(1, 3, 5), items_per_session=2, author=trainer, title="Back basics")
    sessions = list(program.sessions.order_by("week", "day"))
    today = timezone.localdate()
    now = timezone.now()
    for name, done, pain, days_ago in [("Ada", 6, 2, 1), ("Ben", 2, 3, 12), ("Cleo", 5, 8, 2), ("Dev", 0, None, 0)]:
        member = UserFactory(username=name.lower(), display_name=name)
        enrolment = EnrolmentFactory(member=member, program=program, start_date=today - dt.timedelta(days=16))
        for session in sessions[:done]:
            Completion.objects.create(
                enrolment=enrolment,
                program_session=session,
                completed_at=now - dt.timedelta(days=days_ago),
                pain_before=pain,
                pain_after=pain,
            )

    page.goto(f"{live_server.url}/admin/login/?next=/admin/programs/enrolment/")
    page.get_by_label("Username").fill("tina")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Members' adherence to your programs").wait_for()
    assert page.locator("#result_list tbody tr").count() == 4
    page.screenshot(path=str(artifacts / "trainer-adherence-desktop.png"), full_page=True)

    page.get_by_role("link", name="Slipped (no session for 7 days, or pain 7+ this week)").click()
    rows = page.locator("#result_list tbody tr")
    assert sorted(rows.locator("th, td.field-member_name").all_inner_texts()) == ["Ben", "Cleo", "Dev"]
    page.screenshot(path=str(artifacts / "trainer-adherence-slipped.png"), full_page=True)
